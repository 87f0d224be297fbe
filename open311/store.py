"""Durable service requests, stored with Open311 GeoReport v2 field names.

SQLite by default; any SQLAlchemy URL (PostgreSQL in a scaled-out
deployment) works unchanged. Besides the Open311 fields, each request keeps
the conversation, channel and language it came from, so the citizen can be
told about status changes where they asked.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import declarative_base, sessionmaker

from open311.errors import StoreUnavailable

Base = declarative_base()

# Crockford base32: no I, L, O or U, so ids read aloud or typed are not confused.
_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ID_PATTERN = re.compile(r"\bSR[-\s]?([0-9A-Z]{8})\b", re.IGNORECASE)
_CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})


def new_request_id() -> str:
    """A random, unguessable request id such as ``SR-7K3M9Q2X``."""
    return "SR-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


def request_ids_in(text: str) -> list[tuple[int, int, str]]:
    """Every request id written in the text: (start, end, id normalised as ``SR-7K3M9Q2X``)."""
    return [
        (match.start(), match.end(), "SR-" + match.group(1).upper().translate(_CONFUSABLE))
        for match in _ID_PATTERN.finditer(text or "")
    ]


def find_request_id(text: str) -> str | None:
    """The first request id written in the text, normalised (``sr 7k3m9q2x`` -> ``SR-7K3M9Q2X``)."""
    found = request_ids_in(text)
    return found[0][2] if found else None


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class ServiceRequestRow(Base):  # type: ignore[valid-type,misc]
    __tablename__ = "service_requests"

    service_request_id = sa.Column(sa.String(32), primary_key=True)
    service_code = sa.Column(sa.String(64), nullable=False, index=True)
    service_name = sa.Column(sa.String(200), nullable=False)
    description = sa.Column(sa.Text, nullable=False, default="")
    address_string = sa.Column(sa.String(500), nullable=True)
    lat = sa.Column(sa.Float, nullable=True)
    long = sa.Column(sa.Float, nullable=True)
    media_url = sa.Column(sa.String(2000), nullable=True)
    status = sa.Column(sa.String(16), nullable=False, default="open", index=True)
    status_notes = sa.Column(sa.Text, nullable=True)
    agency_responsible = sa.Column(sa.String(200), nullable=True)
    requested_datetime = sa.Column(sa.DateTime(timezone=True), nullable=False, default=_utcnow)
    updated_datetime = sa.Column(sa.DateTime(timezone=True), nullable=False, default=_utcnow)
    # Where the citizen asked (not Open311 fields; never exposed publicly).
    conversation_id = sa.Column(sa.String(128), nullable=True, index=True)
    channel = sa.Column(sa.String(64), nullable=True)
    language = sa.Column(sa.String(8), nullable=True)


@dataclass(frozen=True)
class ServiceRequest:
    """A service request as the rest of the code sees it."""

    service_request_id: str
    service_code: str
    service_name: str
    description: str
    address_string: str | None
    lat: float | None
    long: float | None
    media_url: str | None
    status: str
    status_notes: str | None
    agency_responsible: str | None
    requested_datetime: datetime
    updated_datetime: datetime
    conversation_id: str | None = None
    channel: str | None = None
    language: str | None = None

    @classmethod
    def from_row(cls, row: ServiceRequestRow) -> ServiceRequest:
        def aware(value: datetime) -> datetime:
            # SQLite drops the offset; everything is stored in UTC.
            return value if value.tzinfo else value.replace(tzinfo=timezone.utc)

        return cls(
            service_request_id=row.service_request_id,
            service_code=row.service_code,
            service_name=row.service_name,
            description=row.description,
            address_string=row.address_string,
            lat=row.lat,
            long=row.long,
            media_url=row.media_url,
            status=row.status,
            status_notes=row.status_notes,
            agency_responsible=row.agency_responsible,
            requested_datetime=aware(row.requested_datetime),
            updated_datetime=aware(row.updated_datetime),
            conversation_id=row.conversation_id,
            channel=row.channel,
            language=row.language,
        )


def use_sqlite_wal(dbapi_connection: object, connection_record: object) -> None:
    """SQLite in write-ahead-log mode: readers never block the writer, commits are cheaper.

    ``synchronous=NORMAL`` keeps every commit safe from a crash of the process; only a power
    loss can drop the last few commits.
    """
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def make_engine(url: str) -> sa.engine.Engine:
    """An engine for a SQLAlchemy URL; creates a SQLite file's folder if needed."""
    options: dict[str, object] = {"future": True, "pool_pre_ping": True}
    if url.startswith("sqlite"):
        database = sa.engine.make_url(url).database
        if database and database != ":memory:":
            try:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreUnavailable(f"cannot create the folder of {database}: {exc}") from exc
        options["connect_args"] = {"check_same_thread": False, "timeout": 15}
        engine = sa.create_engine(url, **options)
        sa.event.listen(engine, "connect", use_sqlite_wal)
        return engine
    return sa.create_engine(url, **options)


class RequestStore:
    """Create and read service requests."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(bind=engine, future=True, expire_on_commit=False)
        try:
            Base.metadata.create_all(engine)
        except SQLAlchemyError as exc:
            raise StoreUnavailable(str(exc)) from exc

    @classmethod
    def from_url(cls, url: str) -> RequestStore:
        return cls(make_engine(url))

    def create(
        self,
        *,
        service_code: str,
        service_name: str,
        description: str,
        address_string: str | None,
        agency_responsible: str | None,
        media_url: str | None = None,
        lat: float | None = None,
        long: float | None = None,
        conversation_id: str | None = None,
        channel: str | None = None,
        language: str | None = None,
    ) -> ServiceRequest:
        now = _utcnow()
        row = ServiceRequestRow(
            service_request_id=new_request_id(),
            service_code=service_code,
            service_name=service_name,
            description=description,
            address_string=address_string,
            lat=lat,
            long=long,
            media_url=media_url,
            status="open",
            status_notes="Received; waiting to be assigned to a crew.",
            agency_responsible=agency_responsible,
            requested_datetime=now,
            updated_datetime=now,
            conversation_id=conversation_id,
            channel=channel,
            language=language,
        )
        try:
            with self._sessions.begin() as session:
                session.add(row)
        except SQLAlchemyError as exc:
            raise StoreUnavailable(str(exc)) from exc
        return ServiceRequest.from_row(row)

    def get(self, service_request_id: str) -> ServiceRequest | None:
        try:
            with self._sessions() as session:
                row = session.get(ServiceRequestRow, service_request_id)
                return ServiceRequest.from_row(row) if row else None
        except SQLAlchemyError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def update_status(
        self, service_request_id: str, status: str, status_notes: str | None = None
    ) -> ServiceRequest | None:
        try:
            with self._sessions.begin() as session:
                row = session.get(ServiceRequestRow, service_request_id)
                if row is None:
                    return None
                row.status = status
                row.status_notes = status_notes
                row.updated_datetime = _utcnow()
                return ServiceRequest.from_row(row)
        except SQLAlchemyError as exc:
            raise StoreUnavailable(str(exc)) from exc
