from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import defaults
from actions.reports import ValidateStreetReportForm
from actions.status import ValidateStatusForm
from tests.conftest import make_tracker
from tests.open311.conftest import unreachable

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def no_open311_server(monkeypatch):
    """Whatever listens on this machine, the form asks the catalogue's questions (its fallback)."""
    monkeypatch.setattr(defaults, "open311_client", unreachable)


def slot(name, value):
    return {"event": "slot", "name": name, "value": value}


def location_answer(rejected_before: int, text: str = "somewhere"):
    events = [{"event": "active_loop", "name": "street_report_form"}, slot("issue_type", "pothole"),
              slot("requested_slot", "issue_location")]
    for _ in range(rejected_before):
        events += [slot("issue_location", "somewhere"), slot("issue_location", None)]
    tracker = make_tracker(text, "inform", events=events,
                           slots={"issue_type": "pothole", "issue_location": text,
                                  "requested_slot": "issue_location"})
    tracker.active_loop = {"name": "street_report_form"}
    tracker.events.append(slot("issue_location", text))  # what the form extracted from the answer
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


def status_answer(intent: str):
    """An answer to "which request?" that holds a request number."""
    events = [{"event": "active_loop", "name": "status_form"}, slot("requested_slot", "request_id")]
    tracker = make_tracker("SR-7K3M9Q2X, and there's a gas smell in the street", intent, events=events,
                           slots={"requested_slot": "request_id"})
    tracker.active_loop = {"name": "status_form"}
    return tracker


async def test_a_request_number_in_an_ordinary_answer_fills_the_slot(domain):
    events = await ValidateStatusForm().run(CollectingDispatcher(), status_answer("inform"), domain)
    assert ("slot", "request_id", "SR-7K3M9Q2X") in {(e.get("event"), e.get("name"), e.get("value")) for e in events}


@pytest.mark.parametrize("form, tracker", [
    (ValidateStatusForm(), status_answer("emergency")),
    (ValidateStreetReportForm(), location_answer(0, "120 Main Street, and it smells of gas")),
])
async def test_an_emergency_is_never_taken_as_an_answer_so_the_emergency_rule_runs(domain, form, tracker):
    tracker.latest_message["intent"] = {"name": "emergency", "confidence": 0.99}
    dispatcher = CollectingDispatcher()
    assert await form.run(dispatcher, tracker, domain) == []  # nothing filled: Rasa rejects the form
    assert dispatcher.messages == []


def details_answer(text: str, rejected_since_last_answer: int):
    """An answer to the pothole's second question, after the first was answered."""
    events = [{"event": "active_loop", "name": "street_report_form"}, slot("requested_slot", "issue_details"),
              slot("issue_details", "Bigger than a car tyre"), slot("issue_details", None),
              slot("report_attributes", {"size": "large"}), slot("requested_slot", "issue_details")]
    for _ in range(rejected_since_last_answer):
        events += [{"event": "user", "text": "purple"}, slot("issue_details", "purple"), slot("issue_details", None),
                   slot("requested_slot", "issue_details")]
    tracker = make_tracker(text, "inform", events=events,
                           slots={"issue_type": "pothole", "issue_location": "120 Main Street",
                                  "issue_description": "deep hole", "report_attributes": {"size": "large"},
                                  "requested_slot": "issue_details", "issue_details": text})
    tracker.active_loop = {"name": "street_report_form"}
    tracker.events.append(slot("issue_details", text))
    return tracker


async def test_each_question_of_the_service_gets_its_own_three_tries(domain, open311):
    form = ValidateStreetReportForm(client=open311)
    dispatcher = CollectingDispatcher()
    events = await form.run(dispatcher, details_answer("mauve", 1), domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_attribute_invalid"]  # the first answer's ok
    assert all(e.get("event") != "followup" for e in events)

    dispatcher = CollectingDispatcher()
    events = await form.run(dispatcher, details_answer("mauve", 2), domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_attribute_invalid", "utter_form_failed_handoff"]
    assert events[-1]["event"] == "followup" and events[-1]["name"] == "action_request_human"


async def test_an_accepted_answer_moves_on_to_the_next_question(domain, open311):
    dispatcher = CollectingDispatcher()
    events = await ValidateStreetReportForm(client=open311).run(dispatcher, details_answer("yes", 2), domain)
    assert dispatcher.messages == []
    assert {"event": "slot", "name": "report_attributes", "value": {"size": "large", "in_traffic_lane": "yes"},
            "timestamp": None} in events
    assert all(e.get("event") != "followup" for e in events)
