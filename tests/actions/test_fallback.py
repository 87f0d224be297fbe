from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionClarify, ActionRequestHuman, consecutive_failures
from handoff.errors import HandoffUnavailable
from handoff.store import HandoffStore
from tests.conftest import make_tracker

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


async def test_second_miss_in_a_row_offers_a_person(domain):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("zzz", "nlu_fallback", events=[user("nlu_fallback")], ranking=RANKING)
    await ActionClarify().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["response"] == "utter_offer_human"


async def test_out_of_scope_says_so_and_shows_the_menu(domain):
    dispatcher = CollectingDispatcher()
    await ActionClarify().run(dispatcher, make_tracker("tell me a joke", "out_of_scope"), domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_out_of_scope", "utter_help"]


async def test_request_for_a_person_is_recorded_once_per_conversation(database_url, domain):
    store = HandoffStore.from_url(database_url)
    first, second = CollectingDispatcher(), CollectingDispatcher()
    await ActionRequestHuman(store=store).run(first, make_tracker("agent", "human_handoff", sender_id="c1"), domain)
    await ActionRequestHuman(store=store).run(second, make_tracker("agent!", "human_handoff", sender_id="c1"), domain)
    assert first.messages[0]["response"] == "utter_human_recorded"
    assert first.messages[0]["reference"] == second.messages[0]["reference"]
    waiting = store.waiting()
    assert [(w.conversation_id, w.reason) for w in waiting] == [("c1", "citizen_request")]


async def test_accepting_the_offer_records_why(database_url, domain):
    store = HandoffStore.from_url(database_url)
    offered = {"event": "bot", "text": "...", "metadata": {"utter_action": "utter_offer_human"}}
    tracker = make_tracker("/human_handoff", "human_handoff", events=[user("nlu_fallback"), offered])
    await ActionRequestHuman(store=store).run(CollectingDispatcher(), tracker, domain)
    assert store.waiting()[0].reason == "accepted_offer_after_fallback"


class DownStore(HandoffStore):
    def __init__(self) -> None:
        pass

    def open_request(self, **fields):  # type: ignore[override]
        raise HandoffUnavailable("database down")


async def test_failure_to_record_is_said_honestly(domain):
    dispatcher = CollectingDispatcher()
    await ActionRequestHuman(store=DownStore()).run(dispatcher, make_tracker("agent", "human_handoff"), domain)
    assert dispatcher.messages[0]["response"] == "utter_human_failed"
