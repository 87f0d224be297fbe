"""Settings of the action server, read from CITYBOT_* environment variables or .env."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseSettings

ROOT = Path(__file__).resolve().parent.parent


class ActionSettings(BaseSettings):
    """Everything the actions need to know about their surroundings."""

    # Service requests and handoff requests (SQLite by default, any SQLAlchemy URL).
    database_url: str = f"sqlite:///{ROOT / 'var' / 'citybot.db'}"
    # The utility's outage export: a file path or an http(s) URL.
    outage_feed: str = str(ROOT / "bot" / "data" / "feeds" / "outages.json")
    services_file: Path = ROOT / "bot" / "data" / "content" / "services.yml"
    renewals_file: Path = ROOT / "bot" / "data" / "content" / "renewals.yml"
    # The city's time zone, for "today" and for the times we show.
    timezone: str = "America/New_York"
    # FAQ answers (actions/faq.py): score cut-offs for the default embedder, calibrated by
    # `make bench-faq` (benchmarks/results/faq.md, section 2). Answer when the best entry scores
    # at least faq_answer_threshold and leads the next by faq_margin; offer the two best as
    # buttons from faq_choose_threshold; below that, say so. Recalibrate if the embedder changes.
    faq_answer_threshold: float = 0.465
    faq_choose_threshold: float = 0.428
    faq_margin: float = 0.08

    class Config:
        env_prefix = "CITYBOT_"
        env_file = str(ROOT / ".env")
        extra = "ignore"


@lru_cache(maxsize=1)
def get_settings() -> ActionSettings:
    return ActionSettings()
