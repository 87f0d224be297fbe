from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from handoff.errors import HandoffConflict, HandoffNotFound
from handoff.packet import Urgency
from handoff.store import HandoffStore
from tests.handoff.conftest import packet


@pytest.fixture
def store(any_database_url: str) -> HandoffStore:
    return HandoffStore.from_url(any_database_url)


def test_the_same_idempotency_key_makes_one_handoff(store):
    first, created = store.create(packet("c1"), "key-1")
    again, created_again = store.create(packet("c1"), "key-1")
    assert created and not created_again
    assert again.reference == first.reference
    assert len(store.queue()) == 1


def test_a_conversation_already_waiting_keeps_its_handoff(store):
    first, _ = store.create(packet("c1"), "key-1")
    second, created = store.create(packet("c1"), "key-2")
    assert not created and second.reference == first.reference


def test_queue_is_ordered_by_urgency_then_waiting_time(store):
    now = datetime.now(timezone.utc)
    store.create(packet("old-normal", created_at=now - timedelta(minutes=10)), "a")
    store.create(packet("new-high", urgency=Urgency.high, created_at=now - timedelta(minutes=1)), "b")
    store.create(packet("emergency", urgency=Urgency.emergency, created_at=now), "c")
    store.create(packet("newer-normal", created_at=now - timedelta(minutes=2)), "d")
    rows = store.queue()
    assert [r["conversation_id"] for r in rows] == ["emergency", "new-high", "old-normal", "newer-normal"]
    assert [r["position"] for r in rows] == [1, 2, 3, 4]
    assert rows[2]["waiting_seconds"] >= 599


def test_queue_filters_by_language_and_team(store):
    store.create(packet("en-1"), "a")
    store.create(packet("es-1", language="es", team="streets"), "b")
    assert [r["conversation_id"] for r in store.queue(language="es")] == ["es-1"]
    assert [r["conversation_id"] for r in store.queue(team="streets")] == ["es-1"]


def test_only_one_agent_can_claim_a_conversation(store):
    handoff, _ = store.create(packet("c1"), "a")
    assert store.claim(handoff.reference, "ana")["status"] == "active"
    with pytest.raises(HandoffConflict):
        store.claim(handoff.reference, "bo")
    with pytest.raises(HandoffConflict):
        store.add_agent_message(handoff.reference, "bo", "hi")
    released = store.release(handoff.reference, "ana")
    assert (released["status"], released["agent"], released["position"]) == ("waiting", None, 1)


def test_citizen_messages_are_recorded_once_and_need_an_open_handoff(store):
    with pytest.raises(HandoffNotFound):
        store.add_citizen_message("c1", "m1", "hello")
    handoff, _ = store.create(packet("c1"), "a")
    _, new = store.add_citizen_message("c1", "m1", "hello")
    _, repeated = store.add_citizen_message("c1", "m1", "hello")
    assert new and not repeated
    assert [m.text for m in store.messages(handoff.reference) if m.sender == "citizen"] == ["hello"]
    assert store.queue()[0]["unread"] == 1


def test_resolving_asks_for_a_hand_back_and_closes_the_conversation(store):
    handoff, _ = store.create(packet("c1"), "a")
    store.claim(handoff.reference, "ana")
    summary = store.resolve(handoff.reference, "ana", note="Filed SR by hand")
    assert summary["status"] == "resolved"
    assert [h.reference for h in store.pending_handbacks()] == [handoff.reference]
    assert store.open_for_conversation("c1") is None
    assert [n.text for n in store.notes(handoff.reference)] == ["Filed SR by hand"]
    with pytest.raises(HandoffNotFound):
        store.add_citizen_message("c1", "m9", "are you there?")
    store.handback_done(handoff.reference)
    assert store.pending_handbacks() == []


def test_every_change_is_in_the_event_log_in_order(store):
    start = store.last_event_id()
    handoff, _ = store.create(packet("c1"), "a")
    store.claim(handoff.reference, "ana")
    message = store.add_agent_message(handoff.reference, "ana", "Hello, I'm Ana")
    store.set_delivery(message, "sent")
    events = store.events_after(start)
    assert [e.kind for e in events] == ["handoff", "message", "handoff", "message", "message"]
    assert events[-1].data["delivery"] == "sent"
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert store.events_after(events[-1].id) == []


def test_two_agents_claiming_at_once_get_one_winner(any_database_url):
    database_url = any_database_url
    import threading

    handoff, _ = HandoffStore.from_url(database_url).create(packet("c1"), "a")
    stores = {agent: HandoffStore.from_url(database_url) for agent in ("ana", "bo", "cy", "di")}
    start, results = threading.Barrier(len(stores)), {}

    def claim(agent: str) -> None:
        start.wait()
        try:
            results[agent] = stores[agent].claim(handoff.reference, agent)["agent"]
        except HandoffConflict:
            results[agent] = "conflict"

    threads = [threading.Thread(target=claim, args=(agent,)) for agent in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [agent for agent, owner in results.items() if owner == agent]
    assert len(winners) == 1 and list(results.values()).count("conflict") == 3
    assert stores["ana"].get(handoff.reference).agent == winners[0]


def test_one_open_handoff_per_conversation_even_when_created_at_once(any_database_url):
    database_url = any_database_url
    import threading

    stores = [HandoffStore.from_url(database_url) for _ in range(4)]
    start, references = threading.Barrier(4), []

    def create(index: int) -> None:
        start.wait()
        references.append(stores[index].create(packet("c1"), f"key-{index}")[0].reference)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(references)) == 1 and len(stores[0].queue()) == 1


def test_an_escalation_time_far_in_the_past_does_not_jump_the_queue(store):
    store.create(packet("honest"), "a")
    store.create(packet("year-one", created_at=datetime(1, 1, 2, tzinfo=timezone.utc)), "b")
    assert [r["conversation_id"] for r in store.queue()][0] == "year-one"  # older than a day: clamped, still first
    assert store.queue()[0]["waiting_seconds"] <= 24 * 3600 + 5
