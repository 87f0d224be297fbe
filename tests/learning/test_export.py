"""`python -m learning export` on a tracker store written by Rasa itself, with personal data in it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import yaml
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, ConversationPaused, SlotSet

from learning.__main__ import main
from learning.conversations import Turn, pseudonym, read_conversations
from learning.export import candidates
from tests.tracker_seed import said, seed

PERSONAL = "my number is 555-123-4567, write to ana.lopez@example.org, I live at 12 Elm Street"


CONVERSATIONS = {
    "wa-15551234567": [  # unsure, then a person
        said("hello", "greet", 0.99), ActionExecuted("utter_greet"), BotUttered("Hello!"),
        said("can my cat get a licence " + PERSONAL, "renewal_info", 0.41,
             [("renewal_info", 0.41), ("faq", 0.38)]), ActionExecuted("action_clarify"),
        said("I want to talk to a person", "human_handoff", 0.97), ActionExecuted("action_request_human"),
        ConversationPaused(),
    ],
    "tg-777": [  # a fallback, a payload, an emergency, a guard intent, in Spanish
        SlotSet("language", "es"),
        said("cuándo pasa el camión de reciclaje", "nlu_fallback", 0.3,
             [("nlu_fallback", 0.45), ("faq", 0.3), ("outage_status", 0.1)], language="es"),
        said("/affirm", "affirm", 1.0),
        said("huele a gas en mi cocina", "emergency", 1.0, language="es"),
        said("👍", "no_words", 1.0),
    ],
    "rest-1": [
        said("Can my cat get a licence?", "renewal_info", 0.5),  # a repeat, other case and punctuation
        said("report a street problem", "report_street_issue", 0.95), ActiveLoop("street_report_form"),
        SlotSet("requested_slot", "issue_description"),
        said("it's been dark for a week", "inform", 0.3),  # an answer to the form: no intent is expected
        ActiveLoop(None), SlotSet("requested_slot", None),
        said("what about dog licences", "renewal_info", 0.45),
    ],
}


@pytest.fixture
def tracker_db(tmp_path):
    return seed(tmp_path / "tracker.db", CONVERSATIONS)


SINCE = datetime.now(timezone.utc) - timedelta(days=1)


def test_conversations_are_read_back_with_their_intents_languages_and_handoffs(tracker_db):
    conversations = {turns[0].conversation: turns for turns in read_conversations(tracker_db, SINCE)}
    ana = conversations[pseudonym("wa-15551234567")]
    assert [t.intent for t in ana] == ["greet", "renewal_info", "human_handoff"]
    assert ana[1].actions == ["action_clarify"] and ana[2].handed_over and not ana[1].handed_over
    assert ana[1].channel == "whatsapp" and ana[1].ranking[1] == ("faq", 0.38)
    assert conversations[pseudonym("tg-777")][0].language == "es"
    rest = conversations[pseudonym("rest-1")]
    assert [t.answering for t in rest] == ["", "", "issue_description", ""]
    assert list(read_conversations(tracker_db, datetime.now(timezone.utc) + timedelta(days=1))) == []


def turn(text: str, intent: str, confidence: float, handed_over: bool = False, language: str = "en") -> Turn:
    return Turn("c1", text, intent, confidence, [(intent, confidence)], language, "telegram", 0.0,
                handed_over=handed_over)


def test_unsure_messages_those_before_a_handoff_and_faq_misses_are_candidates_and_nothing_else():
    conversation = [
        turn("hello", "greet", 0.99),  # sure, long before the handoff
        turn("my bin was not emptied", "report_street_issue", 0.95),  # sure, and too long before the handoff
        turn("this is useless", "frustration", 0.9),
        turn("I want to talk to a person", "human_handoff", 0.97, handed_over=True),  # the request itself
        turn("/affirm", "affirm", 0.3), turn("it smells of gas", "emergency", 0.2),
        turn("", "empty_message", 1.0), turn("Bin  day?", "faq", 0.5),
    ]
    found = {c.text: c for c in candidates([conversation, [turn("bin day?", "faq", 0.6)]], 0.7,
                                           faq_misses=[("when is bin day", "en"), ("bin day?", "en")])}
    assert set(found) == {"this is useless", "Bin  day?", "when is bin day"}
    assert found["this is useless"].reasons == {"before_handoff"}  # sure of itself, yet a person was needed
    assert found["Bin  day?"].seen == 3 and found["Bin  day?"].reasons == {"low_confidence", "faq_miss"}
    assert found["when is bin day"].predicted == "faq" and found["when is bin day"].reasons == {"faq_miss"}
    assert list(found)[0] == "Bin  day?"  # most seen first


def test_the_review_file_holds_the_candidates_redacted_and_counted(tracker_db, tmp_path, monkeypatch):
    monkeypatch.setenv("CITYBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'citybot.db'}")  # an empty gap log
    out = tmp_path / "review.yml"
    assert main(["export", "--tracker-url", tracker_db, "--out", str(out), "--quiet"]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Candidate training examples")
    for personal in ("555", "4567", "ana.lopez", "example.org", "12 Elm", "15551234567", "tg-777", "wa-"):
        assert personal not in text, personal
    examples = {e["text"]: e for e in yaml.safe_load(text)["examples"]}
    cat = next(e for t, e in examples.items() if t.startswith("can my cat"))
    assert "[number]" in cat["text"] and "[email]" in cat["text"] and "[address]" in cat["text"]
    assert (cat["predicted"], cat["confidence"], cat["decision"], cat["intent"]) == ("renewal_info", 0.41, "",
                                                                                     "renewal_info")
    assert cat["reasons"] == ["before_handoff", "low_confidence"]
    recycling = examples["cuándo pasa el camión de reciclaje"]
    assert (recycling["language"], recycling["predicted"], recycling["reasons"]) == ("es", "faq", ["fallback"])
    assert examples["Can my cat get a licence?"]["seen"] == 1
    assert set(examples) == {cat["text"], "cuándo pasa el camión de reciclaje", "Can my cat get a licence?",
                             "what about dog licences"}
