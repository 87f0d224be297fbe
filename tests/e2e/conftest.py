"""The real stack (action server, Rasa server, web app) on free ports, shared by the e2e tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from stack.processes import Stack, free_port
from stack.settings import StackSettings
from tests.conftest import ROOT
from tests.e2e.citizens import Providers


def build_faq_index(faq_dir: Path, index_dir: Path) -> subprocess.CompletedProcess[str]:
    """`make faq` for the given folders: the content team's command, as a subprocess."""
    env = {**os.environ, "CITYBOT_FAQ_DIR": str(faq_dir), "CITYBOT_FAQ_INDEX_DIR": str(index_dir)}
    return subprocess.run(
        [sys.executable, "-m", "retrieval", "build"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="session")
def faq_folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of the shipped FAQ and its own index, so tests may edit the FAQ."""
    root = tmp_path_factory.mktemp("faq")
    faq_dir = root / "faq"
    shutil.copytree(ROOT / "bot" / "data" / "faq", faq_dir)
    (root / "index").mkdir()
    for cache in (ROOT / "models" / "faq").glob("embeddings-*.npz"):  # `make faq`'s embeddings, if any
        shutil.copy(cache, root / "index" / cache.name)
    built = build_faq_index(faq_dir, root / "index")
    assert built.returncode == 0, built.stderr[-3000:]
    return faq_dir, root / "index"


@pytest.fixture(scope="session")
def providers() -> Iterator[Providers]:
    """Telegram's, Meta's and Twilio's APIs, stood in on 127.0.0.1 for the whole run."""
    with Providers() as standing_in:
        yield standing_in


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, faq_folders: tuple[Path, Path],
          providers: Providers) -> Iterator[Stack]:
    model = ROOT / "models" / "citybot.tar.gz"
    assert model.exists(), "no trained model: `make test` trains it first (make train)"
    faq_dir, index_dir = faq_folders
    settings = StackSettings(
        var_dir=tmp_path_factory.mktemp("var"),
        rasa_port=free_port(),
        action_port=free_port(),
        web_port=free_port(),
        handoff_port=free_port(),
        rasa_api_token="e2e-" + uuid.uuid4().hex,
        handoff_token="e2e-handoff-" + uuid.uuid4().hex,
        database_url="",
        model_path=model,
        open311_api_key="e2e-open311-" + uuid.uuid4().hex,
        open311_staff_key="e2e-staff-" + uuid.uuid4().hex,
        open311_poll_seconds=0.5,
    )
    with pytest.MonkeyPatch.context() as patch:  # the servers inherit the environment
        patch.setenv("CITYBOT_FAQ_DIR", str(faq_dir))
        patch.setenv("CITYBOT_FAQ_INDEX_DIR", str(index_dir))
        for name, value in providers.environment(settings.rasa_public_url()).items():  # the messaging apps
            patch.setenv(name, value)
        running = Stack(settings)
        running.start()
        yield running
        running.stop()


class Chat:
    """One citizen talking to the bot over the REST channel."""

    def __init__(self, stack: Stack, sender: str | None = None) -> None:
        self.url = f"{stack.settings.rasa_public_url()}/webhooks/rest/webhook"
        self.sender = sender or "e2e-" + uuid.uuid4().hex

    def say(self, text: str) -> list[dict[str, Any]]:
        response = httpx.post(self.url, json={"sender": self.sender, "message": text}, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def texts(self, text: str) -> str:
        """Everything the bot answered, joined, for assertions on wording."""
        return "\n".join(m.get("text", "") for m in self.say(text))


@pytest.fixture
def chat(stack: Stack) -> Chat:
    return Chat(stack)


AGENT_PASSWORD = "e2e correct horse battery"


def create_account(stack: Stack, username: str, role: str = "agent", name: str | None = None) -> None:
    """`python -m handoff create-user`, the IT team's command, against the stack's handoff database."""
    env = {**os.environ, "CITYBOT_HANDOFF_DATABASE_URL": stack.settings.handoff_database_url}
    done = subprocess.run(
        [sys.executable, "-m", "handoff", "create-user", username, "--role", role, "--name", name or username.title(),
         "--password-stdin"],
        cwd=ROOT, env=env, input=AGENT_PASSWORD + "\n", capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0 or "taken" in done.stderr, done.stderr


class Console:
    """An agent logged in to the console's JSON API, as console.js uses it."""

    def __init__(self, stack: Stack, username: str) -> None:
        create_account(stack, username)
        self.client = httpx.Client(base_url=stack.settings.handoff_url(), timeout=30)
        response = self.client.post("/console/login", json={"username": username, "password": AGENT_PASSWORD})
        assert response.status_code == 200, response.text
        page = self.client.get("/console/").text
        self.client.headers["X-CSRF-Token"] = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]

    def queue(self) -> list[dict[str, Any]]:
        return self.client.get("/api/console/queue").json()["handoffs"]  # type: ignore[no-any-return]

    def handoff_of(self, conversation_id: str) -> dict[str, Any] | None:
        return next((h for h in self.queue() if h["conversation_id"] == conversation_id), None)

    def post(self, reference: str, action: str, **body: Any) -> httpx.Response:
        return self.client.post(f"/api/console/handoffs/{reference}/{action}", json=body or None)

    def detail(self, reference: str) -> dict[str, Any]:
        return self.client.get(f"/api/console/handoffs/{reference}").json()  # type: ignore[no-any-return]
