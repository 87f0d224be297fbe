"""Settings of the web app, read from CITYBOT_WEB_* environment variables or .env."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseSettings, Field

ROOT = Path(__file__).resolve().parent.parent


def key_set(value: str) -> frozenset[str]:
    """The keys of a comma-separated setting, blanks dropped."""
    return frozenset(key.strip() for key in value.split(",") if key.strip())


class WebSettings(BaseSettings):
    """What the web app serves, and where the browser finds the Rasa server."""

    # The Rasa server's address as the citizen's browser reaches it.
    rasa_public_url: str = "http://localhost:5005"
    city_name: str = "City of Example"
    emergency_number: str = "911"
    # The service-request database the Open311 API serves: the action server's own
    # (CITYBOT_DATABASE_URL), so requests filed through the bot are served too.
    database_url: str = Field(
        default=f"sqlite:///{ROOT / 'var' / 'citybot.db'}", env=["CITYBOT_WEB_DATABASE_URL", "CITYBOT_DATABASE_URL"]
    )
    # The service catalogue, shared with the action server (CITYBOT_SERVICES_FILE).
    services_file: Path = Field(
        default=ROOT / "bot" / "data" / "content" / "services.yml",
        env=["CITYBOT_WEB_SERVICES_FILE", "CITYBOT_SERVICES_FILE"],
    )
    # Comma-separated Open311 api_key values. Keys that may POST service requests; staff keys may
    # also change a request's status (and POST requests). None set: every POST is refused.
    open311_api_keys: str = ""
    open311_staff_keys: str = ""

    @property
    def submit_keys(self) -> frozenset[str]:
        return key_set(self.open311_api_keys) | key_set(self.open311_staff_keys)

    @property
    def staff_keys(self) -> frozenset[str]:
        return key_set(self.open311_staff_keys)

    class Config:
        env_prefix = "CITYBOT_WEB_"
        env_file = str(ROOT / ".env")
        extra = "ignore"


@lru_cache(maxsize=1)
def get_settings() -> WebSettings:
    return WebSettings()
