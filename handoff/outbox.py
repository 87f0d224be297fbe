"""Context packets waiting to reach the handoff service: nothing lost, nothing duplicated.

The escalation action writes the packet here before posting it. A packet the
service did not confirm stays "pending" and the deliverer (a thread of the
action server) retries it with growing pauses until it is confirmed. The
idempotency key is the packet's identity at the service, so a packet posted
twice (a timeout after the service had stored it, two action servers) still
makes one handoff.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import declarative_base

from handoff.client import HandoffClient, Receipt
from handoff.errors import HandoffError, HandoffUnavailable, InvalidHandoff
from handoff.packet import ContextPacket
from handoff.store import open_tables, utcnow

logger = logging.getLogger(__name__)
Base = declarative_base()

MAX_PAUSE_SECONDS = 60.0
LEASE = timedelta(seconds=30)  # a deliverer's claim on a row; another may retry it after that


class OutboxRow(Base):  # type: ignore[valid-type,misc]
    __tablename__ = "handoff_outbox"

    idempotency_key = sa.Column(sa.String(128), primary_key=True)
    conversation_id = sa.Column(sa.String(128), nullable=False, index=True)
    packet = sa.Column(sa.Text, nullable=False)
    status = sa.Column(sa.String(16), nullable=False, index=True)  # pending, delivered, rejected
    reference = sa.Column(sa.String(16), nullable=True)
    attempts = sa.Column(sa.Integer, nullable=False, default=0)
    next_attempt_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    last_error = sa.Column(sa.Text, nullable=True)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)


@dataclass(frozen=True)
class Pending:
    idempotency_key: str
    packet: ContextPacket
    attempts: int


def pause_after(attempts: int) -> float:
    """Seconds before the next try: 1, 2, 4, ... up to a minute."""
    return float(min(MAX_PAUSE_SECONDS, 2 ** max(0, attempts - 1)))


class Outbox:
    """The durable list of packets not yet confirmed by the handoff service."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self._sessions = open_tables(engine, Base)

    def add(self, packet: ContextPacket, idempotency_key: str) -> None:
        now = utcnow()
        try:
            with self._sessions.begin() as session:
                session.add(OutboxRow(idempotency_key=idempotency_key, conversation_id=packet.conversation_id,
                                      packet=packet.json(), status="pending", attempts=0,
                                      next_attempt_at=now + LEASE, created_at=now))
        except IntegrityError:
            return  # already there: the same escalation
        except SQLAlchemyError as exc:
            raise HandoffUnavailable(str(exc)) from exc

    def delivered(self, idempotency_key: str, reference: str) -> None:
        self._update(idempotency_key, status="delivered", reference=reference, last_error=None)

    def failed(self, idempotency_key: str, error: str, attempts: int) -> None:
        """A try failed; the next one waits a little longer."""
        self._update(idempotency_key, attempts=attempts,
                     next_attempt_at=utcnow() + timedelta(seconds=pause_after(attempts)), last_error=error[:1000])

    def rejected(self, idempotency_key: str, error: str) -> None:
        """The service refused the packet itself: retrying cannot help, a person must look."""
        logger.error("handoff packet %s was refused by the service: %s", idempotency_key, error)
        self._update(idempotency_key, status="rejected", last_error=error[:1000])

    def status(self, idempotency_key: str) -> str | None:
        try:
            with self._sessions() as session:
                row = session.get(OutboxRow, idempotency_key)
                return row.status if row is not None else None
        except SQLAlchemyError as exc:
            raise HandoffUnavailable(str(exc)) from exc

    def claim_due(self, limit: int = 20) -> list[Pending]:
        """Pending packets whose time has come, leased to this caller for a while."""
        now = utcnow()
        claimed = []
        try:
            with self._sessions.begin() as session:
                rows = session.execute(
                    sa.select(OutboxRow)
                    .where(OutboxRow.status == "pending", OutboxRow.next_attempt_at <= now)
                    .order_by(OutboxRow.created_at)
                    .limit(limit)
                ).scalars().all()
                for row in rows:
                    leased = session.execute(
                        sa.update(OutboxRow)
                        .where(OutboxRow.idempotency_key == row.idempotency_key,
                               OutboxRow.next_attempt_at == row.next_attempt_at)
                        .values(next_attempt_at=now + LEASE)
                    )
                    if leased.rowcount != 1:
                        continue
                    try:
                        claimed.append(Pending(row.idempotency_key, ContextPacket.parse_raw(row.packet), row.attempts))
                    except ValueError as exc:  # unreadable: set aside, the rest still go
                        row.status, row.last_error = "rejected", f"unreadable packet: {exc}"[:1000]
        except SQLAlchemyError as exc:
            raise HandoffUnavailable(str(exc)) from exc
        return claimed

    def pending_count(self) -> int:
        try:
            with self._sessions() as session:
                return int(session.execute(
                    sa.select(sa.func.count()).select_from(OutboxRow).where(OutboxRow.status == "pending")
                ).scalar() or 0)
        except SQLAlchemyError as exc:
            raise HandoffUnavailable(str(exc)) from exc

    def _update(self, idempotency_key: str, **values: object) -> None:
        try:
            with self._sessions.begin() as session:
                session.execute(
                    sa.update(OutboxRow).where(OutboxRow.idempotency_key == idempotency_key).values(**values)
                )
        except SQLAlchemyError as exc:
            raise HandoffUnavailable(str(exc)) from exc


async def deliver(outbox: Outbox, client: HandoffClient, packet: ContextPacket, key: str, attempts: int = 0,
                  tries: int = 1) -> Receipt | None:
    """Post one packet up to ``tries`` times now; record the outcome. None: still pending.

    ``attempts`` > 0 means a retry from the outbox: the service then tells the citizen it arrived.
    """
    for attempt in range(attempts + 1, attempts + tries + 1):
        try:
            receipt = await client.post_packet(packet, key, from_outbox=attempts > 0)
        except InvalidHandoff as exc:
            await asyncio.to_thread(outbox.rejected, key, str(exc))
            return None
        except HandoffError as exc:
            await asyncio.to_thread(outbox.failed, key, str(exc), attempt)
            if attempt < attempts + tries:
                await asyncio.sleep(0.3 * attempt)
            continue
        await asyncio.to_thread(outbox.delivered, key, receipt.reference)
        return receipt
    return None


async def deliver_due(outbox: Outbox, client: HandoffClient) -> int:
    """One round of retries; how many packets were delivered."""
    count = 0
    for pending in outbox.claim_due():
        try:
            receipt = await deliver(outbox, client, pending.packet, pending.idempotency_key,
                                    max(1, pending.attempts))
        except Exception:  # one bad packet must not hold up the others
            logger.exception("handoff packet %s could not be delivered", pending.idempotency_key)
            continue
        if receipt is not None:
            logger.info("handoff packet %s delivered from the outbox", pending.idempotency_key)
            count += 1
    return count


class Deliverer:
    """A daemon thread that keeps retrying the outbox (started by ``python -m actions``)."""

    def __init__(self, outbox: Outbox, client: HandoffClient, interval: float = 1.0) -> None:
        self._outbox, self._client, self._interval = outbox, client, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="handoff-outbox", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                asyncio.run(deliver_due(self._outbox, self._client))
            except HandoffError:
                logger.warning("the handoff outbox could not be read; trying again", exc_info=True)
            except Exception:  # the thread must outlive any one failure
                logger.exception("unexpected error while delivering the handoff outbox")

