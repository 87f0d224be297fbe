"""Emergencies: the emergency number and safety advice at once, then an urgent handoff.

The NLU pipeline's EmergencyDetector (the city's triage rules) gives the message
the intent ``emergency`` and its kind; rules run this action before anything
else, inside a form too (the form is stopped; the packet keeps what it had).
"""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import defaults
from actions.handoff import escalate, form_at_latest_message
from handoff.client import HandoffClient
from handoff.outbox import Outbox
from handoff.packet import Reason
from triage import detect_emergency
from triage.errors import TriageError

logger = logging.getLogger(__name__)

FALLBACK_KIND = "danger"  # the advice that fits any emergency: call, get safe, don't confront
FALLBACK_NUMBER = "911"


def emergency_kind(tracker: Tracker) -> str:
    """The kind the NLU pipeline found, or the rules' verdict on the text, or the general advice."""
    found = tracker.latest_message.get("emergency") or {}
    if isinstance(found, dict) and found.get("kind"):
        return str(found["kind"])
    try:
        emergency = detect_emergency(tracker.latest_message.get("text") or "")
    except TriageError:
        logger.error("the triage rules cannot be read", exc_info=True)
        emergency = None
    return emergency.kind if emergency else FALLBACK_KIND


def emergency_numbers() -> dict[str, str]:
    """The emergency number and the crisis line, from the city's triage rules."""
    try:
        config = defaults.triage_config()
        return {"emergency_number": config.emergency_number, "crisis_line": config.crisis_line}
    except (TriageError, OSError):
        logger.error("the triage rules cannot be read; giving %s", FALLBACK_NUMBER, exc_info=True)
        return {"emergency_number": FALLBACK_NUMBER, "crisis_line": FALLBACK_NUMBER}


class ActionHandleEmergency(Action):
    """Tells the citizen to call the emergency number, with advice for the kind, then hands over urgently."""

    def __init__(self, client: HandoffClient | None = None, outbox: Outbox | None = None) -> None:
        self._client = client
        self._outbox = outbox

    def name(self) -> str:
        return "action_handle_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        kind = emergency_kind(tracker)
        response = f"utter_emergency_{kind}"
        if not any(name == response for name in (domain.get("responses") or {})):
            response = f"utter_emergency_{FALLBACK_KIND}"
        dispatcher.utter_message(response=response, **emergency_numbers())
        try:
            return await escalate(dispatcher, tracker, Reason.emergency, active_form=form_at_latest_message(tracker),
                                  client=self._client, outbox=self._outbox)
        except Exception:  # the advice above must reach the citizen whatever happens to the handoff
            logger.error("could not hand emergency conversation %s over", tracker.sender_id, exc_info=True)
            dispatcher.utter_message(response="utter_human_failed")
            return []
