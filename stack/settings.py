"""Settings of the whole stack on one machine, read from CITYBOT_* variables or .env."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import BaseSettings, validator

ROOT = Path(__file__).resolve().parent.parent


class StackSettings(BaseSettings):
    """Ports, files and secrets of the embedded default (SQLite, files, in-memory locks)."""

    mode: str = "local"  # "local" generates missing secrets; anything else refuses to
    host: str = "127.0.0.1"
    rasa_port: int = 5005
    action_port: int = 5055
    web_port: int = 8000
    handoff_port: int = 8001  # the handoff service and agent console
    var_dir: Path = ROOT / "var"
    model_path: Path = ROOT / "models" / "citybot.tar.gz"
    database_url: str = ""  # default: SQLite under var_dir
    rasa_api_token: str = ""  # protects Rasa's HTTP API (trackers); generated in local mode
    handoff_token: str = ""  # shared by the bot and the handoff service; generated in local mode
    handoff_database_url: str = ""  # default: SQLite under var_dir
    # The bot's key for the web app's Open311 server, and the back office's (may change statuses);
    # generated in local mode. open311_poll_seconds: how often status changes are looked for.
    open311_api_key: str = ""
    open311_staff_key: str = ""
    open311_poll_seconds: float = 30.0

    class Config:
        env_prefix = "CITYBOT_"
        env_file = str(ROOT / ".env")
        extra = "ignore"

    @validator("database_url", always=True)
    def _default_database(cls, value: str, values: dict[str, object]) -> str:
        return value or f"sqlite:///{values['var_dir']}/citybot.db"

    @validator("handoff_database_url", always=True)
    def _default_handoff_database(cls, value: str, values: dict[str, object]) -> str:
        return value or f"sqlite:///{values['var_dir']}/handoff.db"

    @property
    def tracker_db(self) -> Path:
        return self.var_dir / "tracker.db"

    def web_url(self) -> str:
        return f"http://{self.host}:{self.web_port}"

    def handoff_url(self) -> str:
        return f"http://{self.host}:{self.handoff_port}"

    def rasa_public_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    def cors_origins(self) -> list[str]:
        """Origins allowed to talk to the Rasa server from a browser: the web app's."""
        origins = [self.web_url()]
        if self.host == "127.0.0.1":
            origins.append(f"http://localhost:{self.web_port}")
        return origins

    def rasa_token(self) -> str:
        """The Rasa HTTP API token: configured, or (local mode only) generated once and kept."""
        self.rasa_api_token = self._secret(self.rasa_api_token, "rasa_api_token", "CITYBOT_RASA_API_TOKEN")
        return self.rasa_api_token

    def handoff_secret(self) -> str:
        """The token the bot and the handoff service share: configured, or generated in local mode."""
        self.handoff_token = self._secret(self.handoff_token, "handoff_token", "CITYBOT_HANDOFF_TOKEN")
        return self.handoff_token

    def open311_keys(self) -> tuple[str, str]:
        """(the bot's Open311 API key, the back office's staff key): configured, or generated in local mode."""
        self.open311_api_key = self._secret(self.open311_api_key, "open311_api_key", "CITYBOT_OPEN311_API_KEY")
        self.open311_staff_key = self._secret(self.open311_staff_key, "open311_staff_key",
                                              "CITYBOT_OPEN311_STAFF_KEY")
        return self.open311_api_key, self.open311_staff_key

    def open311_url(self) -> str:
        return f"{self.web_url()}/open311/v2"

    def _secret(self, configured: str, file_name: str, variable: str) -> str:
        if configured:
            return configured
        if self.mode != "local":
            raise ValueError(f"{variable} must be set outside local mode")
        path = self.var_dir / file_name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(32))
        return path.read_text().strip()
