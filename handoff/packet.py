"""The context packet: everything an agent needs to take over a conversation.

Versioned and documented: ``docs/handoff-packet.schema.json`` is generated from
these models (``python -m handoff schema``) and a test keeps it current. A new
optional field is a minor version (1.1); renaming or removing one is a major one.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field, validator

SCHEMA_VERSION = "1.1"
MAX_TEXT = 5000
MAX_TRANSCRIPT = 400


class Urgency(str, Enum):
    """How soon a person must answer; the queue is ordered by this, then by waiting time."""

    emergency = "emergency"
    high = "high"
    normal = "normal"
    low = "low"

    @property
    def rank(self) -> int:
        return list(Urgency).index(self)


class Reason(str, Enum):
    """Why the conversation was handed to a person."""

    citizen_request = "citizen_request"
    not_understood = "not_understood"
    form_failed = "form_failed"
    frustration = "frustration"
    emergency = "emergency"


class Sender(str, Enum):
    citizen = "citizen"
    bot = "bot"
    agent = "agent"
    system = "system"


class TranscriptEntry(BaseModel):
    """One message, either side, as the citizen saw or wrote it."""

    sender: Sender
    text: str = Field("", max_length=MAX_TEXT)
    at: datetime
    intent: str | None = None
    confidence: float | None = None
    language: str | None = None


class IntentSeen(BaseModel):
    """What the bot understood a recent citizen message as."""

    name: str
    confidence: float
    text: str = Field("", max_length=MAX_TEXT)


class EntitySeen(BaseModel):
    entity: str
    value: Any = None
    text: str | None = None


class FaqCandidate(BaseModel):
    """An FAQ entry the bot considered for the citizen's question."""

    id: str
    score: float | None = None
    question: str | None = None


class Triage(BaseModel):
    """The triage result: what kind of problem, how urgent, and which department."""

    category: str | None = None
    urgency: Urgency = Urgency.normal
    department: str | None = None
    emergency: str | None = Field(None, description="the kind of emergency (gas, fire, ...), if any")
    evidence: str | None = Field(None, max_length=500, description="the words or intent triage decided on")
    emergency_number_given: bool = False


class ContextPacket(BaseModel):
    """Posted by the bot to the handoff service when a conversation is escalated."""

    schema_version: str = Field(SCHEMA_VERSION, description="major.minor of this schema")
    conversation_id: str = Field(..., min_length=1, max_length=128, description="Rasa's sender id")
    channel: str | None = Field(None, max_length=64, description="socketio, rest, whatsapp, telegram")
    language: str = Field(..., min_length=2, max_length=8, description="the conversation's language code")
    reason: Reason
    urgency: Urgency = Urgency.normal
    team: str = Field("general", min_length=1, max_length=64, description="the team whose queue it joins")
    summary: str = Field(..., max_length=600, description="what an agent reads first (English)")
    transcript: list[TranscriptEntry] = Field(default_factory=list, max_items=MAX_TRANSCRIPT)
    slots: dict[str, Any] = Field(default_factory=dict, description="the bot's slots, unset ones left out")
    active_form: str | None = Field(None, description="the form the citizen was filling in, if any")
    intents: list[IntentSeen] = Field(default_factory=list, max_items=20, description="latest first")
    entities: list[EntitySeen] = Field(default_factory=list, max_items=50)
    faq_candidates: list[FaqCandidate] = Field(default_factory=list, max_items=20)
    triage: Triage | None = None
    created_at: datetime

    @validator("created_at")
    def _utc(cls, value: datetime) -> datetime:
        return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)

    @validator("schema_version")
    def _same_major_version(cls, value: str) -> str:
        if value.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
            raise ValueError(f"schema version {value} is not supported (this service reads {SCHEMA_VERSION})")
        return value

    class Config:
        extra = "ignore"  # a newer minor version's extra fields are kept out, not refused
        title = "Handoff context packet"


def json_schema() -> str:
    """The packet's JSON schema, as published in docs/."""
    schema = ContextPacket.schema()
    schema["$id"] = f"https://citybot.example/schemas/handoff-packet-{SCHEMA_VERSION}.json"
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
