"""The durable handoff queue: handoffs, their messages and notes, and the event log.

SQLite by default, any SQLAlchemy URL (PostgreSQL when scaled out). Every change
also appends a row to ``handoff_events`` in the same transaction; the console's
live stream reads that log, so several service instances and a reconnecting
browser (``Last-Event-ID``) see every change exactly once and in order.

A conversation has at most one open handoff (waiting or active). States:
waiting -> active (claimed) -> waiting (released) ... -> resolved.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, declarative_base, sessionmaker

from handoff.errors import HandoffConflict, HandoffNotFound, HandoffUnavailable
from handoff.packet import ContextPacket, Urgency
from open311.errors import StoreUnavailable
from open311.store import make_engine

Base = declarative_base()

_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
OPEN = ("waiting", "active")
MAX_AGE = timedelta(days=1)  # an escalation time older than this is not believed (queue order)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite gives back naive datetimes; every time here is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


def open_tables(engine: sa.engine.Engine, base: Any) -> sessionmaker:
    """Create ``base``'s tables if missing; the session factory for them (HandoffUnavailable if down)."""
    try:
        base.metadata.create_all(engine)
    except SQLAlchemyError as exc:
        raise HandoffUnavailable(str(exc)) from exc
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


def new_reference() -> str:
    return "H-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(6))


class HandoffRow(Base):  # type: ignore[valid-type,misc]
    __tablename__ = "handoffs"

    reference = sa.Column(sa.String(16), primary_key=True)
    idempotency_key = sa.Column(sa.String(128), nullable=False, unique=True)
    conversation_id = sa.Column(sa.String(128), nullable=False, index=True)
    channel = sa.Column(sa.String(64), nullable=True)
    language = sa.Column(sa.String(8), nullable=False)
    reason = sa.Column(sa.String(32), nullable=False)
    urgency = sa.Column(sa.String(16), nullable=False)
    urgency_rank = sa.Column(sa.Integer, nullable=False)
    team = sa.Column(sa.String(64), nullable=False, index=True)
    status = sa.Column(sa.String(16), nullable=False, index=True)
    agent = sa.Column(sa.String(64), nullable=True)
    summary = sa.Column(sa.Text, nullable=False)
    packet = sa.Column(sa.Text, nullable=False)
    escalated_at = sa.Column(sa.DateTime(timezone=True), nullable=False)  # when the bot paused
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)  # when it reached the queue
    claimed_at = sa.Column(sa.DateTime(timezone=True), nullable=True)
    resolved_at = sa.Column(sa.DateTime(timezone=True), nullable=True)
    # The bot taking over again after resolve: "pending" until the Rasa server confirmed it.
    handback = sa.Column(sa.String(16), nullable=True)
    # Bumped first in every change: the write takes the row (PostgreSQL) or the database (SQLite)
    # before the state is read, so two agents claiming at once are served one after the other.
    version = sa.Column(sa.Integer, nullable=False, default=0)

    __table_args__ = (
        sa.Index("uq_open_handoff_per_conversation", "conversation_id", unique=True,
                 sqlite_where=sa.text("status IN ('waiting', 'active')"),
                 postgresql_where=sa.text("status IN ('waiting', 'active')")),
    )


class MessageRow(Base):  # type: ignore[valid-type,misc]
    __tablename__ = "handoff_messages"
    __table_args__ = (sa.UniqueConstraint("reference", "message_id", name="uq_handoff_message"),)

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    reference = sa.Column(sa.String(16), sa.ForeignKey("handoffs.reference"), nullable=False, index=True)
    message_id = sa.Column(sa.String(128), nullable=False)
    sender = sa.Column(sa.String(16), nullable=False)
    text = sa.Column(sa.Text, nullable=False)
    at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    agent = sa.Column(sa.String(64), nullable=True)
    agent_name = sa.Column(sa.String(128), nullable=True)  # as the citizen sees it
    delivery = sa.Column(sa.String(16), nullable=True)  # agent messages: pending, sent, recorded, failed
    language = sa.Column(sa.String(8), nullable=True)
    intent = sa.Column(sa.String(64), nullable=True)


class NoteRow(Base):  # type: ignore[valid-type,misc]
    __tablename__ = "handoff_notes"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    reference = sa.Column(sa.String(16), sa.ForeignKey("handoffs.reference"), nullable=False, index=True)
    agent = sa.Column(sa.String(64), nullable=False)
    text = sa.Column(sa.Text, nullable=False)
    at = sa.Column(sa.DateTime(timezone=True), nullable=False)


class EventRow(Base):  # type: ignore[valid-type,misc]
    __tablename__ = "handoff_events"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    kind = sa.Column(sa.String(16), nullable=False)  # handoff, message, note
    reference = sa.Column(sa.String(16), nullable=False)
    data = sa.Column(sa.Text, nullable=False)
    at = sa.Column(sa.DateTime(timezone=True), nullable=False)


@dataclass(frozen=True)
class Handoff:
    reference: str
    conversation_id: str
    channel: str | None
    language: str
    reason: str
    urgency: str
    team: str
    status: str
    agent: str | None
    summary: str
    created_at: datetime
    escalated_at: datetime
    claimed_at: datetime | None
    resolved_at: datetime | None
    handback: str | None

    def as_summary(self, position: int | None = None, unread: int = 0, now: datetime | None = None) -> dict[str, Any]:
        """The queue row the console shows (see docs/handoff.md)."""
        now = now or utcnow()
        until = now if self.status == "waiting" else (self.claimed_at or self.resolved_at or now)
        data = asdict(self)
        for key in ("created_at", "escalated_at", "claimed_at", "resolved_at"):
            data[key] = data[key].isoformat() if data[key] else None
        data["waiting_seconds"] = max(0, int((until - self.escalated_at).total_seconds()))
        data["position"] = position
        data["unread"] = unread
        return data


@dataclass(frozen=True)
class Message:
    id: int
    reference: str
    message_id: str
    sender: str
    text: str
    at: datetime
    agent: str | None
    agent_name: str | None
    delivery: str | None
    language: str | None
    intent: str | None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data


@dataclass(frozen=True)
class Note:
    id: int
    reference: str
    agent: str
    text: str
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "reference": self.reference, "agent": self.agent, "text": self.text,
                "at": self.at.isoformat()}


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    reference: str
    data: dict[str, Any]


class HandoffStore:
    """The queue and everything said in it."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self._sessions = open_tables(engine, Base)

    @classmethod
    def from_url(cls, url: str) -> HandoffStore:
        try:
            return cls(make_engine(url))
        except StoreUnavailable as exc:
            raise HandoffUnavailable(str(exc)) from exc

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except SQLAlchemyError as exc:
            raise HandoffUnavailable(str(exc)) from exc

    # Handoffs -------------------------------------------------------------------------------

    def create(self, packet: ContextPacket, idempotency_key: str) -> tuple[Handoff, bool]:
        """Queue the packet's conversation; (handoff, False) when the key or conversation is known.

        A repeated key (a retry, the outbox delivering again) returns what the first
        delivery created. A conversation that already has an open handoff keeps it.
        """
        for _ in range(2):  # a concurrent create of the same key loses the race once, then finds it
            try:
                with self._transaction() as session:
                    existing = self._find_existing(session, packet.conversation_id, idempotency_key)
                    if existing is not None:
                        return _handoff(existing), False
                    now = utcnow()
                    urgency = Urgency(packet.urgency)
                    row = HandoffRow(
                        reference=new_reference(),
                        idempotency_key=idempotency_key,
                        conversation_id=packet.conversation_id,
                        channel=packet.channel,
                        language=packet.language,
                        reason=packet.reason.value,
                        urgency=urgency.value,
                        urgency_rank=urgency.rank,
                        team=packet.team,
                        status="waiting",
                        summary=packet.summary,
                        packet=packet.json(),
                        escalated_at=min(max(packet.created_at, now - MAX_AGE), now),
                        created_at=now,
                    )
                    session.add(row)
                    session.flush()
                    handoff = _handoff(row)
                    self._log(session, "handoff", handoff.reference, self._summary(session, handoff))
                    return handoff, True
            except HandoffUnavailable as exc:
                if not isinstance(exc.__cause__, IntegrityError):
                    raise
        raise HandoffConflict("the same handoff was created concurrently")

    @staticmethod
    def _find_existing(session: Session, conversation_id: str, key: str) -> HandoffRow | None:
        by_key = session.execute(sa.select(HandoffRow).where(HandoffRow.idempotency_key == key)).scalar_one_or_none()
        if by_key is not None:
            return by_key  # type: ignore[no-any-return]
        return session.execute(  # type: ignore[no-any-return]
            sa.select(HandoffRow).where(
                HandoffRow.conversation_id == conversation_id, HandoffRow.status.in_(OPEN)
            )
        ).scalars().first()

    def get(self, reference: str) -> Handoff:
        with self._transaction() as session:
            return _handoff(self._row(session, reference))

    def packet(self, reference: str) -> dict[str, Any]:
        with self._transaction() as session:
            return json.loads(self._row(session, reference).packet)  # type: ignore[no-any-return]

    def open_for_conversation(self, conversation_id: str) -> Handoff | None:
        with self._transaction() as session:
            row = session.execute(
                sa.select(HandoffRow).where(
                    HandoffRow.conversation_id == conversation_id, HandoffRow.status.in_(OPEN)
                )
            ).scalars().first()
            return _handoff(row) if row is not None else None

    def open_handoffs(self) -> list[Handoff]:
        with self._transaction() as session:
            rows = session.execute(sa.select(HandoffRow).where(HandoffRow.status.in_(OPEN))).scalars()
            return [_handoff(row) for row in rows]

    def pending_handbacks(self) -> list[Handoff]:
        with self._transaction() as session:
            rows = session.execute(sa.select(HandoffRow).where(HandoffRow.handback == "pending")).scalars()
            return [_handoff(row) for row in rows]

    def queue(self, status: str = "open", language: str | None = None, team: str | None = None,
              limit: int = 200) -> list[dict[str, Any]]:
        """Queue rows, most urgent first, then longest waiting."""
        statuses = OPEN if status == "open" else (status,)
        with self._transaction() as session:
            query = sa.select(HandoffRow).where(HandoffRow.status.in_(statuses))
            if language:
                query = query.where(HandoffRow.language == language)
            if team:
                query = query.where(HandoffRow.team == team)
            if status == "resolved":
                query = query.order_by(HandoffRow.resolved_at.desc())
            else:
                query = query.order_by(HandoffRow.urgency_rank, HandoffRow.escalated_at)
            rows = session.execute(query.limit(limit)).scalars().all()
            unread = self._unread(session, [row.reference for row in rows])
            positions = self._positions(session)
            now = utcnow()
            return [
                _handoff(row).as_summary(positions.get(row.reference), unread.get(row.reference, 0), now)
                for row in rows
            ]

    def position(self, reference: str) -> int | None:
        """1 for the next waiting handoff an agent will take; None if not waiting."""
        with self._transaction() as session:
            return self._positions(session).get(reference)

    def summary(self, reference: str) -> dict[str, Any]:
        with self._transaction() as session:
            return self._summary(session, _handoff(self._row(session, reference)))

    def claim(self, reference: str, agent: str) -> dict[str, Any]:
        def change(row: HandoffRow) -> None:
            if row.status == "resolved":
                raise HandoffConflict("this conversation is already resolved")
            if row.status == "active" and row.agent != agent:
                raise HandoffConflict(f"{row.agent} is already handling this conversation")
            if row.status == "waiting":
                row.status, row.agent, row.claimed_at = "active", agent, utcnow()

        return self._change(reference, change, f"{agent} joined the conversation")

    def release(self, reference: str, agent: str, admin: bool = False) -> dict[str, Any]:
        def change(row: HandoffRow) -> None:
            self._require_owner(row, agent, admin)
            row.status, row.agent, row.claimed_at = "waiting", None, None

        return self._change(reference, change, f"{agent} put the conversation back in the queue")

    def transfer(
        self, reference: str, agent: str, team: str | None = None, to_agent: str | None = None, admin: bool = False
    ) -> dict[str, Any]:
        """To a team's queue (waiting again) or straight to another agent; the owner or an admin may."""
        def change(row: HandoffRow) -> None:
            self._require_owner(row, agent, admin)
            if team:
                row.team = team
            if to_agent:
                row.status, row.agent, row.claimed_at = "active", to_agent, utcnow()
            else:
                row.status, row.agent, row.claimed_at = "waiting", None, None

        target = f"{to_agent}" if to_agent else f"team {team}"
        return self._change(reference, change, f"{agent} transferred the conversation to {target}")

    def resolve(self, reference: str, agent: str, note: str | None = None, admin: bool = False) -> dict[str, Any]:
        """Close it and hand it back to the bot; the owner or an admin may (claim a waiting one first)."""
        def change(row: HandoffRow) -> None:
            self._require_owner(row, agent, admin)
            row.status, row.resolved_at, row.handback = "resolved", utcnow(), "pending"

        summary = self._change(reference, change, f"{agent} resolved the conversation; the bot takes over again")
        if note:
            self.add_note(reference, agent, note)
        return summary

    def raise_urgency(self, reference: str, urgency: Urgency, system_text: str) -> dict[str, Any] | None:
        """Move an open handoff up the queue (an emergency written during it); None if it is already as urgent."""
        with self._transaction() as session:
            row = self._row(session, reference)
            if row.urgency_rank <= urgency.rank or row.status not in OPEN:
                return None

        def change(row: HandoffRow) -> None:
            row.urgency, row.urgency_rank = urgency.value, urgency.rank

        return self._change(reference, change, system_text)

    def handback_done(self, reference: str) -> None:
        with self._transaction() as session:
            self._row(session, reference).handback = "done"

    @staticmethod
    def _require_owner(row: HandoffRow, agent: str, admin: bool = False) -> None:
        if row.status == "resolved":
            raise HandoffConflict("this conversation is already resolved")
        if not admin and (row.status != "active" or row.agent != agent):
            raise HandoffConflict("only the agent handling this conversation can do that; claim it first")

    def _change(self, reference: str, change: Any, system_text: str) -> dict[str, Any]:
        with self._transaction() as session:
            row = self._row(session, reference, for_update=True)
            change(row)
            session.flush()
            handoff = _handoff(row)
            self._add_message(session, reference, sender="system", text=system_text,
                              message_id="system-" + secrets.token_hex(8))
            summary = self._summary(session, handoff)
            self._log(session, "handoff", reference, summary)
            return summary

    # Messages and notes ---------------------------------------------------------------------

    def add_citizen_message(self, conversation_id: str, message_id: str, text: str, at: datetime | None = None,
                            language: str | None = None, intent: str | None = None) -> tuple[Message, bool]:
        """Record a citizen's message to the open handoff; (message, False) if already recorded."""
        for _ in range(2):  # a push and an import of the same message at once: the loser finds it
            try:
                with self._transaction() as session:
                    row = session.execute(
                        sa.select(HandoffRow).where(
                            HandoffRow.conversation_id == conversation_id, HandoffRow.status.in_(OPEN)
                        )
                    ).scalars().first()
                    if row is None:
                        raise HandoffNotFound(f"no open handoff for conversation {conversation_id}")
                    known = self._message_by_id(session, row.reference, message_id)
                    if known is not None:
                        return known, False
                    return self._add_message(session, row.reference, sender="citizen", text=text,
                                             message_id=message_id, at=aware(at), language=language,
                                             intent=intent), True
            except HandoffUnavailable as exc:
                if not isinstance(exc.__cause__, IntegrityError):
                    raise
        raise HandoffConflict("the same message was recorded concurrently")

    def add_agent_message(self, reference: str, agent: str, text: str, agent_name: str | None = None) -> Message:
        with self._transaction() as session:
            row = self._row(session, reference, for_update=True)
            self._require_owner(row, agent)
            return self._add_message(session, reference, sender="agent", text=text,
                                     message_id="agent-" + secrets.token_hex(12), agent=agent,
                                     agent_name=agent_name or agent, delivery="pending")

    def add_system_message(self, reference: str, text: str) -> Message:
        """A line in the transcript for the agents (the citizen does not see it)."""
        with self._transaction() as session:
            self._row(session, reference)
            return self._add_message(session, reference, sender="system", text=text,
                                     message_id="system-" + secrets.token_hex(8))

    def set_delivery(self, message: Message, delivery: str) -> Message:
        with self._transaction() as session:
            row = session.get(MessageRow, message.id)
            if row is None:
                raise HandoffNotFound(f"no message {message.id}")
            row.delivery = delivery
            updated = _message(row)
            self._log(session, "message", updated.reference, updated.as_dict())
            return updated

    def undelivered(self) -> list[Message]:
        """Agent messages not yet confirmed by the Rasa server, oldest first."""
        with self._transaction() as session:
            rows = session.execute(
                sa.select(MessageRow).where(MessageRow.delivery == "pending").order_by(MessageRow.id)
            ).scalars()
            return [_message(row) for row in rows]

    def messages(self, reference: str) -> list[Message]:
        with self._transaction() as session:
            self._row(session, reference)
            rows = session.execute(
                sa.select(MessageRow).where(MessageRow.reference == reference).order_by(MessageRow.at, MessageRow.id)
            ).scalars()
            return [_message(row) for row in rows]

    def add_note(self, reference: str, agent: str, text: str) -> Note:
        with self._transaction() as session:
            self._row(session, reference)
            row = NoteRow(reference=reference, agent=agent, text=text, at=utcnow())
            session.add(row)
            session.flush()
            note = Note(row.id, reference, agent, text, aware(row.at))  # type: ignore[arg-type]
            self._log(session, "note", reference, note.as_dict())
            return note

    def notes(self, reference: str) -> list[Note]:
        with self._transaction() as session:
            rows = session.execute(
                sa.select(NoteRow).where(NoteRow.reference == reference).order_by(NoteRow.id)
            ).scalars()
            return [Note(r.id, r.reference, r.agent, r.text, aware(r.at)) for r in rows]  # type: ignore[arg-type]

    # The event log --------------------------------------------------------------------------

    def events_after(self, last_id: int, limit: int = 200) -> list[Event]:
        with self._transaction() as session:
            rows = session.execute(
                sa.select(EventRow).where(EventRow.id > last_id).order_by(EventRow.id).limit(limit)
            ).scalars()
            return [Event(r.id, r.kind, r.reference, json.loads(r.data)) for r in rows]

    def last_event_id(self) -> int:
        with self._transaction() as session:
            return int(session.execute(sa.select(sa.func.max(EventRow.id))).scalar() or 0)

    # Internals ------------------------------------------------------------------------------

    @staticmethod
    def _row(session: Session, reference: str, for_update: bool = False) -> HandoffRow:
        if for_update:  # write first, read after: see HandoffRow.version
            session.execute(sa.update(HandoffRow).where(HandoffRow.reference == reference)
                            .values(version=HandoffRow.version + 1).execution_options(synchronize_session=False))
        row = session.execute(sa.select(HandoffRow).where(HandoffRow.reference == reference)).scalar_one_or_none()
        if row is None:
            raise HandoffNotFound(f"no handoff {reference}")
        return row  # type: ignore[no-any-return]

    @staticmethod
    def _message_by_id(session: Session, reference: str, message_id: str) -> Message | None:
        row = session.execute(
            sa.select(MessageRow).where(MessageRow.reference == reference, MessageRow.message_id == message_id)
        ).scalar_one_or_none()
        return _message(row) if row is not None else None

    def _add_message(self, session: Session, reference: str, *, sender: str, text: str, message_id: str,
                     at: datetime | None = None, agent: str | None = None, agent_name: str | None = None,
                     delivery: str | None = None, language: str | None = None,
                     intent: str | None = None) -> Message:
        row = MessageRow(reference=reference, message_id=message_id, sender=sender, text=text, at=at or utcnow(),
                         agent=agent, agent_name=agent_name, delivery=delivery, language=language, intent=intent)
        session.add(row)
        session.flush()
        message = _message(row)
        self._log(session, "message", reference, message.as_dict())
        return message

    @staticmethod
    def _log(session: Session, kind: str, reference: str, data: dict[str, Any]) -> None:
        session.add(EventRow(kind=kind, reference=reference, data=json.dumps(data, default=str), at=utcnow()))

    @staticmethod
    def _positions(session: Session) -> dict[str, int]:
        rows = session.execute(
            sa.select(HandoffRow.reference)
            .where(HandoffRow.status == "waiting")
            .order_by(HandoffRow.urgency_rank, HandoffRow.escalated_at)
        ).scalars()
        return {reference: index for index, reference in enumerate(rows, start=1)}

    @staticmethod
    def _unread(session: Session, references: list[str]) -> dict[str, int]:
        """Citizen messages since the last agent message, per handoff."""
        if not references:
            return {}
        rows = session.execute(
            sa.select(MessageRow.reference, MessageRow.sender)
            .where(MessageRow.reference.in_(references), MessageRow.sender.in_(("citizen", "agent")))
            .order_by(MessageRow.id)
        ).all()
        unread: dict[str, int] = {}
        for reference, sender in rows:
            unread[reference] = unread.get(reference, 0) + 1 if sender == "citizen" else 0
        return unread

    def _summary(self, session: Session, handoff: Handoff) -> dict[str, Any]:
        unread = self._unread(session, [handoff.reference]).get(handoff.reference, 0)
        return handoff.as_summary(self._positions(session).get(handoff.reference), unread)


def _handoff(row: HandoffRow) -> Handoff:
    return Handoff(
        reference=row.reference,
        conversation_id=row.conversation_id,
        channel=row.channel,
        language=row.language,
        reason=row.reason,
        urgency=row.urgency,
        team=row.team,
        status=row.status,
        agent=row.agent,
        summary=row.summary,
        created_at=aware(row.created_at),  # type: ignore[arg-type]
        escalated_at=aware(row.escalated_at),  # type: ignore[arg-type]
        claimed_at=aware(row.claimed_at),
        resolved_at=aware(row.resolved_at),
        handback=row.handback,
    )


def _message(row: MessageRow) -> Message:
    return Message(
        id=row.id,
        reference=row.reference,
        message_id=row.message_id,
        sender=row.sender,
        text=row.text,
        at=aware(row.at),  # type: ignore[arg-type]
        agent=row.agent,
        agent_name=row.agent_name,
        delivery=row.delivery,
        language=row.language,
        intent=row.intent,
    )
