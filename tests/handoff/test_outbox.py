from __future__ import annotations

import httpx
import pytest

from handoff.client import HandoffClient
from handoff.outbox import Outbox, deliver, deliver_due, pause_after
from handoff.settings import ClientSettings
from tests.handoff.conftest import TOKEN, client_for, packet, refused

pytestmark = pytest.mark.anyio


def make_due(outbox: Outbox) -> None:
    """Skip the pause before the next try."""
    import sqlalchemy as sa

    from handoff.outbox import OutboxRow
    from handoff.store import utcnow

    with outbox._sessions.begin() as session:
        session.execute(sa.update(OutboxRow).values(next_attempt_at=utcnow()))


async def test_a_packet_is_delivered_at_once_when_the_service_is_up(app, outbox):
    outbox.add(packet("c1"), "k1")
    receipt = await deliver(outbox, client_for(app), packet("c1"), "k1")
    assert receipt is not None and receipt.position == 1
    assert outbox.status("k1") == "delivered" and outbox.pending_count() == 0


async def test_a_packet_waits_while_the_service_is_down_and_arrives_exactly_once(app, outbox):
    outbox.add(packet("c1"), "k1")
    assert await deliver(outbox, refused(), packet("c1"), "k1", tries=2) is None
    assert outbox.status("k1") == "pending"
    assert await deliver_due(outbox, client_for(app)) == 0  # not due yet: it waits before trying again
    make_due(outbox)
    assert await deliver_due(outbox, client_for(app)) == 1
    make_due(outbox)
    assert await deliver_due(outbox, client_for(app)) == 0
    assert len(app.state.service.store.queue()) == 1


async def test_a_packet_the_service_stored_but_did_not_confirm_is_not_duplicated(app, outbox):
    outbox.add(packet("c1"), "k1")
    await client_for(app).post_packet(packet("c1"), "k1")  # stored; the answer was lost
    make_due(outbox)
    assert await deliver_due(outbox, client_for(app)) == 1
    assert len(app.state.service.store.queue()) == 1


async def test_a_packet_the_service_refuses_is_not_retried(app, outbox):
    bad = packet("c1")
    outbox.add(bad, "k1")
    forged = HandoffClient(ClientSettings(url="http://handoff", token=TOKEN),
                           transport=httpx.MockTransport(lambda r: httpx.Response(422, json={"detail": "bad"})))
    assert await deliver(outbox, forged, bad, "k1") is None
    assert outbox.status("k1") == "rejected"


def test_pauses_between_tries_grow_to_a_minute():
    assert [pause_after(n) for n in (1, 2, 3, 4, 10)] == [1.0, 2.0, 4.0, 8.0, 60.0]
