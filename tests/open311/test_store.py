from __future__ import annotations

import pytest

from open311.errors import StoreUnavailable, UnknownService
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
