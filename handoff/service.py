"""What the handoff service does, between its store and the Rasa server.

The HTTP routes (handoff/routers/) call these; so does the background worker,
which retries deliveries the Rasa server did not confirm and imports citizen
messages that no push brought (the service was down when they were written).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from handoff.errors import HandoffConflict, HandoffError, HandoffNotFound, InvalidHandoff
from handoff.packet import ContextPacket, Urgency
from handoff.relay import RasaRelay
from handoff.store import Handoff, HandoffStore, Message, utcnow
from triage import detect_emergency
from triage.errors import TriageError

logger = logging.getLogger(__name__)

# A packet that reached the queue this long after the bot escalated came from the outbox:
# the citizen was told it was saved, so they are told when it arrives.
LATE_DELIVERY = timedelta(seconds=15)
BOT_HAS_IT_AGAIN = ("Not delivered: the conversation is back with the bot (the citizen started over, or it was "
                    "handed back). Resolve this handoff.")


class HandoffService:
    """Queue operations that also reach the citizen through the Rasa server."""

    def __init__(self, store: HandoffStore, relay: RasaRelay) -> None:
        self.store = store
        self.relay = relay

    def create(self, packet: ContextPacket, idempotency_key: str) -> tuple[Handoff, bool]:
        return self.store.create(packet, idempotency_key)

    async def after_create(self, handoff: Handoff, from_outbox: bool = False) -> None:
        """Import what the citizen wrote before the packet arrived; if it came late, tell them it has."""
        await self.sync(handoff)
        if not from_outbox and handoff.created_at - handoff.escalated_at < LATE_DELIVERY:
            return
        position = self.store.position(handoff.reference)
        if position is None:
            return  # an agent has it already, and says so
        try:
            await self.relay.notify(handoff.conversation_id, "utter_handoff_delivered",
                                    {"position": position, "reference": handoff.reference})
        except HandoffError:
            logger.warning("could not tell %s that the request arrived", handoff.reference, exc_info=True)

    def citizen_message(self, conversation_id: str, message_id: str, text: str, at: datetime | None,
                        language: str | None, intent: str | None) -> tuple[Message, bool]:
        """Record it; a message that describes an emergency moves the handoff to the top of the queue."""
        message, new = self.store.add_citizen_message(conversation_id, message_id, text, at, language, intent)
        if new:
            self._triage(message.reference, text)
        return message, new

    def _triage(self, reference: str, text: str) -> None:
        try:
            emergency = detect_emergency(text)
        except (TriageError, OSError):
            logger.error("the triage rules cannot be read; %s is not triaged", reference, exc_info=True)
            return
        if emergency is not None:
            self.store.raise_urgency(reference, Urgency.emergency, (
                f"Triage: the citizen describes an emergency ({emergency.kind}: “{emergency.evidence}”) and was "
                "given the emergency number. Moved to the top of the queue."))

    async def agent_reply(self, reference: str, agent: str, agent_name: str, text: str) -> Message:
        """Store the reply, then deliver it; it stays "pending" (and is retried) if Rasa is down."""
        message = self.store.add_agent_message(reference, agent, text, agent_name)
        return await self._deliver(message)

    async def _deliver(self, message: Message) -> Message:
        handoff = self.store.get(message.reference)
        try:
            pushed = await self.relay.send_agent_message(handoff.conversation_id, message.message_id, message.text,
                                                         message.agent_name or message.agent or "")
        except (HandoffConflict, HandoffNotFound) as exc:
            logger.warning("agent message %s cannot be delivered: %s", message.id, exc)
            self.store.add_system_message(message.reference, BOT_HAS_IT_AGAIN)
            return self.store.set_delivery(message, "failed")
        except HandoffError:
            logger.warning("agent message %s not delivered yet; will retry", message.id, exc_info=True)
            return message
        # "recorded": in the conversation, but the citizen's channel cannot push (the REST API).
        return self.store.set_delivery(message, "sent" if pushed else "recorded")

    async def resolve(self, reference: str, agent: str, note: str | None, admin: bool = False) -> dict[str, Any]:
        self.store.resolve(reference, agent, note, admin)
        await self._hand_back(self.store.get(reference))
        return self.store.summary(reference)

    async def _hand_back(self, handoff: Handoff) -> None:
        if any(m.reference == handoff.reference for m in self.store.undelivered()):
            return  # the agent's last words reach the citizen first
        try:
            await self.relay.resume(handoff.conversation_id, handoff.reference)
        except (HandoffNotFound, InvalidHandoff) as exc:
            logger.error("%s cannot be handed back to the bot: %s", handoff.reference, exc)
        except HandoffError:
            logger.warning("could not hand %s back to the bot yet; will retry", handoff.reference, exc_info=True)
            return
        self.store.handback_done(handoff.reference)

    async def sync(self, handoff: Handoff) -> int:
        """Import the citizen's messages that the Rasa server has and the queue does not."""
        try:
            messages = await self.relay.citizen_messages(handoff.conversation_id)
        except HandoffError:
            logger.warning("could not read %s's messages from the Rasa server", handoff.reference, exc_info=True)
            return 0
        imported = 0
        for item in messages:
            try:
                at = datetime.fromisoformat(item["timestamp"]) if item.get("timestamp") else None
                if at is not None and at < handoff.escalated_at - timedelta(seconds=1):
                    continue
                _, new = self.citizen_message(handoff.conversation_id, str(item["message_id"]), str(item["text"]),
                                              at, item.get("language"), item.get("intent"))
            except (KeyError, ValueError, HandoffNotFound):
                continue
            imported += new
        return imported

    async def retry_round(self, sync_open: bool) -> None:
        """Deliver what is pending; with ``sync_open``, also check every open handoff for missed messages."""
        for message in self.store.undelivered():
            if utcnow() - message.at > timedelta(hours=24):
                self.store.set_delivery(message, "failed")
                continue
            await self._deliver(message)
        for handoff in self.store.pending_handbacks():
            await self._hand_back(handoff)
        if sync_open:
            for handoff in self.store.open_handoffs():
                await self.sync(handoff)


async def run_worker(service: HandoffService, sync_seconds: float, stop: asyncio.Event) -> None:
    """Retry deliveries every second and look for missed messages every ``sync_seconds`` (and at start)."""
    last_sync = 0.0
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        now = loop.time()
        try:
            await service.retry_round(sync_open=now - last_sync >= sync_seconds)
        except HandoffError:
            logger.warning("handoff worker round failed; trying again", exc_info=True)
        except Exception:
            logger.exception("unexpected error in the handoff worker")
        if now - last_sync >= sync_seconds:
            last_sync = now
        try:
            await asyncio.wait_for(stop.wait(), timeout=1.0)
        except asyncio.TimeoutError:
            pass
