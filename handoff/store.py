"""Requests for a person, kept until the city's team picks them up.

This is the durable start of the handoff queue: each row is a citizen who
asked for (or was offered and accepted) a human, with why and where.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import declarative_base, sessionmaker

from handoff.errors import HandoffUnavailable
from open311.errors import StoreUnavailable
from open311.store import make_engine

Base = declarative_base()

_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class HandoffRow(Base):  # type: ignore[valid-type,misc]
    __tablename__ = "handoff_requests"

    reference = sa.Column(sa.String(16), primary_key=True)
    conversation_id = sa.Column(sa.String(128), nullable=False, index=True)
    channel = sa.Column(sa.String(64), nullable=True)
    language = sa.Column(sa.String(8), nullable=True)
    reason = sa.Column(sa.String(64), nullable=False)
    status = sa.Column(sa.String(16), nullable=False, default="waiting", index=True)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=_utcnow)


@dataclass(frozen=True)
class HandoffRequest:
    reference: str
    conversation_id: str
    channel: str | None
    reason: str
    status: str
    created_at: datetime


class HandoffStore:
    """Record and list requests for a person."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self._sessions = sessionmaker(bind=engine, future=True, expire_on_commit=False)
        try:
            Base.metadata.create_all(engine)
        except SQLAlchemyError as exc:
            raise HandoffUnavailable(str(exc)) from exc

    @classmethod
    def from_url(cls, url: str) -> HandoffStore:
        try:
            return cls(make_engine(url))
        except StoreUnavailable as exc:
            raise HandoffUnavailable(str(exc)) from exc

    def open_request(
        self,
        *,
        conversation_id: str,
        reason: str,
        channel: str | None = None,
        language: str | None = None,
    ) -> HandoffRequest:
        """Record a request; a conversation already waiting keeps its one reference."""
        try:
            with self._sessions.begin() as session:
                row = session.execute(
                    sa.select(HandoffRow).where(
                        HandoffRow.conversation_id == conversation_id,
                        HandoffRow.status == "waiting",
                    )
                ).scalar_one_or_none()
                if row is None:
                    row = HandoffRow(
                        reference="H-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(6)),
                        conversation_id=conversation_id,
                        channel=channel,
                        language=language,
                        reason=reason,
                        status="waiting",
                        created_at=_utcnow(),
                    )
                    session.add(row)
                return self._to_request(row)
        except SQLAlchemyError as exc:
            raise HandoffUnavailable(str(exc)) from exc

    def waiting(self) -> list[HandoffRequest]:
        try:
            with self._sessions() as session:
                rows = session.execute(
                    sa.select(HandoffRow)
                    .where(HandoffRow.status == "waiting")
                    .order_by(HandoffRow.created_at)
                ).scalars()
                return [self._to_request(row) for row in rows]
        except SQLAlchemyError as exc:
            raise HandoffUnavailable(str(exc)) from exc

    @staticmethod
    def _to_request(row: HandoffRow) -> HandoffRequest:
        return HandoffRequest(
            reference=row.reference,
            conversation_id=row.conversation_id,
            channel=row.channel,
            reason=row.reason,
            status=row.status,
            created_at=row.created_at,
        )
