"""Where the analytics read from: the same variables the Rasa server and the web app use."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseSettings, Field

ROOT = Path(__file__).resolve().parents[1]


class AnalyticsSettings(BaseSettings):
    tracker_db: Path = Field(default=ROOT / "var" / "tracker.db", env="CITYBOT_TRACKER_DB")  # Rasa's, SQLite
    tracker_url: str = Field(default="", env="CITYBOT_ANALYTICS_TRACKER_URL")  # or any SQLAlchemy URL (PostgreSQL)
    database_url: str = Field(default=f"sqlite:///{ROOT / 'var' / 'citybot.db'}", env="CITYBOT_DATABASE_URL")

    class Config:
        env_file = str(ROOT / ".env")
        extra = "ignore"

    def tracker(self) -> str:
        return self.tracker_url or f"sqlite:///{self.tracker_db}"
