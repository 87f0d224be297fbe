from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from open311.errors import InvalidServiceRequest, StoreUnavailable, UnknownService
from open311.services import ServiceCatalogue
from open311.store import RequestStore, find_request_id, new_request_id


def test_new_request_ids_are_unique_and_readable():
    ids = {new_request_id() for _ in range(500)}
    assert len(ids) == 500
    for request_id in ids:
        assert find_request_id(request_id) == request_id


@pytest.mark.parametrize(
    "text, expected",
    [
        ("status of SR-7K3M9Q2X please", "SR-7K3M9Q2X"),
        ("sr 7k3m9q2x", "SR-7K3M9Q2X"),
        ("SR7K3M9Q2X", "SR-7K3M9Q2X"),
        ("my number is SR-7K3M9QOX", "SR-7K3M9Q0X"),  # O read as zero
        ("no number here", None),
        ("SR-123", None),
    ],
)
def test_find_request_id_normalises_what_citizens_type(text, expected):
    assert find_request_id(text) == expected


def test_created_request_is_stored_with_open311_fields(database_url):
    store = RequestStore.from_url(database_url)
    created = store.create(
        service_code="pothole",
        service_name="Pothole",
        description="deep hole",
        address_string="120 Main Street",
        agency_responsible="Public Works",
        media_url="https://example.org/p.jpg",
        conversation_id="abc",
        channel="rest",
    )
    again = RequestStore.from_url(database_url).get(created.service_request_id)
    assert again is not None
    assert again.status == "open"
    assert again.address_string == "120 Main Street"
    assert again.media_url == "https://example.org/p.jpg"
    assert again.requested_datetime.tzinfo is not None
    assert again.conversation_id == "abc"


def test_status_update_changes_status_and_time(database_url):
    store = RequestStore.from_url(database_url)
    created = store.create(
        service_code="pothole", service_name="Pothole", description="x",
        address_string="1 A St", agency_responsible=None,
    )
    updated = store.update_status(created.service_request_id, "closed", "Filled on 23 Nov")
    assert updated is not None and updated.status == "closed"
    assert updated.updated_datetime >= created.updated_datetime
    assert store.update_status("SR-00000000", "closed") is None


def test_unknown_request_is_none(database_url):
    assert RequestStore.from_url(database_url).get("SR-ZZZZZZZZ") is None


def test_unreachable_database_raises_store_unavailable(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreUnavailable):
        RequestStore.from_url(f"sqlite:///{blocker}/sub/db.sqlite")


def test_catalogue_matches_keywords_and_knows_codes():
    catalogue = ServiceCatalogue.from_file()
    assert catalogue.match("there's a big pothole outside").service_code == "pothole"
    assert catalogue.match("the street light is out").service_code == "streetlight"
    assert catalogue.match("lovely weather") is None
    assert "pothole" in catalogue
    with pytest.raises(UnknownService):
        catalogue.get("unicorns")


def test_sqlite_databases_run_in_write_ahead_log_mode(database_url):
    from open311.store import make_engine

    engine = make_engine(database_url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


OLD_SCHEMA = """
CREATE TABLE service_requests (
    service_request_id VARCHAR(32) NOT NULL,
    service_code VARCHAR(64) NOT NULL,
    service_name VARCHAR(200) NOT NULL,
    description TEXT NOT NULL,
    address_string VARCHAR(500),
    lat FLOAT,
    long FLOAT,
    media_url VARCHAR(2000),
    status VARCHAR(16) NOT NULL,
    status_notes TEXT,
    agency_responsible VARCHAR(200),
    requested_datetime DATETIME NOT NULL,
    updated_datetime DATETIME NOT NULL,
    conversation_id VARCHAR(128),
    channel VARCHAR(64),
    language VARCHAR(8),
    PRIMARY KEY (service_request_id)
);
CREATE INDEX ix_service_requests_service_code ON service_requests (service_code);
CREATE INDEX ix_service_requests_status ON service_requests (status);
CREATE INDEX ix_service_requests_conversation_id ON service_requests (conversation_id);
INSERT INTO service_requests VALUES ('SR-0LD00001', 'pothole', 'Pothole', 'old hole', '1 Old Road', NULL, NULL,
    NULL, 'open', 'Received', 'Public Works', '2024-05-01 10:00:00.000000', '2024-05-01 10:00:00.000000',
    'conv-1', 'telegram', 'es');
"""


def _old_database(tmp_path) -> str:
    path = tmp_path / "old.db"
    connection = sqlite3.connect(path)
    connection.executescript(OLD_SCHEMA)
    connection.close()
    return f"sqlite:///{path}"


def test_database_of_the_first_release_gains_the_new_columns_and_keeps_its_requests(tmp_path):
    url = _old_database(tmp_path)
    store = RequestStore.from_url(url)
    old = store.get("SR-0LD00001")
    assert old is not None
    assert (old.description, old.channel, old.language, old.attributes, old.urgency, old.email) == (
        "old hole", "telegram", "es", {}, None, None
    )
    assert old.requested_datetime == datetime(2024, 5, 1, 10, tzinfo=timezone.utc)
    new = store.create(service_code="pothole", service_name="Pothole", description="new", address_string=None,
                       agency_responsible=None, address_id="A-1", attributes={"size": "large"}, urgency="high",
                       email="a@example.org")
    again = RequestStore.from_url(url)  # a second start migrates nothing and loses nothing
    assert again.get(new.service_request_id).attributes == {"size": "large"}  # type: ignore[union-attr]
    found = again.search(start=datetime(2024, 4, 1, tzinfo=timezone.utc))
    assert [r.service_request_id for r in found] == [new.service_request_id, "SR-0LD00001"]
    again.update_status("SR-0LD00001", "closed", "Filled")
    assert [c.new_status for c in again.changes_after(0, 10)] == ["closed"]
    inspector = sa.inspect(sa.create_engine(url))
    columns = {column["name"] for column in inspector.get_columns("service_requests")}
    assert {"address_id", "attributes", "urgency", "email", "phone", "device_id", "account_id"} <= columns
    assert "ix_service_requests_requested_datetime" in {i["name"] for i in inspector.get_indexes("service_requests")}


def _store_with(database_url, count):
    store = RequestStore.from_url(database_url)
    created = [
        store.create(service_code=code, service_name=code, description="", address_string="1 A St",
                     agency_responsible=None)
        for code in (["pothole", "streetlight"] * count)[:count]
    ]
    return store, created


def test_search_filters_in_sql_and_returns_newest_first(database_url):
    store, created = _store_with(database_url, 5)
    store.update_status(created[0].service_request_id, "closed")
    ids = [r.service_request_id for r in created]
    assert [r.service_request_id for r in store.search()] == ids[::-1]
    assert [r.service_request_id for r in store.search(limit=2)] == ids[::-1][:2]
    assert {r.service_code for r in store.search(service_codes=["streetlight"])} == {"streetlight"}
    assert [r.service_request_id for r in store.search(statuses=["closed"])] == [ids[0]]
    assert [r.service_request_id for r in store.search(service_request_ids=[ids[1], "SR-NOPE0000"])] == [ids[1]]
    assert store.search(service_request_ids=[]) == []
    soon = datetime.now(timezone.utc) + timedelta(minutes=1)
    assert store.search(start=soon) == []
    assert len(store.search(end=soon)) == 5
    # Bounds in another time zone mean the same instant.
    assert len(store.search(start=(soon - timedelta(hours=1)).astimezone(timezone(timedelta(hours=-5))))) == 5


def test_changes_after_returns_each_status_change_once_in_order(database_url):
    store, (first, second) = _store_with(database_url, 2)
    assert store.last_change_id() == 0 and store.changes_after(0, 10) == []
    store.update_status(first.service_request_id, "closed", "Filled")
    store.update_status(second.service_request_id, "open", "Crew booked for Tuesday")  # new notes, same status
    store.update_status(second.service_request_id, "open", "Crew booked for Tuesday")  # no change at all
    store.update_status(first.service_request_id, "closed", "Filled", agency_responsible="Crew 7")  # agency only
    changes = store.changes_after(0, 10)
    assert [(c.service_request_id, c.old_status, c.new_status, c.status_notes) for c in changes] == [
        (first.service_request_id, "open", "closed", "Filled"),
        (second.service_request_id, "open", "open", "Crew booked for Tuesday"),
    ]
    assert changes[0].id < changes[1].id and changes[0].changed_at.tzinfo is not None
    assert store.changes_after(changes[0].id, 10) == [changes[1]]
    assert store.changes_after(0, 1) == [changes[0]]
    assert store.last_change_id() == changes[1].id
    assert store.get(first.service_request_id).agency_responsible == "Crew 7"  # type: ignore[union-attr]


def test_only_a_real_change_moves_updated_datetime(database_url):
    store, (created,) = _store_with(database_url, 1)
    closed = store.update_status(created.service_request_id, "closed", "Done")
    again = store.update_status(created.service_request_id, "closed", "Done")
    assert closed is not None and again is not None
    assert again.updated_datetime == closed.updated_datetime


def test_unknown_status_is_refused(database_url):
    store, (created,) = _store_with(database_url, 1)
    with pytest.raises(InvalidServiceRequest):
        store.update_status(created.service_request_id, "pending")


def test_database_errors_do_not_carry_the_submitters_details(database_url):
    store, _ = _store_with(database_url, 1)
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TRIGGER refuse BEFORE INSERT ON service_requests "
                                   "BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(StoreUnavailable) as error:
        store.create(service_code="pothole", service_name="Pothole", description="", address_string="1 A St",
                     agency_responsible=None, email="secret.person@example.org", phone="+1 555 0100")
    assert "disk full" in str(error.value)
    assert "secret.person" not in str(error.value) and "555 0100" not in str(error.value)
    assert error.value.__cause__ is None and error.value.__suppress_context__
