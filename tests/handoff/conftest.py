"""The real handoff app on a temporary SQLite file, with a relay that records what reached Rasa."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from handoff.accounts import Accounts
from handoff.app import create_app
from handoff.client import HandoffClient
from handoff.errors import HandoffConflict, HandoffUnavailable
from handoff.outbox import Outbox
from handoff.packet import ContextPacket, Reason, Sender, TranscriptEntry, Urgency
from handoff.relay import RasaRelay
from handoff.settings import ClientSettings, HandoffSettings
from open311.store import make_engine

TOKEN = "test-token-" + "x" * 30
PASSWORD = "correct horse battery"


class RecordingRelay(RasaRelay):
    """The Rasa server's handoff channel, as far as the service can tell: it records, or is down."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.notices: list[tuple[str, str, dict[str, Any]]] = []
        self.resumed: list[str] = []
        self.citizen: dict[str, list[dict[str, Any]]] = {}
        self.down = False
        self.bot_has_it = False  # the citizen restarted: the conversation is not paused any more

    async def close(self) -> None:
        return None

    def _check_up(self) -> None:
        if self.down:
            raise HandoffUnavailable("the Rasa server cannot be reached")

    async def send_agent_message(self, conversation_id: str, message_id: str, text: str, agent_name: str) -> bool:
        self._check_up()
        if self.bot_has_it:
            raise HandoffConflict("the bot has this conversation again")
        self.sent.append({"conversation_id": conversation_id, "message_id": message_id, "text": text,
                          "agent": agent_name})
        return True

    async def notify(self, conversation_id: str, response: str, values: dict[str, Any] | None = None) -> None:
        self._check_up()
        self.notices.append((conversation_id, response, values or {}))

    async def resume(self, conversation_id: str, reference: str) -> None:
        self._check_up()
        self.resumed.append(conversation_id)

    async def citizen_messages(self, conversation_id: str) -> list[dict[str, Any]]:
        self._check_up()
        return self.citizen.get(conversation_id, [])


def packet(conversation_id: str = "c1", reason: Reason = Reason.citizen_request, urgency: Urgency = Urgency.normal,
           language: str = "en", team: str = "general", created_at: datetime | None = None) -> ContextPacket:
    now = created_at or datetime.now(timezone.utc)
    return ContextPacket(
        schema_version="1.0", conversation_id=conversation_id, channel="socketio", language=language, reason=reason,
        urgency=urgency, team=team, summary=f"Summary of {conversation_id}",
        transcript=[TranscriptEntry(sender=Sender.citizen, text="my email is ana@example.org", at=now),
                    TranscriptEntry(sender=Sender.bot, text="Sorry?", at=now)],
        slots={"issue_location": "123 Main Street"}, created_at=now,
    )


def client_for(application: FastAPI) -> HandoffClient:
    """The bot's client of the real service, in process."""
    return HandoffClient(ClientSettings(url="http://handoff", token=TOKEN),
                         transport=httpx.ASGITransport(app=application))


def refused() -> HandoffClient:
    """The bot's client while the service is down."""
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    return HandoffClient(ClientSettings(url="http://handoff", token=TOKEN), transport=httpx.MockTransport(refuse))


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    """The action server's outbox, in its own database."""
    return Outbox(make_engine(f"sqlite:///{tmp_path / 'actions.db'}"))


@pytest.fixture
def relay() -> RecordingRelay:
    return RecordingRelay()


@pytest.fixture
def app(database_url: str, relay: RecordingRelay) -> FastAPI:
    return create_app(HandoffSettings(database_url=database_url, token=TOKEN, sync_seconds=3600), relay=relay)


@pytest.fixture
def accounts(app: FastAPI) -> Accounts:
    accounts: Accounts = app.state.accounts
    accounts.create("ana", PASSWORD, "agent", "Ana")
    accounts.create("bo", PASSWORD, "agent", "Bo")
    accounts.create("root", PASSWORD, "admin", "Admin")
    return accounts


@pytest.fixture
def bot(app: FastAPI) -> TestClient:
    """The bot's side: the service token on every call."""
    return TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"})


def login(app: FastAPI, username: str) -> TestClient:
    """A browser logged in as ``username``, sending the page's CSRF token like console.js does."""
    client = TestClient(app)
    response = client.post("/console/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    page = client.get("/console/")
    assert page.status_code == 200
    csrf = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    client.headers["X-CSRF-Token"] = csrf
    return client


def queue(bot: TestClient, p: ContextPacket, key: str | None = None) -> dict[str, Any]:
    response = bot.post("/api/handoffs", content=p.json(), headers={"Idempotency-Key": key or f"k-{p.conversation_id}"})
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


POSTGRES = "postgresql://postgres@127.0.0.1:5432"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database (the scale-out engine; ENVIRONMENT.md: running on dev and CI machines)."""
    import uuid

    import sqlalchemy as sa

    name = "citybot_test_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT", future=True)
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE DATABASE {name}"))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL is not running here: {exc}")
    yield f"{POSTGRES}/{name}"
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_url(request: pytest.FixtureRequest, database_url: str) -> str:
    """The embedded default and the scale-out database, in turn."""
    if request.param == "sqlite":
        return database_url
    return request.getfixturevalue("postgres_url")  # type: ignore[no-any-return]
