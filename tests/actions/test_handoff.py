from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import earlier_rejections
from actions.frustration import ActionHandleFrustration, frustration_signals, is_shouting
from actions.handoff import ActionRequestHuman, build_packet
from handoff.outbox import Outbox
from handoff.packet import Reason, Urgency
from tests.conftest import make_tracker
from tests.handoff.conftest import app, client_for, outbox, refused, relay  # noqa: F401  (fixtures too)

pytestmark = pytest.mark.anyio

T0 = 1_790_000_000.0


def user(text: str, intent: str, confidence: float = 0.9, at: float = T0, **parse: object) -> dict:
    return {"event": "user", "text": text, "timestamp": at,
            "parse_data": {"intent": {"name": intent, "confidence": confidence}, **parse}}


def bot(text: str, at: float = T0) -> dict:
    return {"event": "bot", "text": text, "timestamp": at}


def conversation():
    events = [
        user("hola, hay un bache enorme", "report_street_issue", 0.93, T0,
             entities=[{"entity": "issue_type", "value": "pothole", "text": "bache"}],
             language_detection={"language": "es"}),
        bot("¿Dónde está el problema?", T0 + 1),
        user("frente a la biblioteca", "inform", 0.6, T0 + 20),
        bot("No pude ubicar esa dirección.", T0 + 21),
    ]
    tracker = make_tracker("quiero hablar con una persona", "human_handoff", events=events, channel="socketio",
                           slots={"language": "es", "issue_type": "pothole", "requested_slot": "issue_location",
                                  "faq_candidates": [{"id": "roads-1", "score": 0.41, "question": "Potholes?"}]})
    tracker.active_loop = {"name": "street_report_form"}
    return tracker


def test_the_packet_carries_the_whole_context():
    packet = build_packet(conversation(), Reason.citizen_request)
    assert (packet.conversation_id, packet.channel, packet.language) == ("citizen-1", "socketio", "es")
    assert [(e.sender.value, e.text) for e in packet.transcript][:2] == [
        ("citizen", "hola, hay un bache enorme"), ("bot", "¿Dónde está el problema?")]
    assert packet.transcript[0].at.timestamp() == T0 and packet.transcript[0].language == "es"
    assert [(i.name, i.confidence) for i in packet.intents] == [
        ("human_handoff", 0.9), ("inform", 0.6), ("report_street_issue", 0.93)]
    assert [(e.entity, e.value) for e in packet.entities] == [("issue_type", "pothole")]
    assert [c.id for c in packet.faq_candidates] == ["roads-1"]
    assert packet.slots["issue_type"] == "pothole" and "requested_slot" not in packet.slots
    # "un bache enorme": triage raises a normal request to high urgency, for the Public Works queue.
    assert (packet.active_form, packet.team, packet.urgency) == ("street_report_form", "streets", Urgency.high)
    assert packet.triage is not None
    assert (packet.triage.category, packet.triage.department, packet.triage.emergency) == (
        "pothole", "Public Works - Street Maintenance", None)
    assert packet.summary.startswith("Asked for a person: pothole (Spanish, web chat). Was in a street problem report.")
    assert "Issue: pothole" in packet.summary and "“quiero hablar con una persona”" in packet.summary


def test_an_emergency_in_the_conversation_makes_the_packet_an_emergency():
    tracker = make_tracker("there's a gas smell in the hallway", "emergency", slots={"language": "en"})
    packet = build_packet(tracker, Reason.emergency)
    assert packet.urgency is Urgency.emergency
    assert packet.triage is not None and packet.triage.emergency == "gas" and packet.triage.emergency_number_given


async def test_escalation_queues_the_conversation_and_pauses_the_bot(app, outbox):  # noqa: F811
    dispatcher = CollectingDispatcher()
    events = await ActionRequestHuman(client_for(app), outbox).run(dispatcher, conversation(), {})
    assert dispatcher.messages[0]["response"] == "utter_handoff_queued"
    assert dispatcher.messages[0]["position"] == 1 and dispatcher.messages[0]["reference"].startswith("H-")
    assert events[-1] == {"event": "pause", "timestamp": None}
    assert {"event": "active_loop", "name": None, "timestamp": None} in events
    assert [row["conversation_id"] for row in app.state.service.store.queue()] == ["citizen-1"]


async def test_escalation_while_the_service_is_down_is_saved_said_and_paused(outbox):  # noqa: F811
    dispatcher = CollectingDispatcher()
    events = await ActionRequestHuman(refused(), outbox).run(dispatcher, conversation(), {})
    assert dispatcher.messages[0]["response"] == "utter_handoff_saved"
    assert events[-1]["event"] == "pause"
    assert outbox.pending_count() == 1


async def test_escalation_with_nowhere_to_keep_the_packet_is_said_honestly_and_not_paused():
    class Broken(Outbox):
        def __init__(self) -> None:
            pass

        def add(self, packet, idempotency_key):  # type: ignore[override]
            from handoff.errors import HandoffUnavailable

            raise HandoffUnavailable("disk full")

    dispatcher = CollectingDispatcher()
    events = await ActionRequestHuman(refused(), Broken()).run(dispatcher, conversation(), {})
    assert dispatcher.messages[0]["response"] == "utter_human_failed"
    assert all(e["event"] != "pause" for e in events)


async def test_a_failed_form_hands_over_with_its_reason(app, outbox):  # noqa: F811
    tracker = conversation()
    tracker.slots.update({"handoff_reason": "form_failed", "handoff_form": "street_report_form"})
    tracker.active_loop = {}
    await ActionRequestHuman(client_for(app), outbox).run(CollectingDispatcher(), tracker, {})
    row = app.state.service.store.queue()[0]
    assert (row["reason"], row["urgency"], row["team"]) == ("form_failed", "high", "streets")
    assert row["summary"].startswith("Could not finish a street problem report")


def test_shouting_is_capitals_over_a_few_words():
    assert is_shouting("THIS IS RIDICULOUS") and is_shouting("ESTO NO SIRVE!!!")
    assert not is_shouting("SR-7K3M9Q2X") and not is_shouting("OK") and not is_shouting("I need help with NYC")


async def test_first_frustration_apologises_the_second_hands_over(app, outbox, monkeypatch):  # noqa: F811
    from actions import defaults

    monkeypatch.setattr(defaults, "handoff_client", lambda: client_for(app))
    monkeypatch.setattr(defaults, "handoff_outbox", lambda: outbox)
    first = CollectingDispatcher()
    events = await ActionHandleFrustration().run(first, make_tracker("this is useless", "frustration"), {})
    assert [m["response"] for m in first.messages] == ["utter_frustration_sorry"] and events == []

    shouted = user("WHY DOES NOTHING WORK HERE", "report_street_issue")
    tracker = make_tracker("you are a stupid bot", "frustration", events=[shouted])
    assert frustration_signals(tracker) == 2
    second = CollectingDispatcher()
    events = await ActionHandleFrustration().run(second, tracker, {})
    assert [m["response"] for m in second.messages] == ["utter_frustration_handoff", "utter_handoff_queued"]
    assert events[-1]["event"] == "pause"
    assert app.state.service.store.queue()[0]["reason"] == "frustration"


def test_rejections_are_counted_since_the_form_asked_the_question():
    def slot(name, value):
        return {"event": "slot", "name": name, "value": value}

    events = [{"event": "active_loop", "name": "street_report_form"}, slot("requested_slot", "issue_type"),
              slot("issue_type", "pothole"), slot("requested_slot", "issue_location"),
              slot("issue_location", "here"), slot("issue_location", None),
              slot("issue_location", "idk"), slot("issue_location", None)]
    tracker = make_tracker("nowhere", "inform", events=events)
    assert earlier_rejections(tracker, "issue_location") == 2
    assert earlier_rejections(tracker, "issue_type") == 0


def test_shouting_at_the_agent_does_not_count_as_frustration_with_the_bot():
    with_agent = [{"event": "pause"}, user("THANK YOU SO MUCH ANA", "greet"), {"event": "resume"}]
    assert frustration_signals(make_tracker("this is useless", "frustration", events=with_agent)) == 1


def test_a_request_for_a_person_inside_a_form_names_the_form():
    tracker = conversation()
    tracker.active_loop = {}
    tracker.events[:0] = [{"event": "active_loop", "name": "street_report_form"}]
    tracker.events.append({"event": "active_loop", "name": None})  # the rule stopped the form first
    packet = build_packet(tracker, Reason.citizen_request)
    assert packet.active_form == "street_report_form"
