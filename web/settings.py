"""Settings of the web app, read from CITYBOT_WEB_* environment variables or .env."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseSettings

ROOT = Path(__file__).resolve().parent.parent


class WebSettings(BaseSettings):
    """What the web app serves, and where the browser finds the Rasa server."""

    # The Rasa server's address as the citizen's browser reaches it.
    rasa_public_url: str = "http://localhost:5005"
    city_name: str = "City of Example"
    emergency_number: str = "911"

    class Config:
        env_prefix = "CITYBOT_WEB_"
        env_file = str(ROOT / ".env")
        extra = "ignore"


@lru_cache(maxsize=1)
def get_settings() -> WebSettings:
    return WebSettings()
