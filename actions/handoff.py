"""Handing a conversation to a person: the context packet, the escalation, and staying silent.

``escalate`` builds the context packet from the tracker, saves it in the outbox,
posts it to the handoff service, tells the citizen where they stand, and pauses
the conversation (``ConversationPaused``): the bot says nothing until the agent
hands back (see docs/handoff.md). Every trigger ends here: an explicit request,
two messages not understood (actions/fallback.py), a form that failed
(actions/forms.py, actions/reports.py), frustration (actions/frustration.py),
an emergency (actions/emergency.py). The packet carries the triage of the
conversation (triage/), whose urgency can raise the reason's.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import (
    ActiveLoop,
    ConversationPaused,
    EventType,
    SlotSet,
)
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import defaults
from actions.language import current_language
from handoff.client import HandoffClient, Receipt
from handoff.errors import HandoffError
from handoff.outbox import Outbox, deliver
from handoff.packet import (
    MAX_TEXT,
    MAX_TRANSCRIPT,
    SCHEMA_VERSION,
    ContextPacket,
    EntitySeen,
    FaqCandidate,
    IntentSeen,
    Reason,
    Sender,
    TranscriptEntry,
    Triage,
    Urgency,
)
from handoff.summary import summarize
from triage import triage

logger = logging.getLogger(__name__)

RECENT_INTENTS = 5
TRIAGED_MESSAGES = 3  # the citizen's latest typed messages triage reads
URGENCY = {
    Reason.emergency: Urgency.emergency,
    Reason.frustration: Urgency.high,
    Reason.form_failed: Urgency.high,
    Reason.not_understood: Urgency.normal,
    Reason.citizen_request: Urgency.normal,
}
# Which team's queue a conversation joins, by the form or the last intent it was about.
TEAMS = {
    "street_report_form": "streets",
    "report_street_issue": "streets",
    "status_form": "streets",
    "request_status": "streets",
    "renewal_form": "licensing",
    "renewal_info": "licensing",
    "outage_form": "utilities",
    "outage_status": "utilities",
}
# Slots that are the bot's bookkeeping, not something an agent needs.
INTERNAL_SLOTS = {"requested_slot", "language_confidence", "handoff_reason", "handoff_form"}


def _moment(timestamp: float | None) -> datetime:
    return datetime.fromtimestamp(timestamp or 0, timezone.utc) if timestamp else datetime.now(timezone.utc)


def transcript(tracker: Tracker) -> list[TranscriptEntry]:
    """Both sides of the conversation so far, oldest first (the latest MAX_TRANSCRIPT messages)."""
    entries = []
    for event in tracker.events:
        kind = event.get("event")
        if kind == "user":
            parse = event.get("parse_data") or {}
            intent = parse.get("intent") or {}
            entries.append(TranscriptEntry(
                sender=Sender.citizen, text=(event.get("text") or "")[:MAX_TEXT], at=_moment(event.get("timestamp")),
                intent=intent.get("name"), confidence=intent.get("confidence"),
                language=(parse.get("language_detection") or {}).get("language"),
            ))
        elif kind == "bot" and event.get("text"):
            sender = Sender.agent if (event.get("metadata") or {}).get("handoff_message_id") else Sender.bot
            at = _moment(event.get("timestamp"))
            entries.append(TranscriptEntry(sender=sender, text=event["text"][:MAX_TEXT], at=at))
    return entries[-MAX_TRANSCRIPT:]


def _user_events(tracker: Tracker) -> list[dict[str, Any]]:
    return [e for e in reversed(tracker.events) if e.get("event") == "user"][:RECENT_INTENTS]


def recent_intents(tracker: Tracker) -> list[IntentSeen]:
    """The latest citizen messages as the bot understood them, latest first."""
    seen = []
    for event in _user_events(tracker):
        intent = (event.get("parse_data") or {}).get("intent") or {}
        if intent.get("name"):
            seen.append(IntentSeen(name=intent["name"], confidence=float(intent.get("confidence") or 0.0),
                                   text=(event.get("text") or "")[:MAX_TEXT]))
    return seen


def recent_entities(tracker: Tracker) -> list[EntitySeen]:
    found: dict[tuple[str, str], EntitySeen] = {}
    for event in _user_events(tracker):
        for entity in (event.get("parse_data") or {}).get("entities") or []:
            key = (str(entity.get("entity")), str(entity.get("value")))
            if key not in found:
                found[key] = EntitySeen(entity=key[0], value=entity.get("value"), text=entity.get("text"))
    return list(found.values())[:50]


def faq_candidates(slots: dict[str, Any]) -> list[FaqCandidate]:
    candidates = slots.get("faq_candidates") or []
    return [
        FaqCandidate(id=str(c.get("id")), score=c.get("score"), question=c.get("question"))
        for c in candidates if isinstance(c, dict) and c.get("id")
    ][:20]


def team_for(tracker: Tracker, active_form: str | None) -> str:
    if active_form in TEAMS:
        return TEAMS[active_form]
    for intent in recent_intents(tracker):
        if intent.name in TEAMS:
            return TEAMS[intent.name]
    return "general"


def form_at_latest_message(tracker: Tracker) -> str | None:
    """The form the citizen was in when they wrote last (a rule may have stopped it since)."""
    seen_user = False
    for event in reversed(tracker.events):
        seen_user = seen_user or event.get("event") == "user"
        if seen_user and event.get("event") == "active_loop":
            return event.get("name")  # type: ignore[no-any-return]
    return None


def triage_of(tracker: Tracker, slots: dict[str, Any], reason: Reason) -> Triage | None:
    """Category, department and urgency of the conversation, from the citizen's latest messages and the form."""
    typed = [e.get("text") or "" for e in _user_events(tracker) if not (e.get("text") or "").startswith("/")]
    latest_intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    try:
        result = triage(
            " ".join(reversed(typed[:TRIAGED_MESSAGES])),
            intent=latest_intent,
            service_code=slots.get("issue_type"),
            answers=slots.get("report_attributes") or {},
            config=defaults.triage_config(),
            catalogue=defaults.service_catalogue(),
        )
    except Exception:  # a broken content file must not stop the handoff
        logger.error("could not triage conversation %s", tracker.sender_id, exc_info=True)
        return None
    return Triage(
        category=result.category, urgency=Urgency(result.urgency), department=result.department,
        emergency=result.emergency, evidence=(result.evidence or "")[:500] or None,
        emergency_number_given=reason is Reason.emergency,
    )


def build_packet(tracker: Tracker, reason: Reason, active_form: str | None = None,
                 slot_changes: dict[str, Any] | None = None) -> ContextPacket:
    """Everything an agent needs, from the tracker the action server was sent.

    ``slot_changes``: what the calling action is about to set (e.g. the FAQ entries it just tried).
    """
    active_form = active_form or (tracker.active_loop or {}).get("name") or form_at_latest_message(tracker)
    slots = {
        name: value for name, value in {**tracker.slots, **(slot_changes or {})}.items()
        if value is not None and name not in INTERNAL_SLOTS and name != active_form
    }
    triaged = triage_of(tracker, slots, reason)
    urgency = URGENCY[reason]
    if triaged is not None and triaged.urgency.rank < urgency.rank:
        urgency = triaged.urgency
    packet = ContextPacket(
        schema_version=SCHEMA_VERSION,
        conversation_id=tracker.sender_id,
        channel=tracker.get_latest_input_channel(),
        language=current_language(tracker),
        reason=reason,
        urgency=urgency,
        team=team_for(tracker, active_form),
        summary="",
        transcript=transcript(tracker),
        slots=slots,
        active_form=active_form,
        intents=recent_intents(tracker),
        entities=recent_entities(tracker),
        faq_candidates=faq_candidates(slots),
        triage=triaged,
        created_at=datetime.now(timezone.utc),
    )
    packet.summary = summarize(packet)
    return packet


async def escalate(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: Reason,
    active_form: str | None = None,
    client: HandoffClient | None = None,
    outbox: Outbox | None = None,
    slot_changes: dict[str, Any] | None = None,
) -> list[EventType]:
    """Queue the conversation for a person and pause the bot; say honestly how it went."""
    packet = build_packet(tracker, reason, active_form, slot_changes)
    key = uuid.uuid4().hex
    client = client or defaults.handoff_client()
    saved = True
    try:
        outbox = outbox or defaults.handoff_outbox()
        await asyncio.to_thread(outbox.add, packet, key)  # keep rasa-sdk's loop free for other citizens
    except HandoffError:
        logger.error("the handoff outbox cannot be written; posting without it", exc_info=True)
        saved, outbox = False, None
    receipt: Receipt | None = None
    if outbox is not None:
        receipt = await deliver(outbox, client, packet, key, tries=2)
        try:
            saved = receipt is not None or outbox.status(key) in ("pending", "delivered")
        except HandoffError:
            saved = False
    else:
        try:
            receipt = await client.post_packet(packet, key)
        except HandoffError:
            logger.error("could not post the handoff packet", exc_info=True)
    if receipt is not None and receipt.position is not None:
        dispatcher.utter_message(response="utter_handoff_queued", position=receipt.position,
                                 reference=receipt.reference)
    elif receipt is not None:  # already with a person (a second request while they were joining)
        dispatcher.utter_message(response="utter_handoff_with_agent", reference=receipt.reference)
    elif saved:
        dispatcher.utter_message(response="utter_handoff_saved")
    else:
        dispatcher.utter_message(response="utter_human_failed")
        return [SlotSet("handoff_reason", None), SlotSet("handoff_form", None)]
    return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("handoff_reason", None),
            SlotSet("handoff_form", None), ConversationPaused()]


class ActionRequestHuman(Action):
    """Hands the conversation to a person (the reason comes from the ``handoff_reason`` slot, if set)."""

    def __init__(self, client: HandoffClient | None = None, outbox: Outbox | None = None) -> None:
        self._client = client
        self._outbox = outbox

    def name(self) -> str:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            reason = Reason(tracker.get_slot("handoff_reason") or Reason.citizen_request)
        except ValueError:
            reason = Reason.citizen_request
        form = tracker.get_slot("handoff_form") if reason == Reason.form_failed else None
        return await escalate(dispatcher, tracker, reason, form, self._client, self._outbox)
