"""Where the bot files service requests: an Open311 GeoReport v2 server (CITYBOT_OPEN311_* or .env)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseSettings

ROOT = Path(__file__).resolve().parent.parent


class Open311ClientSettings(BaseSettings):
    """The Open311 server the bot talks to: the web app's own by default, or the city's."""

    url: str = "http://127.0.0.1:8000/open311/v2"
    api_key: str = ""
    jurisdiction_id: str = ""
    timeout_seconds: float = 5.0
    # How often the bot asks the server whether followed requests changed status (status notifications).
    poll_seconds: float = 30.0
    # Duplicates: an open request of the same service filed within this many days, at the same place.
    duplicate_days: int = 30
    duplicate_metres: float = 50.0

    class Config:
        env_prefix = "CITYBOT_OPEN311_"
        env_file = str(ROOT / ".env")
        extra = "ignore"


@lru_cache(maxsize=1)
def get_client_settings() -> Open311ClientSettings:
    return Open311ClientSettings()
