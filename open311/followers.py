"""Who follows which service request: the conversations told when its status changes.

Kept in the bot's own database (the action server's), not on the Open311 server, so
notifications work with any GeoReport v2 server: the watcher (open311/watcher.py)
asks the server for the followed requests and compares.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import declarative_base, sessionmaker

from open311.errors import StoreUnavailable

Base = declarative_base()


class FollowerRow(Base):  # type: ignore[valid-type,misc]
    __tablename__ = "request_followers"
    __table_args__ = (sa.UniqueConstraint("service_request_id", "conversation_id"),)

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    service_request_id = sa.Column(sa.String(64), nullable=False, index=True)
    conversation_id = sa.Column(sa.String(128), nullable=False)
    last_status = sa.Column(sa.String(16), nullable=False)
    last_notes = sa.Column(sa.Text, nullable=True)
    active = sa.Column(sa.Boolean, nullable=False, default=True, index=True)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)


@dataclass(frozen=True)
class Follower:
    service_request_id: str
    conversation_id: str
    last_status: str
    last_notes: str | None


class FollowerStore:
    def __init__(self, engine: sa.engine.Engine) -> None:
        self._sessions = sessionmaker(bind=engine, future=True, expire_on_commit=False)
        try:
            Base.metadata.create_all(engine)
        except SQLAlchemyError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def follow(self, service_request_id: str, conversation_id: str, status: str, notes: str | None) -> bool:
        """Start telling the conversation about the request; False if it already follows it."""
        try:
            with self._sessions.begin() as session:
                row = session.execute(sa.select(FollowerRow).filter_by(
                    service_request_id=service_request_id, conversation_id=conversation_id)).scalar_one_or_none()
                if row is not None:
                    was_active, row.active = row.active, True
                    if not was_active:  # following again: tell changes from now on, not since it stopped
                        row.last_status, row.last_notes = status, notes
                    return not was_active
                session.add(FollowerRow(service_request_id=service_request_id, conversation_id=conversation_id,
                                        last_status=status, last_notes=notes, active=True,
                                        created_at=datetime.now(timezone.utc)))
                return True
        except SQLAlchemyError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def active(self) -> list[Follower]:
        try:
            with self._sessions() as session:
                rows = session.execute(sa.select(FollowerRow).filter_by(active=True)).scalars().all()
                return [Follower(r.service_request_id, r.conversation_id, r.last_status, r.last_notes) for r in rows]
        except SQLAlchemyError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def claim(self, follower: Follower, status: str, notes: str | None, active: bool) -> bool:
        """Record a change as told, only if nobody did since ``follower`` was read: True if this caller may tell it.

        Several action servers each run a watcher; the one whose update lands tells the citizen.
        """
        notes_then = FollowerRow.last_notes.is_(None) if follower.last_notes is None \
            else FollowerRow.last_notes == follower.last_notes
        try:
            with self._sessions.begin() as session:
                result = session.execute(sa.update(FollowerRow).where(
                    FollowerRow.service_request_id == follower.service_request_id,
                    FollowerRow.conversation_id == follower.conversation_id,
                    FollowerRow.active.is_(True), FollowerRow.last_status == follower.last_status, notes_then,
                ).values(last_status=status, last_notes=notes, active=active))
                return bool(result.rowcount == 1)
        except SQLAlchemyError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def record(self, follower: Follower, status: str, notes: str | None, active: bool) -> None:
        """The citizen was told about this status: remember it (and stop following a closed request)."""
        try:
            with self._sessions.begin() as session:
                session.execute(sa.update(FollowerRow).filter_by(
                    service_request_id=follower.service_request_id, conversation_id=follower.conversation_id,
                ).values(last_status=status, last_notes=notes, active=active))
        except SQLAlchemyError as exc:
            raise StoreUnavailable(str(exc)) from exc
