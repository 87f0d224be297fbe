"""Triage: emergency recall, false alarms and category accuracy on held-out messages in en/es/fr.

Messages: benchmarks/data/triage/messages.yml (written apart from the rules, never used to write
them). Each is an emergency of a kind (gas, power_line, fire, flood, injury, danger, self_harm) or
a routine message of a category (a service code, billing, renewal or general); many routine ones
only look alarming ("the fire hydrant is leaking", "power bill too high").

Compared in the same run: the deployed rules (triage.triage on the text alone, as the handoff
service sees a relayed message) and a baseline of the obvious words (fire, gas, smoke, flood,
hurt, suicide ... in the three languages). Targets (issue 6): emergency recall 100%, false alarms
<= 2% of routine messages, category accuracy >= 95% on routine messages.
Results: benchmarks/results/triage.{json,md}.

    .venv/bin/python -m benchmarks.triage
"""

from __future__ import annotations

import json
import platform
import re
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import numpy as np
import yaml

from bot.text import clean_text, fold
from retrieval.embedders import Embedder, load_embedder
from stack.settings import ROOT
from stack.train import TRAINING_DATA
from triage import default_catalogue, default_config, triage
from triage.model import EmergencyModel, load_examples

DATA = ROOT / "benchmarks" / "data" / "triage"
# messages.yml: the rules were written, then tuned on it. fresh.yml: written blind after that tuning
# (first run recorded in the report), then used to tune the rules again. Both are the emergency
# model's training examples (bot/data/triage/examples.yml). final.yml: written blind after the rules
# and the model were done, never used for either: the honest estimate.
SETS = {
    "final.yml (held out from everything)": "final.yml",
    "fresh.yml (rules tuned on it; the model's training data)": "fresh.yml",
    "messages.yml (rules tuned on it; the model's training data)": "messages.yml",
}
RESULTS = ROOT / "benchmarks" / "results"
TARGETS = {"emergency_recall": 1.0, "false_alarm_rate": 0.02, "category_accuracy": 0.95}
OBVIOUS = re.compile(
    r"\b(fire|smoke|gas|flood\w*|hurt|injured|bleeding|suicide|kill|gun|knife|sparking|wires? down|"
    r"incendio|fuego|humo|gas|inundaci\w+|herid\w+|sangr\w+|suicid\w+|matar|pistola|cuchillo|cables? caidos?|"
    r"feu|incendie|fumee|gaz|inond\w+|blesse\w*|saigne|suicid\w+|tuer|arme|couteau|fils? tombes?)\b"
)

Predict = Callable[[str], tuple[bool, str | None, str | None]]  # (emergency?, kind, category)


EMBEDDER = "minilm+use-multilingual"  # the NLU pipeline's featurizer (config.yml)


def deployed(text: str) -> tuple[bool, str | None, str | None]:
    result = triage(text)
    return result.is_emergency, result.emergency, None if result.is_emergency else result.category


def train_model(embedder: Embedder) -> EmergencyModel:
    """The emergency model as `make train` builds it: the examples, and every NLU example as routine."""
    from rasa.shared.nlu.training_data.loading import load_data

    texts, kinds = load_examples()
    routine = [m.get("text") for path in sorted(TRAINING_DATA.glob("nlu_*.yml"))
               for m in load_data(str(path)).intent_examples if m.get("text")]
    vectors = embedder.embed([clean_text(t)[:1000] for t in [*texts, *routine]])
    hard = np.array([True] * len(texts) + [False] * len(routine))
    return EmergencyModel.fit(np.asarray(vectors, dtype=np.float32), [*kinds, *([None] * len(routine))], hard)


def with_model(model: EmergencyModel, embedder: Embedder) -> Predict:
    """The NLU pipeline's judgement: the rules, then the model for what they let through."""
    def predict(text: str) -> tuple[bool, str | None, str | None]:
        result = triage(text)
        if result.is_emergency:
            return True, result.emergency, None
        kind, _ = model.predict(np.asarray(embedder.embed([clean_text(text)[:1000]])[0], dtype=np.float32))
        return (True, kind, None) if kind else (False, None, result.category)

    return predict


def baseline(text: str) -> tuple[bool, str | None, str | None]:
    return bool(OBVIOUS.search(fold(text))), None, None


def evaluate(messages: list[dict[str, Any]], predict: Predict) -> dict[str, Any]:
    emergencies = [m for m in messages if m.get("emergency")]
    routine = [m for m in messages if not m.get("emergency")]
    missed, false_alarms, wrong_kind, wrong_category = [], [], [], []
    per_language: dict[str, Counter[str]] = {}
    started = time.perf_counter()
    for message in messages:
        flagged, kind, category = predict(message["text"])
        counts = per_language.setdefault(message["language"], Counter())
        if message.get("emergency"):
            counts["emergencies"] += 1
            counts["caught"] += flagged
            if not flagged:
                missed.append(message)
            elif kind is not None and kind != message["emergency"]:
                wrong_kind.append({**message, "found": kind})
        else:
            counts["routine"] += 1
            counts["false_alarms"] += flagged
            if flagged:
                false_alarms.append(message)
            elif category is not None:
                counts["category_right"] += category == message["category"]
                if category != message["category"]:
                    wrong_category.append({**message, "found": category})
    elapsed = time.perf_counter() - started
    caught = len(emergencies) - len(missed)
    categorised = len(routine) - len(false_alarms)
    return {
        "emergencies": len(emergencies),
        "routine": len(routine),
        "emergency_recall": caught / len(emergencies),
        "false_alarm_rate": len(false_alarms) / len(routine),
        "kind_accuracy": (caught - len(wrong_kind)) / caught if caught else 0.0,
        "category_accuracy": (categorised - len(wrong_category)) / len(routine),
        "ms_per_message": 1000 * elapsed / len(messages),
        "per_language": {code: dict(counts) for code, counts in sorted(per_language.items())},
        "missed": missed,
        "false_alarms": false_alarms,
        "wrong_kind": wrong_kind,
        "wrong_category": wrong_category,
    }


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


RULES, RULES_AND_MODEL, BASELINE = "rules only (handoff service)", "rules + model (the bot)", "baseline: obvious words"


def report(name: str, results: dict[str, dict[str, Any]], total: int) -> str:
    ours, base = results[RULES_AND_MODEL], results[BASELINE]
    met = {
        "emergency_recall": ours["emergency_recall"] >= TARGETS["emergency_recall"],
        "false_alarm_rate": ours["false_alarm_rate"] <= TARGETS["false_alarm_rate"],
        "category_accuracy": ours["category_accuracy"] >= TARGETS["category_accuracy"],
    }
    lines = [
        f"# {name}",
        "",
        f"{total} messages: {ours['emergencies']} emergencies, "
        f"{ours['routine']} routine messages. Text only, as the handoff service sees a relayed message.",
        "",
        "| | emergency recall | false alarms | emergency kind right | category accuracy | ms / message |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, result in results.items():
        category = _pct(result["category_accuracy"]) if name != BASELINE else "-"
        kind = _pct(result["kind_accuracy"]) if name != BASELINE else "-"
        lines.append(
            f"| {name} | {_pct(result['emergency_recall'])} | {_pct(result['false_alarm_rate'])} "
            f"({len(result['false_alarms'])}) | {kind} | {category} | {result['ms_per_message']:.2f} |"
        )
    lines += [
        "| target | 100% | <= 2% | | >= 95% | |",
        "",
        "Targets met (rules + model): " + ", ".join(f"{name} {'yes' if ok else 'NO'}" for name, ok in met.items()),
        "",
        "## Per language (rules + model)",
        "",
        "| language | emergencies caught | false alarms | category right |",
        "|---|---:|---:|---:|",
    ]
    for code, counts in ours["per_language"].items():
        lines.append(
            f"| {code} | {counts.get('caught', 0)}/{counts.get('emergencies', 0)} | "
            f"{counts.get('false_alarms', 0)}/{counts.get('routine', 0)} | "
            f"{counts.get('category_right', 0)}/{counts.get('routine', 0)} |"
        )
    for title, key in (
        ("Missed emergencies", "missed"),
        ("False alarms", "false_alarms"),
        ("Emergency of the wrong kind", "wrong_kind"),
        ("Wrong category", "wrong_category"),
    ):
        lines += ["", f"### {title} (rules + model): {len(ours[key])}", ""]
        for item in ours[key]:
            expected = item.get("emergency") or item.get("category")
            found = f" -> {item['found']}" if "found" in item else ""
            lines.append(f"- ({item['language']}) \"{item['text']}\": {expected}{found}")
    lines += ["", f"Baseline misses {len(base['missed'])} emergencies and raises "
              f"{len(base['false_alarms'])} false alarms."]
    return "\n".join(lines) + "\n"


def main() -> None:
    default_config(), default_catalogue()  # load before timing
    embedder = load_embedder(EMBEDDER)
    model = train_model(embedder)
    everything, sections = {}, []
    for name, filename in SETS.items():
        messages = yaml.safe_load((DATA / filename).read_text(encoding="utf-8"))["messages"]
        results = {RULES: evaluate(messages, deployed),
                   RULES_AND_MODEL: evaluate(messages, with_model(model, embedder)),
                   BASELINE: evaluate(messages, baseline)}
        everything[filename] = results
        sections.append(report(name, results, len(messages)))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "triage.json").write_text(json.dumps(everything, ensure_ascii=False, indent=2), encoding="utf-8")
    text = (
        "# Triage benchmark\n\n"
        f"Run: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        "`.venv/bin/python -m benchmarks.triage` (`make bench-triage`).\n\n"
        "History, rules only: as first written, on messages.yml: emergency recall 77.9%, false alarms 5.6%, "
        "category accuracy 75.6%. After tuning on messages.yml, on fresh.yml (then unseen): 67.6%, 5.7%, 81.2%.\n\n"
        "Emergency model threshold (cross-validated for <= 2% false alarms on the examples' routine "
        f"messages): {model.threshold:.3f}.\n\n"
        + "\n".join(sections)
    )
    (RESULTS / "triage.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
