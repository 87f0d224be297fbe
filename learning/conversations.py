"""Citizens' messages read back from Rasa's SQL tracker store (SQLite or PostgreSQL), without Rasa.

Rasa keeps one row per event (``events``: sender_id, type_name, timestamp, data as JSON).
A ``Turn`` is one citizen message with what the NLU made of it and what the bot did next.
Conversations are named by a one-way hash of their id, never by the id itself (a phone number
on WhatsApp).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from learning.errors import LearningError

PAUSE = "pause"  # ConversationPaused: a person took the conversation over
READ_BATCH = 2000


class TrackerStoreUnavailable(LearningError):
    """The tracker store cannot be read."""


@dataclass
class Turn:
    conversation: str  # pseudonymous
    text: str
    intent: str
    confidence: float
    ranking: list[tuple[str, float]]
    language: str
    channel: str
    timestamp: float
    actions: list[str] = field(default_factory=list)  # what the bot ran after it, until the next message
    handed_over: bool = False  # a person took the conversation over before the next message
    answering: str = ""  # the form question (requested slot) it answered, if a form was asking


def pseudonym(sender_id: str) -> str:
    return hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:12]


def _turn(sender_id: str, data: dict[str, Any], language: str, answering: str) -> Turn:
    parse = data.get("parse_data") or {}
    intent = parse.get("intent") or {}
    ranking = [(str(r.get("name")), float(r.get("confidence") or 0.0)) for r in parse.get("intent_ranking") or []
               if isinstance(r, dict)]
    detected = (parse.get("language_detection") or {}).get("language")
    return Turn(pseudonym(sender_id), str(data.get("text") or ""), str(intent.get("name") or ""),
                float(intent.get("confidence") or 0.0), ranking, str(detected or language),
                str(data.get("input_channel") or ""), float(data.get("timestamp") or 0.0), answering=answering)


def read_conversations(url: str, since: datetime) -> Iterator[list[Turn]]:
    """Every conversation's citizen messages since ``since``, in order, one conversation at a time."""
    try:
        engine = sa.create_engine(url)
        events = sa.Table("events", sa.MetaData(), autoload_with=engine)
    except SQLAlchemyError as exc:
        raise TrackerStoreUnavailable(f"cannot read the tracker store ({type(exc).__name__})") from exc
    query = (sa.select(events.c.sender_id, events.c.type_name, events.c.data)
             .where(events.c.timestamp >= since.timestamp())
             .where(events.c.type_name.in_(["user", "action", "slot", "active_loop", PAUSE]))
             .order_by(events.c.sender_id, events.c.id))
    current: str | None = None
    turns: list[Turn] = []
    language = requested = loop = ""
    try:
        with engine.connect() as connection:
            for sender_id, kind, raw in connection.execution_options(stream_results=True,
                                                                      yield_per=READ_BATCH).execute(query):
                if sender_id != current:
                    if turns:
                        yield turns
                    current, turns, language, requested, loop = sender_id, [], "", "", ""
                try:
                    data = json.loads(raw or "{}")
                except ValueError:
                    continue  # a row Rasa did not write: skipped
                if kind == "slot" and data.get("name") == "language" and isinstance(data.get("value"), str):
                    language = data["value"]
                elif kind == "slot" and data.get("name") == "requested_slot":
                    requested = str(data.get("value") or "")
                elif kind == "active_loop":
                    loop = str(data.get("name") or "")
                elif kind == "user":
                    turns.append(_turn(sender_id, data, language, requested if loop else ""))
                elif kind == "action" and turns and data.get("name") != "action_listen":
                    turns[-1].actions.append(str(data.get("name")))
                elif kind == PAUSE and turns:
                    turns[-1].handed_over = True
    except SQLAlchemyError as exc:
        raise TrackerStoreUnavailable(f"cannot read the tracker store ({type(exc).__name__})") from exc
    finally:
        engine.dispose()
    if turns:
        yield turns
