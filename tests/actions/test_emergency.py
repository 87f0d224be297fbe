from __future__ import annotations

import dataclasses

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import defaults
from actions.emergency import ActionHandleEmergency
from tests.conftest import make_tracker
from tests.handoff.conftest import app, client_for, outbox, relay  # noqa: F401  (the real handoff app, as fixtures)
from triage import default_config

pytestmark = pytest.mark.anyio


@pytest.fixture
def city_number(monkeypatch) -> str:
    """The city's triage rules give their own emergency number."""
    config = dataclasses.replace(default_config(), emergency_number="112")
    monkeypatch.setattr(defaults, "triage_config", lambda: config)
    return "112"


def emergency_message(text: str, kind: str | None = None):
    tracker = make_tracker(text, "emergency", slots={"language": "en"})
    if kind:
        tracker.latest_message["emergency"] = {"kind": kind}  # what the NLU pipeline's EmergencyDetector adds
    return tracker


async def handle(app, outbox, tracker, domain):  # noqa: F811
    dispatcher = CollectingDispatcher()
    events = await ActionHandleEmergency(client=client_for(app), outbox=outbox).run(dispatcher, tracker, domain)
    return dispatcher.messages, events


@pytest.mark.parametrize(
    "text, kind",
    [
        ("a power line is down across the road", "power_line"),  # the kind the NLU pipeline found
        ("help, it's urgent", "flood"),  # the pipeline's verdict wins over the words
    ],
)
async def test_the_kind_found_by_nlu_gets_its_advice_and_the_citys_number(
    app, outbox, domain, city_number, text, kind  # noqa: F811
):
    messages, _ = await handle(app, outbox, emergency_message(text, kind), domain)
    assert messages[0]["response"] == f"utter_emergency_{kind}"
    assert messages[0]["emergency_number"] == "112"


async def test_without_the_nlu_verdict_the_kind_is_found_in_the_text(app, outbox, domain, city_number):  # noqa: F811
    messages, _ = await handle(app, outbox, emergency_message("there's a strong gas smell in the hallway"), domain)
    assert messages[0]["response"] == "utter_emergency_gas"
    assert messages[0]["emergency_number"] == "112"


async def test_a_kind_without_its_own_advice_gets_the_general_advice(app, outbox, domain, city_number):  # noqa: F811
    messages, _ = await handle(app, outbox, emergency_message("something is wrong", "meteor"), domain)
    assert messages[0]["response"] == "utter_emergency_danger"


async def test_an_emergency_is_handed_to_a_person_as_an_emergency(app, outbox, domain):  # noqa: F811
    tracker = emergency_message("there's a strong gas smell in the hallway", "gas")
    messages, events = await handle(app, outbox, tracker, domain)
    assert [m["response"] for m in messages] == ["utter_emergency_gas", "utter_handoff_queued"]
    assert messages[0]["emergency_number"] == "911"  # bot/data/content/triage.yml
    assert events[-1] == {"event": "pause", "timestamp": None}
    [queued] = app.state.service.store.queue()
    assert (queued["conversation_id"], queued["reason"], queued["urgency"]) == ("citizen-1", "emergency", "emergency")
    packet = app.state.service.store.packet(queued["reference"])
    assert packet["triage"]["emergency"] == "gas" and packet["triage"]["emergency_number_given"] is True


async def test_an_emergency_inside_a_form_stops_it_and_the_packet_keeps_what_it_had(app, outbox, domain):  # noqa: F811
    events_before = [
        {"event": "active_loop", "name": "street_report_form"},
        {"event": "slot", "name": "issue_type", "value": "pothole"},
    ]
    tracker = make_tracker("the hole is sparking, a power line fell in it", "emergency", events=events_before,
                           slots={"language": "en", "issue_type": "pothole", "issue_location": "120 Main Street"})
    tracker.active_loop = {"name": "street_report_form"}
    _, events = await handle(app, outbox, tracker, domain)
    assert {"event": "active_loop", "name": None, "timestamp": None} in events
    [queued] = app.state.service.store.queue()
    packet = app.state.service.store.packet(queued["reference"])
    assert packet["active_form"] == "street_report_form"
    assert packet["slots"]["issue_location"] == "120 Main Street"
    assert queued["urgency"] == "emergency"
