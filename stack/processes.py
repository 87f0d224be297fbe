"""Starting and stopping the servers: action server, handoff service, Rasa server, web app.

Used by ``python -m stack run`` (``make run``) and by the end-to-end tests,
which start the same stack on free ports.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from stack.settings import ROOT, StackSettings


class StackError(Exception):
    """A server did not start, or stopped on its own."""


@dataclass
class Server:
    name: str
    command: list[str]
    health_url: str
    env: dict[str, str]
    log_path: Path
    cwd: Path = ROOT
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the launcher, which stops us in order
        )

    def healthy(self) -> bool:
        try:
            return httpx.get(self.health_url, timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (tests, benchmarks)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def base_env(settings: StackSettings) -> dict[str, str]:
    """The environment every server gets: offline, no telemetry, our packages importable."""
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
            "RASA_TELEMETRY_ENABLED": "false",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            # One thread per model call: with batch-1 inference on a few cores, extra
            # OpenMP/BLAS threads spin and steal CPU from concurrent requests.
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "CITYBOT_DATABASE_URL": settings.database_url,
            "CITYBOT_HANDOFF_URL": settings.handoff_url(),
            "CITYBOT_HANDOFF_TOKEN": settings.handoff_secret(),
            "CITYBOT_HANDOFF_RASA_URL": settings.rasa_public_url(),
            # Photos from WhatsApp and Telegram: kept by the channels, served by the web app.
            "CITYBOT_MEDIA_DIR": str(settings.var_dir / "media"),
            "CITYBOT_PUBLIC_URL": settings.web_url(),
        }
    )
    return env


def action_server(settings: StackSettings) -> Server:
    """The rasa-sdk action server (`python -m actions`, which also warms up the FAQ model)."""
    host = settings.host
    return Server(
        name="action server",
        command=[sys.executable, "-m", "actions", "--actions", "actions",
                 "--port", str(settings.action_port)],
        health_url=f"http://{host}:{settings.action_port}/health",
        env={**base_env(settings), "SANIC_HOST": host,
             # The bot files reports through the web app's Open311 server (a city may point it at its own);
             # only the action server holds the key.
             "CITYBOT_OPEN311_URL": settings.open311_url(),
             "CITYBOT_OPEN311_API_KEY": settings.open311_keys()[0],
             "CITYBOT_OPEN311_POLL_SECONDS": str(settings.open311_poll_seconds)},
        log_path=settings.var_dir / "logs" / "actions.log",
    )


def build_servers(settings: StackSettings) -> list[Server]:
    env = base_env(settings)
    host = settings.host
    logs = settings.var_dir / "logs"
    actions = action_server(settings)
    rasa_env = {
        **env,
        "CITYBOT_ACTION_ENDPOINT": f"http://{host}:{settings.action_port}/webhook",
        "CITYBOT_TRACKER_DB": str(settings.tracker_db),
    }
    rasa = Server(
        name="Rasa server",
        command=[_bin("rasa"), "run", "--model", str(settings.model_path),
                 "--enable-api", "--auth-token", settings.rasa_token(),
                 "--cors", *settings.cors_origins(),
                 "--interface", host, "--port", str(settings.rasa_port),
                 "--endpoints", str(ROOT / "endpoints.yml"),
                 "--credentials", str(ROOT / "credentials.yml"),
                 "--log-file", str(logs / "rasa-debug.log")],
        health_url=f"http://{host}:{settings.rasa_port}/",
        env=rasa_env,
        log_path=logs / "rasa.log",
    )
    api_key, staff_key = settings.open311_keys()
    web_env = {**env, "CITYBOT_WEB_RASA_PUBLIC_URL": settings.rasa_public_url(),
               "CITYBOT_WEB_OPEN311_API_KEYS": api_key, "CITYBOT_WEB_OPEN311_STAFF_KEYS": staff_key}
    web = Server(
        name="web app",
        command=[_bin("uvicorn"), "web.app:app", "--host", host,
                 "--port", str(settings.web_port), "--no-access-log",
                 # rasa pins websockets 10, too old for uvicorn's default implementation
                 "--ws", "wsproto"],
        health_url=f"http://{host}:{settings.web_port}/health",
        env=web_env,
        log_path=logs / "web.log",
    )
    handoff = Server(
        name="handoff service",
        command=[_bin("uvicorn"), "handoff.app:app", "--host", host,
                 "--port", str(settings.handoff_port), "--no-access-log", "--ws", "wsproto",
                 # agents' open event streams must not hold a restart for long
                 "--timeout-graceful-shutdown", "3"],
        health_url=f"http://{host}:{settings.handoff_port}/health",
        env={**env, "CITYBOT_HANDOFF_DATABASE_URL": settings.handoff_database_url,
             "CITYBOT_MODE": settings.mode,
             "CITYBOT_TRACKER_DB": str(settings.tracker_db)},  # read by the analytics page (analytics/)
        log_path=logs / "handoff.log",
    )
    return [actions, handoff, rasa, web]


class Stack:
    """The running servers; a context manager that always stops what it started."""

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.servers = build_servers(settings)

    def start(self, timeout: float = 240.0) -> None:
        if not self.settings.model_path.exists():
            raise StackError(f"no trained model at {self.settings.model_path}: run `make train`")
        for server in self.servers:
            server.start()
        deadline = time.monotonic() + timeout
        waiting = list(self.servers)
        while waiting:
            for server in list(waiting):
                if not server.running():
                    self.stop()
                    raise StackError(f"{server.name} exited while starting:\n{server.log_tail()}")
                if server.healthy():
                    waiting.remove(server)
            if time.monotonic() > deadline:
                names = ", ".join(s.name for s in waiting)
                tails = "\n".join(s.log_tail() for s in waiting)
                self.stop()
                raise StackError(f"not ready after {timeout:.0f} s: {names}\n{tails}")
            time.sleep(0.5)

    def check(self) -> None:
        for server in self.servers:
            if not server.running():
                raise StackError(f"{server.name} stopped:\n{server.log_tail()}")

    def stop(self) -> None:
        # Web app first (no new conversations), action server last (Rasa may still call it).
        for server in reversed(self.servers):
            server.stop()

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
