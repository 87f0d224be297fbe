"""Triage and Open311 against the real servers: emergencies first, duplicates, status notifications."""

from __future__ import annotations

import time

import httpx
import pytest

from handoff.store import HandoffStore
from tests.e2e.conftest import Chat
from tests.e2e.test_rest_conversations import REQUEST_ID, file_pothole

pytestmark = pytest.mark.e2e


def bot_texts(stack, chat: Chat) -> list[str]:
    tracker = httpx.get(f"{stack.settings.rasa_public_url()}/conversations/{chat.sender}/tracker",
                        params={"token": stack.settings.rasa_token()}, timeout=10).json()
    return [e.get("text") or "" for e in tracker["events"] if e["event"] == "bot"]


def test_an_emergency_inside_a_form_is_answered_at_once_and_handed_over_urgently(chat, stack):
    assert "Where is it?" in chat.texts("there's a pothole on my street")
    reply = chat.texts("forget the pothole, i smell gas in my kitchen, it smells like rotten eggs")
    assert "gas leak" in reply and "911" in reply  # the number and the advice, before anything else
    assert "queue" in reply  # and a person is on the way
    queued = HandoffStore.from_url(stack.settings.handoff_database_url).open_for_conversation(chat.sender)
    assert queued is not None and (queued.reason, queued.urgency) == ("emergency", "emergency")


def test_an_emergency_in_spanish_gets_the_advice_in_spanish(chat):
    reply = chat.texts("hay cables de luz caídos en la calle echando chispas")
    assert "Llame ya al 911" in reply and "cable" in reply


def test_a_routine_report_that_only_sounds_alarming_is_not_an_emergency(chat):
    reply = chat.texts("the fire hydrant on 5th street is leaking")
    assert "⚠️" not in reply and "911 now" not in reply


def test_a_second_report_of_the_same_pothole_is_offered_to_join_the_first(chat, stack):
    first = file_pothole(chat, where="77 Elm Street")
    other = Chat(stack)
    assert "Where is it?" in other.texts("pothole here")
    other.say("77 elm street")
    other.say("a big hole near the curb")
    other.say("1")
    other.say("no")
    other.say("/skip")
    offer = other.texts("/affirm")  # confirms the report: the duplicate is found
    assert first in offer and "77 Elm Street" in offer  # the request, and where it is
    joined = other.texts("/affirm")
    assert first in joined and REQUEST_ID.findall(joined) == [first]
    count = [r for r in httpx.get(f"{stack.settings.open311_url()}/requests.json", timeout=10).json()
             if r["address"] and "elm" in r["address"].lower()]
    assert len(count) == 1


def test_a_status_change_through_open311_is_told_to_the_citizen(chat, stack):
    request_id = file_pothole(chat, where="5 Birch Road")
    changed = httpx.post(f"{stack.settings.open311_url()}/requests/{request_id}/status.json",
                         data={"api_key": stack.settings.open311_keys()[1], "status": "closed",
                               "status_notes": "Filled on Tuesday."}, timeout=10)
    assert changed.status_code == 200, changed.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        told = [t for t in bot_texts(stack, chat) if request_id in t and "closed" in t]
        if told:
            break
        time.sleep(0.5)
    assert told and "Filled on Tuesday." in told[-1]


def test_an_emergency_written_to_an_agent_gets_the_advice_at_once_and_jumps_the_queue(chat, stack):
    assert "queue" in chat.texts("I want to talk to a person")
    reply = chat.texts("wait, there's smoke pouring out of my neighbour's window")
    assert "911" in reply  # the bot breaks its silence for this only
    queued = HandoffStore.from_url(stack.settings.handoff_database_url).open_for_conversation(chat.sender)
    assert queued is not None and queued.urgency == "emergency"
    assert chat.texts("thanks, they're here now") == ""  # and is silent again
