"""Promotion, refusal and rollback of models (learning/registry.py, learning/retrain.py: compare)."""

from __future__ import annotations

import json

import pytest

from learning.evaluation import LanguageScore, score
from learning.registry import Registry, RegistryError
from learning.retrain import compare


def model(path, content: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_a_promoted_model_replaces_the_current_which_goes_to_history_and_rollback_restores_it(tmp_path):
    model(tmp_path / "citybot.tar.gz", b"model trained by make train")
    registry = Registry(tmp_path, keep=2)
    first = registry.current()
    assert first is not None and first.status == "current"

    candidate = model(tmp_path / "candidates" / "citybot-2.tar.gz", b"better model")
    record = registry.add_candidate(candidate, "data-hash", "config-hash")
    registry.promote(candidate, record, fingerprint="abc123")
    assert (tmp_path / "citybot.tar.gz").read_bytes() == b"better model"
    assert (tmp_path / "citybot.fingerprint").read_text() == "abc123\n"  # `make train` will not undo it
    assert (tmp_path / "history" / f"{first.name}.tar.gz").read_bytes() == b"model trained by make train"
    saved = json.loads((tmp_path / "manifest.json").read_text())["models"]
    assert [(m["name"], m["status"]) for m in saved] == [(first.name, "history"), ("citybot-2", "current")]

    restored = Registry(tmp_path).rollback(fingerprint="def456")  # one command, from a new process
    assert restored.name == first.name
    assert (tmp_path / "citybot.tar.gz").read_bytes() == b"model trained by make train"
    statuses = {m["name"]: m["status"] for m in json.loads((tmp_path / "manifest.json").read_text())["models"]}
    assert statuses == {first.name: "current", "citybot-2": "rolled_back"}


def test_history_keeps_the_newest_few_and_rollback_needs_one(tmp_path):
    model(tmp_path / "citybot.tar.gz", b"model 0")
    registry = Registry(tmp_path, keep=2)
    with pytest.raises(RegistryError, match="no earlier model"):
        registry.rollback("x")
    for number in range(1, 5):
        candidate = model(tmp_path / "candidates" / f"citybot-{number}.tar.gz", f"model {number}".encode())
        registry.promote(candidate, registry.add_candidate(candidate, "", ""))
    assert sorted(p.name for p in (tmp_path / "history").iterdir()) == ["citybot-2.tar.gz", "citybot-3.tar.gz"]
    assert not (tmp_path / "citybot.fingerprint").exists()  # trained from other data: `make train` decides


def test_a_candidate_worse_on_any_language_beyond_the_tolerance_is_refused():
    current = {"en": LanguageScore(90.0, 88.0, 192), "es": LanguageScore(86.0, 85.0, 192)}
    better = {"en": LanguageScore(92.5, 90.0, 192), "es": LanguageScore(85.5, 85.2, 192)}  # es -0.5: tolerated
    verdict = compare(current, better, tolerance=1.0)
    assert verdict.promote and verdict.reasons == []
    assert verdict.lines[1].split()[:5] == ["en", "192", "90.0", "92.5", "+2.5"]
    worse = {"en": LanguageScore(95.0, 94.0, 192), "es": LanguageScore(83.0, 85.0, 192)}
    verdict = compare(current, worse, tolerance=1.0)
    assert not verdict.promote
    assert verdict.reasons == ["es: accuracy 86.0 -> 83.0 (-3.0 points; tolerance 1)"]
    assert compare({}, worse, tolerance=1.0).promote  # nothing in production yet


def test_scores_are_accuracy_and_macro_f1_in_percent():
    assert score(["a", "a", "b", "b"], ["a", "a", "b", "a"]) == LanguageScore(75.0, 73.33, 4)
