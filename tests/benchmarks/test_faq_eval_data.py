"""The FAQ benchmark's questions must stay held apart from the FAQ, or recall means nothing."""

from __future__ import annotations

import re

import yaml

from retrieval.faq import load_faq
from tests.conftest import ROOT

EVAL_DIRS = [ROOT / "benchmarks" / "data" / "faq_eval", ROOT / "benchmarks" / "data" / "faq_eval_multilingual"]


def normalised(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def eval_sets() -> list[tuple[str, dict]]:
    return [(path.name, yaml.safe_load(path.read_text(encoding="utf-8")))
            for directory in EVAL_DIRS for path in sorted(directory.glob("*.yml"))]


def test_no_evaluation_question_is_also_a_faq_question():
    faq = {normalised(q) for entry in load_faq(ROOT / "bot" / "data" / "faq").entries
           for variants in entry.questions.values() for q in variants}
    copied = [(name, text) for name, data in eval_sets()
              for text in [t for item in data["questions"] for t in item["asked"]] + (data.get("unanswerable") or [])
              if normalised(text) in faq]
    assert copied == []


def test_evaluation_questions_name_existing_entries_and_cover_enough_of_them():
    ids = set(load_faq(ROOT / "bot" / "data" / "faq").by_id)
    english = [item for name, data in eval_sets() if "language" not in data for item in data["questions"]]
    assert {item["id"] for name, data in eval_sets() for item in data["questions"]} <= ids
    assert len({item["id"] for item in english if len(item["asked"]) >= 3}) >= 60
