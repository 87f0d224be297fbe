"""Handoff to a person: the context packet, the queue service, the agent console, the relay.

The FastAPI app is ``handoff.app:app``; the bot reaches it through ``HandoffClient``
and the outbox; it reaches the citizen through ``RasaRelay`` (see docs/handoff.md).
"""

from __future__ import annotations

from handoff.client import HandoffClient, Receipt
from handoff.errors import (
    HandoffConflict,
    HandoffError,
    HandoffNotFound,
    HandoffUnavailable,
    InvalidHandoff,
    NotAllowed,
    NotAuthenticated,
)
from handoff.outbox import Outbox
from handoff.packet import SCHEMA_VERSION, ContextPacket, Reason, Urgency
from handoff.store import Handoff, HandoffStore, Message

__all__ = [
    "SCHEMA_VERSION",
    "ContextPacket",
    "Handoff",
    "HandoffClient",
    "HandoffConflict",
    "HandoffError",
    "HandoffNotFound",
    "HandoffStore",
    "HandoffUnavailable",
    "InvalidHandoff",
    "Message",
    "NotAllowed",
    "NotAuthenticated",
    "Outbox",
    "Reason",
    "Receipt",
    "Urgency",
]
