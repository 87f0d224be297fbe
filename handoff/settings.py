"""Settings of the handoff service and of its clients, read from CITYBOT_* variables or .env."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseSettings, Field

ROOT = Path(__file__).resolve().parent.parent
MIN_TOKEN_CHARS = 24


class HandoffSettings(BaseSettings):
    """The handoff service: its database, the shared token, and where the Rasa server is."""

    # CITYBOT_MODE, as for the whole stack: anything but "local" refuses to start without real secrets.
    mode: str = Field(default="local", env="CITYBOT_MODE")
    database_url: str = f"sqlite:///{ROOT / 'var' / 'handoff.db'}"
    # Shared by the action server, the Rasa server and this service (service API, Rasa channel).
    token: str = ""
    rasa_url: str = "http://127.0.0.1:5005"
    city_name: str = "City of Example"
    session_hours: float = 12.0
    # Set to true behind HTTPS so the session cookie is never sent in clear.
    cookie_secure: bool = False
    # How often open handoffs are checked against Rasa for citizen messages a push missed.
    sync_seconds: float = 30.0

    class Config:
        env_prefix = "CITYBOT_HANDOFF_"
        env_file = str(ROOT / ".env")
        extra = "ignore"

    def check(self) -> None:
        """Refuse to serve outside local mode with a missing or placeholder secret, or cookies over HTTP."""
        if self.mode == "local":
            return
        if len(self.token) < MIN_TOKEN_CHARS:
            raise ValueError(f"CITYBOT_HANDOFF_TOKEN must be set (at least {MIN_TOKEN_CHARS} characters)")
        if not self.cookie_secure:
            raise ValueError("CITYBOT_HANDOFF_COOKIE_SECURE must be true outside local mode (serve over HTTPS)")


class ClientSettings(BaseSettings):
    """What the action server and the Rasa server need to reach the handoff service."""

    url: str = "http://127.0.0.1:8001"
    token: str = ""
    timeout_seconds: float = 3.0

    class Config:
        env_prefix = "CITYBOT_HANDOFF_"
        env_file = str(ROOT / ".env")
        extra = "ignore"


@lru_cache(maxsize=1)
def get_settings() -> HandoffSettings:
    return HandoffSettings()


@lru_cache(maxsize=1)
def get_client_settings() -> ClientSettings:
    return ClientSettings()
