from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import defaults
from actions.fallback import ActionClarify, consecutive_failures
from handoff.outbox import Outbox
from open311.store import make_engine
from tests.conftest import make_tracker
from tests.handoff.conftest import app, client_for, relay  # noqa: F401  (the real handoff app, as fixtures)

pytestmark = pytest.mark.anyio


def user(intent: str) -> dict:
    return {"event": "user", "text": "x", "parse_data": {"intent": {"name": intent}}}


RANKING = [("nlu_fallback", 0.35), ("renewal_info", 0.3), ("affirm", 0.2), ("outage_status", 0.1)]


def test_only_the_latest_run_of_misunderstandings_counts():
    tracker = make_tracker("zzz", "nlu_fallback", events=[user("nlu_fallback"), user("greet")])
    assert consecutive_failures(tracker) == 1
    tracker = make_tracker("zzz", "out_of_scope", events=[user("greet"), user("nlu_fallback")])
    assert consecutive_failures(tracker) == 2


async def test_first_miss_offers_the_two_likeliest_options(domain):
    dispatcher = CollectingDispatcher()
    await ActionClarify().run(dispatcher, make_tracker("renew stuff?", "nlu_fallback", ranking=RANKING), domain)
    message = dispatcher.messages[0]
    assert message["response"] == "utter_clarify"
    assert [b["payload"] for b in message["buttons"]] == ["/renewal_info", "/outage_status", "/help"]
    assert message["buttons"][0]["title"] == "Renew a licence or permit"


async def test_second_miss_in_a_row_hands_over_to_a_person(domain, app, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(defaults, "handoff_client", lambda: client_for(app))
    monkeypatch.setattr(defaults, "handoff_outbox", lambda: Outbox(make_engine(f"sqlite:///{tmp_path / 'a.db'}")))
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("zzz", "nlu_fallback", events=[user("nlu_fallback")], ranking=RANKING)
    events = await ActionClarify().run(dispatcher, tracker, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_not_understood_handoff", "utter_handoff_queued"]
    assert events[-1]["event"] == "pause"
    assert app.state.service.store.queue()[0]["reason"] == "not_understood"


async def test_out_of_scope_says_so_and_shows_the_menu(domain):
    dispatcher = CollectingDispatcher()
    await ActionClarify().run(dispatcher, make_tracker("tell me a joke", "out_of_scope"), domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_out_of_scope", "utter_help"]


def test_messages_written_to_a_person_do_not_count_as_misunderstood():
    with_agent = [{"event": "pause"}, user("nlu_fallback"), user("nlu_fallback"), {"event": "resume"}]
    tracker = make_tracker("zzz", "nlu_fallback", events=with_agent)
    assert consecutive_failures(tracker) == 1
