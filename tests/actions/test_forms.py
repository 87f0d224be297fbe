from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.reports import ValidateStreetReportForm
from tests.conftest import make_tracker

pytestmark = pytest.mark.anyio


def slot(name, value):
    return {"event": "slot", "name": name, "value": value}


def location_answer(rejected_before: int):
    events = [{"event": "active_loop", "name": "street_report_form"}, slot("issue_type", "pothole"),
              slot("requested_slot", "issue_location")]
    for _ in range(rejected_before):
        events += [slot("issue_location", "somewhere"), slot("issue_location", None)]
    tracker = make_tracker("somewhere", "inform", events=events,
                           slots={"issue_type": "pothole", "issue_location": "somewhere",
                                  "requested_slot": "issue_location"})
    tracker.active_loop = {"name": "street_report_form"}
    tracker.events.append(slot("issue_location", "somewhere"))  # what the form extracted from the answer
    return tracker


async def test_a_rejected_answer_asks_again(domain):
    dispatcher = CollectingDispatcher()
    events = await ValidateStreetReportForm().run(dispatcher, location_answer(1), domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_location_invalid"]
    assert {"event": "followup", "name": "action_request_human", "timestamp": None} not in events


async def test_the_third_rejected_answer_hands_over_to_a_person(domain):
    dispatcher = CollectingDispatcher()
    events = await ValidateStreetReportForm().run(dispatcher, location_answer(2), domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_location_invalid", "utter_form_failed_handoff"]
    names = {(e.get("event"), e.get("name"), e.get("value")) for e in events}
    assert ("slot", "handoff_reason", "form_failed") in names
    assert ("slot", "handoff_form", "street_report_form") in names
    assert ("slot", "requested_slot", None) in names  # the form stops without asking again
    assert events[-1]["event"] == "followup" and events[-1]["name"] == "action_request_human"
