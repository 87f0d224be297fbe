"""Durable service requests, stored with Open311 GeoReport v2 field names.

SQLite by default; any SQLAlchemy URL (PostgreSQL in a scaled-out
deployment) works unchanged. Besides the Open311 fields, each request keeps
the channel it came through (``open311`` for the API; conversation and language
columns are from before the bot filed through the API, and stay empty now: who
to tell about a request is the bot's own business, open311/followers.py). Every
change of status or notes is appended to ``service_request_updates``, the
request's history for the city's back office (:meth:`RequestStore.changes_after`).
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import declarative_base, sessionmaker

from open311.errors import InvalidServiceRequest, StoreUnavailable

logger = logging.getLogger(__name__)

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


STATUSES = ("open", "closed")
MAX_RESULTS = 1000


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime) -> datetime:
    # SQLite drops the offset; everything is stored in UTC.
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _utc(value: datetime) -> datetime:
    """``value`` in UTC, as stored: SQLite compares the text and ignores any offset."""
    return _aware(value).astimezone(timezone.utc)


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
    requested_datetime = sa.Column(sa.DateTime(timezone=True), nullable=False, default=_utcnow, index=True)
    updated_datetime = sa.Column(sa.DateTime(timezone=True), nullable=False, default=_utcnow)
    # Where the citizen asked (not Open311 fields; never exposed publicly).
    conversation_id = sa.Column(sa.String(128), nullable=True, index=True)
    channel = sa.Column(sa.String(64), nullable=True)
    language = sa.Column(sa.String(8), nullable=True)
    # Added after the first release: every column from here on must stay nullable, because
    # _migrate() adds them to existing databases with ALTER TABLE ADD COLUMN.
    address_id = sa.Column(sa.String(200), nullable=True)
    attributes = sa.Column(sa.JSON, nullable=True)  # the service definition's answers: {code: key or [keys]}
    urgency = sa.Column(sa.String(8), nullable=True)  # low, normal or high (triage.report_urgency)
    # The submitter (Open311 POST fields): stored for the city's staff, never served or logged.
    email = sa.Column(sa.String(254), nullable=True)
    phone = sa.Column(sa.String(50), nullable=True)
    first_name = sa.Column(sa.String(100), nullable=True)
    last_name = sa.Column(sa.String(100), nullable=True)
    device_id = sa.Column(sa.String(200), nullable=True)
    account_id = sa.Column(sa.String(200), nullable=True)


class StatusUpdateRow(Base):  # type: ignore[valid-type,misc]
    __tablename__ = "service_request_updates"
    # AUTOINCREMENT: SQLite never reuses an id, so a reader polling "after id N" misses nothing.
    __table_args__ = {"sqlite_autoincrement": True}

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    service_request_id = sa.Column(sa.String(32), nullable=False, index=True)
    old_status = sa.Column(sa.String(16), nullable=True)
    new_status = sa.Column(sa.String(16), nullable=False)
    status_notes = sa.Column(sa.Text, nullable=True)
    changed_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=_utcnow)


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
    address_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict, compare=False)
    urgency: str | None = None
    # The submitter: kept out of repr() so that logging a request never logs them.
    email: str | None = field(default=None, repr=False)
    phone: str | None = field(default=None, repr=False)
    first_name: str | None = field(default=None, repr=False)
    last_name: str | None = field(default=None, repr=False)
    device_id: str | None = field(default=None, repr=False)
    account_id: str | None = field(default=None, repr=False)

    @classmethod
    def from_row(cls, row: ServiceRequestRow) -> ServiceRequest:
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
            requested_datetime=_aware(row.requested_datetime),
            updated_datetime=_aware(row.updated_datetime),
            conversation_id=row.conversation_id,
            channel=row.channel,
            language=row.language,
            address_id=row.address_id,
            attributes=dict(row.attributes or {}),
            urgency=row.urgency,
            email=row.email,
            phone=row.phone,
            first_name=row.first_name,
            last_name=row.last_name,
            device_id=row.device_id,
            account_id=row.account_id,
        )


@dataclass(frozen=True)
class StatusChange:
    """One change of a request's status or status notes, in the order they happened (``id``)."""

    id: int
    service_request_id: str
    old_status: str | None
    new_status: str
    status_notes: str | None
    changed_at: datetime

    @classmethod
    def from_row(cls, row: StatusUpdateRow) -> StatusChange:
        return cls(
            id=row.id,
            service_request_id=row.service_request_id,
            old_status=row.old_status,
            new_status=row.new_status,
            status_notes=row.status_notes,
            changed_at=_aware(row.changed_at),
        )


def _unavailable(exc: SQLAlchemyError) -> StoreUnavailable:
    """The database error without its statement and parameters, which may hold a submitter's e-mail or phone.

    Raised ``from None`` for the same reason: a caller logging with ``exc_info`` would print the
    chained SQLAlchemy error, parameters included.
    """
    reason = getattr(exc, "orig", None)
    return StoreUnavailable(f"{type(exc).__name__}: {reason if reason is not None else exc}")


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


def _migrate(engine: sa.engine.Engine) -> None:
    """Bring a database made by an earlier release up to date: add missing columns and indexes.

    ``create_all`` creates missing tables only. Columns added since are all nullable, so
    ``ALTER TABLE ADD COLUMN`` is enough, on SQLite and PostgreSQL alike. Two processes (web app,
    action server) may start together: whichever adds a column second finds it there and moves on.
    """
    preparer = engine.dialect.identifier_preparer
    for table in Base.metadata.sorted_tables:
        existing = {column["name"] for column in sa.inspect(engine).get_columns(table.name)}
        for column in table.columns:
            if column.name in existing:
                continue
            ddl = (
                f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN "
                f"{preparer.format_column(column)} {column.type.compile(dialect=engine.dialect)}"
            )
            try:
                with engine.begin() as connection:
                    connection.exec_driver_sql(ddl)
                logger.info("added column %s.%s", table.name, column.name)
            except SQLAlchemyError:
                if column.name not in {c["name"] for c in sa.inspect(engine).get_columns(table.name)}:
                    raise
        indexes = {index["name"] for index in sa.inspect(engine).get_indexes(table.name)}
        for index in table.indexes:
            if index.name in indexes:
                continue
            try:
                index.create(engine)
            except SQLAlchemyError:
                if index.name not in {i["name"] for i in sa.inspect(engine).get_indexes(table.name)}:
                    raise


class RequestStore:
    """Create, read, search and update service requests; every status change is kept in order."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(bind=engine, future=True, expire_on_commit=False)
        try:
            Base.metadata.create_all(engine)
            _migrate(engine)
        except SQLAlchemyError as exc:
            raise _unavailable(exc) from None

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
        address_id: str | None = None,
        attributes: dict[str, Any] | None = None,
        urgency: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        device_id: str | None = None,
        account_id: str | None = None,
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
            address_id=address_id,
            attributes=attributes or None,
            urgency=urgency,
            email=email,
            phone=phone,
            first_name=first_name,
            last_name=last_name,
            device_id=device_id,
            account_id=account_id,
        )
        try:
            with self._sessions.begin() as session:
                session.add(row)
        except SQLAlchemyError as exc:
            raise _unavailable(exc) from None
        return ServiceRequest.from_row(row)

    def get(self, service_request_id: str) -> ServiceRequest | None:
        try:
            with self._sessions() as session:
                row = session.get(ServiceRequestRow, service_request_id)
                return ServiceRequest.from_row(row) if row else None
        except SQLAlchemyError as exc:
            raise _unavailable(exc) from None

    def search(
        self,
        *,
        service_request_ids: Sequence[str] | None = None,
        service_codes: Sequence[str] | None = None,
        statuses: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = MAX_RESULTS,
    ) -> list[ServiceRequest]:
        """Requests matching every filter given (None: no filter), newest first, at most ``limit``."""
        row = ServiceRequestRow
        query = sa.select(row)
        if service_request_ids is not None:
            query = query.where(row.service_request_id.in_(list(service_request_ids)))
        if service_codes is not None:
            query = query.where(row.service_code.in_(list(service_codes)))
        if statuses is not None:
            query = query.where(row.status.in_(list(statuses)))
        if start is not None:
            query = query.where(row.requested_datetime >= _utc(start))
        if end is not None:
            query = query.where(row.requested_datetime <= _utc(end))
        query = query.order_by(row.requested_datetime.desc(), row.service_request_id.desc()).limit(limit)
        try:
            with self._sessions() as session:
                return [ServiceRequest.from_row(found) for found in session.scalars(query)]
        except SQLAlchemyError as exc:
            raise _unavailable(exc) from None

    def update_status(
        self,
        service_request_id: str,
        status: str,
        status_notes: str | None = None,
        *,
        agency_responsible: str | None = None,
    ) -> ServiceRequest | None:
        """Set the status and its notes (and the agency, when given); None if there is no such request.

        Only a real change touches ``updated_datetime``; a change of status or notes is also
        recorded for :meth:`changes_after` (a change of agency alone is not: citizens are not
        told about it).
        """
        if status not in STATUSES:
            raise InvalidServiceRequest(f"status must be one of {', '.join(STATUSES)}")
        try:
            with self._sessions.begin() as session:
                # FOR UPDATE (ignored by SQLite, which locks the whole file): two staff members
                # closing the same request at once record two changes with the right old status.
                row = session.get(ServiceRequestRow, service_request_id, with_for_update=True)
                if row is None:
                    return None
                agency = row.agency_responsible if agency_responsible is None else agency_responsible
                told = (row.status, row.status_notes) != (status, status_notes)
                if told or agency != row.agency_responsible:
                    now = _utcnow()
                    if told:
                        session.add(
                            StatusUpdateRow(
                                service_request_id=service_request_id,
                                old_status=row.status,
                                new_status=status,
                                status_notes=status_notes,
                                changed_at=now,
                            )
                        )
                    row.status, row.status_notes, row.agency_responsible = status, status_notes, agency
                    row.updated_datetime = now
                return ServiceRequest.from_row(row)
        except SQLAlchemyError as exc:
            raise _unavailable(exc) from None

    def changes_after(self, last_id: int, limit: int = 100) -> list[StatusChange]:
        """Status changes with an id above ``last_id``, oldest first: poll with the last id seen."""
        query = (
            sa.select(StatusUpdateRow)
            .where(StatusUpdateRow.id > last_id)
            .order_by(StatusUpdateRow.id)
            .limit(limit)
        )
        try:
            with self._sessions() as session:
                return [StatusChange.from_row(row) for row in session.scalars(query)]
        except SQLAlchemyError as exc:
            raise _unavailable(exc) from None

    def last_change_id(self) -> int:
        """The id of the latest status change (0 if none): where a new poller starts."""
        try:
            with self._sessions() as session:
                return int(session.scalar(sa.select(sa.func.max(StatusUpdateRow.id))) or 0)
        except SQLAlchemyError as exc:
            raise _unavailable(exc) from None
