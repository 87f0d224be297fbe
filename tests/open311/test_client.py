"""The bot's Open311 client against the web app's own Open311 server, in process."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import httpx
import pytest

from open311.client import IDS_PER_QUERY, Open311Client, ServerRejected, ServerUnavailable
from open311.settings import Open311ClientSettings
from open311.store import RequestStore
from tests.open311.conftest import BOT_KEY, URL, client_of, served, set_status
from web.settings import get_settings

pytestmark = pytest.mark.anyio

ANSWERS = {"size": "large", "in_traffic_lane": "yes"}


class Recording(httpx.AsyncBaseTransport):
    """Passes every call on to the server and remembers it."""

    def __init__(self, app) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


def recorded_client(app) -> tuple[Open311Client, Recording]:
    transport = Recording(app)
    return Open311Client(Open311ClientSettings(url=URL, api_key=BOT_KEY), transport=transport), transport


async def file_pothole(client: Open311Client, address: str = "120 Main Street", **changes) -> str:
    fields = {"description": "deep hole", "address_string": address, "answers": ANSWERS, **changes}
    return (await client.create_request("pothole", **fields)).service_request_id


async def test_service_questions_come_in_order_in_the_locale_asked_and_are_cached(open311_app):
    client, transport = recorded_client(open311_app)
    english = await client.service_attributes("pothole")
    assert [(a.code, a.description, a.required) for a in english] == [
        ("size", "How big is it?", True), ("in_traffic_lane", "Is it in a lane where cars or bikes ride?", True)]
    assert [(v.key, v.name) for v in english[0].values] == [
        ("small", "Smaller than a dinner plate"), ("medium", "About the size of a car tyre"),
        ("large", "Bigger than a car tyre")]
    spanish = await client.service_attributes("pothole", "es")
    assert [a.description for a in spanish] == [
        "¿De qué tamaño es?", "¿Está en un carril por donde pasan autos o bicicletas?"]
    assert [v.key for v in spanish[0].values] == ["small", "medium", "large"]  # keys are never translated

    assert await client.service_attributes("pothole", "es") == spanish
    assert await client.service_attributes("pothole") == english
    assert len(transport.requests) == 2  # one call per language: the second answers come from the cache
    assert await client.service_attributes("street_other") == ()  # a service without questions


async def test_a_request_is_filed_form_encoded_with_its_answers(open311_app, open311_settings):
    client, transport = recorded_client(open311_app)
    filed = await client.create_request(
        "pothole", description="deep hole", address_string="120 Main Street", lat=40.7128, long=-74.006,
        media_url="https://img.example.org/hole.jpg", answers=ANSWERS)
    assert filed.service_request_id.startswith("SR-")

    [sent] = transport.requests
    assert sent.method == "POST" and sent.url.path == "/open311/v2/requests.json"
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    form = parse_qs(sent.content.decode())
    assert form["attribute[size]"] == ["large"] and form["attribute[in_traffic_lane]"] == ["yes"]
    assert form["api_key"] == [BOT_KEY]

    stored = RequestStore.from_url(open311_settings.database_url).get(filed.service_request_id)
    assert stored is not None
    assert (stored.service_code, stored.address_string, stored.lat, stored.long) == (
        "pothole", "120 Main Street", 40.7128, -74.006)
    assert stored.attributes == ANSWERS and stored.urgency == "high"


async def test_a_filed_request_is_read_back_as_the_server_serves_it(open311, open311_app):
    request_id = await file_pothole(open311, lat=40.7128, long=-74.006)
    request = await open311.get_request(request_id)
    assert request is not None
    assert (request.service_request_id, request.status, request.service_code, request.service_name) == (
        request_id, "open", "pothole", "Pothole")
    assert (request.description, request.address, request.lat, request.long) == (
        "deep hole", "120 Main Street", 40.7128, -74.006)
    assert request.agency_responsible == "Public Works - Street Maintenance"
    assert request.requested_datetime is not None
    assert abs(datetime.now(timezone.utc) - request.requested_datetime) < timedelta(minutes=1)
    [served_json] = await served(open311_app, f"/requests/{request_id}.json")
    assert request.status_notes == served_json["status_notes"]


async def test_an_unknown_request_reads_as_none(open311):
    assert await open311.get_request("SR-ZZZZZZZZ") is None


async def test_requests_are_found_by_ids_or_by_service_and_status(open311, open311_app):
    first = await file_pothole(open311, "120 Main Street")
    closed = await file_pothole(open311, "45 Oak Avenue")
    light = (await open311.create_request("streetlight", description="dark", address_string="120 Main Street",
                                          answers={"light_state": "out"})).service_request_id
    await set_status(open311_app, closed, "closed", "Filled")

    assert sorted(r.service_request_id for r in await open311.find_requests(ids=[first, light])) == sorted(
        [first, light])
    assert [r.service_request_id for r in await open311.find_requests(service_code="pothole", status="open")] == [
        first]
    [found] = await open311.find_requests(service_code="pothole", status="closed")
    assert (found.service_request_id, found.status, found.status_notes) == (closed, "closed", "Filled")
    recent = await open311.find_requests(start_date=datetime.now(timezone.utc) - timedelta(days=1))
    assert len(recent) == 3


async def test_more_ids_than_one_query_takes_are_asked_in_batches(open311_app, open311_settings):
    store = RequestStore.from_url(open311_settings.database_url)
    ids = [store.create(service_code="pothole", service_name="Pothole", description="", address_string=f"{n} Elm St",
                        agency_responsible=None).service_request_id for n in range(IDS_PER_QUERY + 5)]
    client, transport = recorded_client(open311_app)
    found = await client.find_requests(ids=ids)
    assert sorted(r.service_request_id for r in found) == sorted(ids)
    assert len(transport.requests) == 2


async def test_a_wrong_key_is_rejected_with_the_servers_reason(open311_app):
    with pytest.raises(ServerRejected) as refused:
        await file_pothole(client_of(open311_app, api_key="wrong-key"))
    assert refused.value.status == 403
    assert refused.value.descriptions == ["invalid api_key"]
    assert await served(open311_app, "/requests.json") == []


async def test_an_answer_the_service_does_not_allow_is_rejected_with_the_servers_reason(open311):
    with pytest.raises(ServerRejected) as refused:
        await file_pothole(open311, answers={"size": "enormous", "in_traffic_lane": "yes"})
    assert refused.value.status == 400
    assert refused.value.descriptions == ["attribute[size] must be one of: small, medium, large"]


async def test_a_failing_server_is_unavailable_not_rejected(open311_app, open311_settings, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    broken = open311_settings.copy(update={"database_url": f"sqlite:///{blocker}/sub/db.sqlite"})
    open311_app.dependency_overrides[get_settings] = lambda: broken
    with pytest.raises(ServerUnavailable):
        await file_pothole(client_of(open311_app))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_refused_connection_is_server_unavailable():
    client = Open311Client(Open311ClientSettings(url=f"http://127.0.0.1:{free_port()}/open311/v2", api_key=BOT_KEY,
                                                 timeout_seconds=2))
    with pytest.raises(ServerUnavailable):
        await client.service_attributes("pothole")
    with pytest.raises(ServerUnavailable):
        await file_pothole(client)
    with pytest.raises(ServerUnavailable):
        await client.get_request("SR-7K3M9Q2X")
    with pytest.raises(ServerUnavailable):
        await client.find_requests(service_code="pothole")
