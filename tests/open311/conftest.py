"""The web app's real Open311 server in process (a temporary SQLite file) and the bot's client of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from actions import defaults
from open311.client import Open311Client
from open311.followers import FollowerStore
from open311.settings import Open311ClientSettings
from open311.store import make_engine
from web.app import create_app
from web.settings import WebSettings, get_settings

BOT_KEY = "bot-key-0123456789"
STAFF_KEY = "staff-key-9876543210"
URL = "http://testserver/open311/v2"


def client_of(app: FastAPI, api_key: str = BOT_KEY) -> Open311Client:
    """The bot's Open311 client, talking to ``app`` in process."""
    return Open311Client(Open311ClientSettings(url=URL, api_key=api_key, poll_seconds=0.1),
                         transport=httpx.ASGITransport(app=app))


def unreachable() -> Open311Client:
    """The bot's Open311 client while the server is down."""
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    return Open311Client(Open311ClientSettings(url=URL, api_key=BOT_KEY), transport=httpx.MockTransport(refuse))


@pytest.fixture
def open311_settings(tmp_path: Path) -> WebSettings:
    # Its own file: the handoff app's fixtures use ``database_url``.
    return WebSettings(database_url=f"sqlite:///{tmp_path / 'open311.db'}", open311_api_keys=BOT_KEY,
                       open311_staff_keys=STAFF_KEY)


@pytest.fixture
def open311_app(open311_settings: WebSettings) -> FastAPI:
    app = create_app()
    app.dependency_overrides[get_settings] = lambda: open311_settings
    return app


@pytest.fixture
def open311(open311_app: FastAPI) -> Open311Client:
    return client_of(open311_app)


@pytest.fixture
def followers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FollowerStore:
    """The action server's follower table, in its own database; the actions use it."""
    store = FollowerStore(make_engine(f"sqlite:///{tmp_path / 'bot.db'}"))
    monkeypatch.setattr(defaults, "request_followers", lambda: store)
    return store


async def served(app: FastAPI, path: str, **params: str) -> Any:
    """What anyone reading the Open311 API gets at ``path`` (JSON)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=URL) as http:
        response = await http.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def set_status(app: FastAPI, request_id: str, status: str, notes: str | None = None) -> None:
    """A city worker changes the request's status (the server's status extension, staff key)."""
    fields = {"api_key": STAFF_KEY, "status": status, **({"status_notes": notes} if notes else {})}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=URL) as http:
        response = await http.post(f"/requests/{request_id}/status.json", data=fields)
    assert response.status_code == 200, response.text
