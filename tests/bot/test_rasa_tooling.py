"""Rasa's own checks on our data: `rasa data validate` and the test stories."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from analytics.metrics import RATING_INTENTS
from bot.components.emergency_detector import EMERGENCY_INTENT
from bot.components.input_guard import GUARD_INTENTS
from bot.connectors.payloads import SHARE_INTENTS
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

RASA = str(Path(sys.executable).parent / "rasa")
MODEL = ROOT / "models" / "citybot.tar.gz"
ACTION_SOURCES = "\n".join(p.read_text() for p in (ROOT / "actions").glob("*.py"))
# The channels, the handoff service (it asks the Rasa server to say utter_handoff_* responses) and
# the status watcher (utter_request_status_*).
CHANNEL_SOURCES = "\n".join(
    p.read_text() for p in [*(ROOT / "bot" / "connectors").glob("*.py"), *(ROOT / "handoff").glob("*.py"),
                            ROOT / "open311" / "watcher.py"]
)


def run_rasa(*args: str, scratch: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run the rasa CLI; endpoints.yml's variables point into ``scratch``, never at the working tree."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "CITYBOT_TRACKER_DB": str(scratch / "tracker.db"),
        "CITYBOT_ACTION_ENDPOINT": "http://127.0.0.1:9/webhook",
    }
    return subprocess.run([RASA, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def used_by_actions(response: str) -> bool:
    """Responses that actions utter by name, or build by name (form questions, button labels)."""
    if response.endswith("_app"):  # the messaging apps' wording of a response (actions/reports.py: for_channel)
        return used_by_actions(response.removesuffix("_app"))
    if response.startswith(("utter_ask_", "utter_intent_label_")) or response == "utter_default":
        return True  # utter_default: Rasa's own action_default_fallback
    for built in ("utter_renewal_window_", "utter_word_status_", "utter_emergency_"):  # completed at run time
        if response.startswith(built):
            return f"{built}{{" in ACTION_SOURCES
    return f'"{response}"' in ACTION_SOURCES + CHANNEL_SOURCES


def test_rasa_data_validate_finds_nothing_wrong(tmp_path):
    result = run_rasa(
        "data", "validate", "--data", "bot/data/training", "--domain", "domain.yml", "--config", "config.yml",
        scratch=tmp_path,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    problems = []
    for warning in re.findall(r"UserWarning: (.+)", output):
        unused = re.match(r"The utterance '(\w+)' is not used in any story or rule", warning)
        if unused and used_by_actions(unused.group(1)):
            continue
        no_examples = re.match(r"The intent '(\w+)' is listed in the domain file, but is not found", warning)
        if no_examples and no_examples.group(1) in (*GUARD_INTENTS, EMERGENCY_INTENT, *SHARE_INTENTS, *RATING_INTENTS):
            continue  # set by components, channels and buttons, never learnt
        problems.append(warning)
    assert problems == []


def test_every_response_an_action_names_exists(domain):
    named = set(re.findall(r'response="(utter_\w+)"', ACTION_SOURCES))
    named |= {f"utter_renewal_window_{v}" for v in ("not_yet", "open", "grace", "closed")}
    assert named, "no responses found in actions/"
    assert sorted(named - set(domain["responses"])) == []


def test_test_stories_are_predicted_without_a_mistake(tmp_path):
    assert MODEL.exists(), "no trained model: `make test` trains it first (make train)"
    result = run_rasa(
        "test", "core", "--model", str(MODEL), "--stories", "tests/stories",
        "--fail-on-prediction-errors", "--out", str(tmp_path), scratch=tmp_path,
    )
    output = result.stdout + result.stderr
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, (output[-3000:] + "\n" + details)
    assert "Failed stories" not in details
    assert not list(ROOT.glob("$*")), "rasa wrote a file named after an unset variable into the working tree"
