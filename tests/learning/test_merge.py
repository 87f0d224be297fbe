"""`python -m learning merge`: reviewed examples into copies of the NLU and FAQ files, once each."""

from __future__ import annotations

import shutil

import pytest
import yaml
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from learning.__main__ import main
from learning.merge import ReviewError, merge
from tests.conftest import ROOT

INTENTS = {str(i) for i in yaml.safe_load((ROOT / "domain.yml").read_text())["intents"]}
NEW_GREETING = "good day to you, city helper"
FAQ_QUESTION = "do i need a permit to put up a pergola: yes or no?"


@pytest.fixture
def data(tmp_path):
    shutil.copytree(ROOT / "bot" / "data" / "training", tmp_path / "training")
    shutil.copytree(ROOT / "bot" / "data" / "faq", tmp_path / "faq")
    return tmp_path


def review(tmp_path, examples: list[dict]) -> object:
    path = tmp_path / "review.yml"
    path.write_text("# made by hand\n" + yaml.safe_dump({"since": "2026-11-16", "examples": examples}))
    return path


def example(text: str, decision: str, intent: str, language: str = "en", predicted: str = "faq") -> dict:
    return {"id": text[:8], "text": text, "language": language, "reasons": ["low_confidence"],
            "predicted": predicted, "confidence": 0.4, "seen": 2, "decision": decision, "intent": intent}


EXAMPLES = [
    example(NEW_GREETING, "accept", "greet", predicted="greet"),
    example("quiero renovar la licencia de mi perro ya", "relabel", "renewal_info", language="es"),
    example(FAQ_QUESTION, "relabel", "faq:building-permit-needed"),
    example("hello", "accept", "greet", predicted="greet"),  # already an example: a duplicate
    example("HELLO ", "relabel", "goodbye"),  # already an example of greet: a conflict
    example("asdf", "drop", "faq"),
    example("not decided yet", "", "faq"),
]


def test_accepted_and_relabelled_examples_are_added_once_and_the_files_stay_valid(data):
    before = (data / "training" / "nlu_en.yml").read_text()
    result = merge(review(data, EXAMPLES), data / "training", data / "faq", INTENTS)
    assert [(target, text) for _, target, text in result.added] == [
        ("greet", NEW_GREETING), ("renewal_info", "quiero renovar la licencia de mi perro ya"),
        ("faq:building-permit-needed", FAQ_QUESTION)]
    assert (result.duplicates, result.dropped, result.undecided) == (1, 1, 1)
    assert result.conflicts == [("HELLO", "goodbye", "greet")]

    english = (data / "training" / "nlu_en.yml").read_text()
    assert english.startswith(before.split("\n  - intent: goodbye")[0])  # the file is edited, not rewritten
    blocks = {b["intent"]: b["examples"] for b in yaml.safe_load(english)["nlu"] if "intent" in b}
    assert f"- {NEW_GREETING}\n" in blocks["greet"]
    parsed = RasaYAMLReader().reads(english)  # Rasa still reads it
    assert sum(m.get("text") == NEW_GREETING for m in parsed.training_examples) == 1
    spanish = {b["intent"]: b["examples"] for b in yaml.safe_load((data / "training" / "nlu_es.yml").read_text())["nlu"]
               if "intent" in b}
    assert "- quiero renovar la licencia de mi perro ya\n" in spanish["renewal_info"]
    building = yaml.safe_load((data / "faq" / "building.yml").read_text())["entries"]
    entry = next(e for e in building if e["id"] == "building-permit-needed")
    assert entry["questions"]["en"][-1] == FAQ_QUESTION  # quoted as YAML needs: it holds ": "

    again = merge(review(data, EXAMPLES), data / "training", data / "faq", INTENTS)  # nothing twice
    assert (again.added, again.duplicates) == ([], 4)
    assert (data / "training" / "nlu_en.yml").read_text() == english


def test_an_intent_without_examples_yet_gets_its_own_block(data):
    merge(review(data, [example("my neighbour keeps shouting at me", "relabel", "frustration")]),
          data / "training", data / "faq", INTENTS)
    blocks = {b["intent"]: b["examples"] for b in yaml.safe_load((data / "training" / "nlu_en.yml").read_text())["nlu"]
              if "intent" in b}
    assert "- my neighbour keeps shouting at me\n" in blocks["frustration"]


@pytest.mark.parametrize("bad, problem", [
    (example("x y z", "maybe", "greet"), "decision 'maybe'"),
    (example("x y z", "relabel", "no_such_intent"), "not an intent the bot learns"),
    (example("x y z", "relabel", "emergency"), "not an intent the bot learns"),
    (example("x y z", "accept", "faq:no-such-entry"), "no FAQ entry"),
    (example("line one\nline two", "accept", "greet"), "one line"),
])
def test_a_wrong_review_is_refused_whole_with_every_problem_listed(data, bad, problem):
    before = (data / "training" / "nlu_en.yml").read_text()
    with pytest.raises(ReviewError, match=problem):
        merge(review(data, [EXAMPLES[0], bad]), data / "training", data / "faq", INTENTS)
    assert (data / "training" / "nlu_en.yml").read_text() == before  # not even the good one


def test_the_command_reports_what_it_did_and_a_dry_run_changes_nothing(data, capsys):
    path = review(data, EXAMPLES)
    before = (data / "training" / "nlu_en.yml").read_text()
    args = ["merge", str(path), "--training-dir", str(data / "training"), "--faq-dir", str(data / "faq")]
    assert main([*args, "--dry-run"]) == 0
    assert "would add 3; duplicates skipped 1; conflicts 1; dropped 1; undecided 1" in capsys.readouterr().out
    assert (data / "training" / "nlu_en.yml").read_text() == before
    assert main(args) == 0 and "added 3" in capsys.readouterr().out
    (data / "broken.yml").write_text("examples: [unclosed")
    assert main(["merge", str(data / "broken.yml"), "--training-dir", str(data / "training")]) == 1
    assert "cannot be read as YAML" in capsys.readouterr().err
