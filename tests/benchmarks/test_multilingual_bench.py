"""The multilingual benchmark's data reading and scoring (no embedding model is loaded)."""

from __future__ import annotations

from pathlib import Path

import yaml

from benchmarks.multilingual import (
    gaps,
    language_scores,
    load_examples,
    meets_target,
    read_asked,
    read_nlu,
    recall_at,
    worst_intents,
)
from bot.language import LanguageConfig
from tests.conftest import ROOT

TRAINING = ROOT / "bot" / "data" / "training"


def test_reader_finds_every_intent_of_every_language_file():
    for code in LanguageConfig.from_file().codes:
        path = TRAINING / f"nlu_{code}.yml"
        declared = {block["intent"] for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]
                    if "intent" in block}
        pairs = read_nlu(path)
        assert {intent for intent, _ in pairs} == declared, code
        assert all(text and not text.startswith("-") for _, text in pairs), code


def test_reader_strips_examples_and_drops_duplicates_as_rasa_does(tmp_path: Path):
    (tmp_path / "nlu_en.yml").write_text(
        'version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n      - hello \n      - hi\n      - hello\n'
        "  - synonym: bin\n    examples: |\n      - trash can\n",
        encoding="utf-8",
    )
    (tmp_path / "nlu_es.yml").write_text(
        'version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n      - hola\n      - hi\n', encoding="utf-8"
    )
    examples, stats = load_examples(["en", "es"], tmp_path)
    assert [(e.text, e.language) for e in examples] == [("hello", "en"), ("hi", "en"), ("hola", "es")]
    assert stats["duplicates_dropped"] == {"en": 1, "es": 1}


def test_scores_are_per_language_and_gaps_are_points_from_english():
    gold = ["greet", "greet", "bye", "bye", "greet", "greet", "bye", "bye"]
    predicted = ["greet", "greet", "bye", "bye", "greet", "bye", "bye", "bye"]
    languages = ["en"] * 4 + ["es"] * 4
    scores = language_scores(gold, predicted, languages)
    assert scores["en"] == {"accuracy": 1.0, "correct": 4, "total": 4, "macro_f1": 1.0}
    assert (scores["es"]["accuracy"], scores["es"]["correct"], scores["es"]["total"]) == (0.75, 3, 4)
    assert scores["es"]["macro_f1"] == round((2 / 3 + 0.8) / 2, 4)
    gap = gaps({code: s["accuracy"] for code, s in scores.items()})
    assert gap == {"es": -25.0}
    assert not meets_target(gap["es"]) and meets_target(-3.0) and meets_target(+4.0)


def test_worst_intents_lists_lowest_recall_first_with_the_commonest_confusion():
    worst = worst_intents(["cancel", "cancel", "skip", "skip", "greet"], ["skip", "cancel", "skip", "skip", "greet"])
    assert worst[0] == {"intent": "cancel", "recall": 0.5, "examples": 2, "confused_with": "skip"}
    assert [w["intent"] for w in worst] == ["cancel", "skip", "greet"]


def test_faq_recall_counts_top_hit_and_top_three(tmp_path: Path):
    path = tmp_path / "es.yml"
    path.write_text(yaml.safe_dump({"questions": [{"id": "a", "asked": ["q1", "q2"]}, {"id": "gone", "asked": ["q3"]}],
                                    "unanswerable": ["q4"]}), encoding="utf-8")
    asked, unknown = read_asked(path, {"a", "b"})
    assert asked == [("q1", "a"), ("q2", "a")] and unknown == ["es.yml: gone"]
    assert recall_at([["a", "b"], ["b", "c", "a"]], ["a", "a"]) == {"questions": 2, "recall_at_1": 0.5,
                                                                    "recall_at_3": 1.0}
