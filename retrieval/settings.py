"""Where the FAQ lives and how it is indexed, from CITYBOT_FAQ_* environment variables or .env."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseSettings, Field

from bot.language import LanguageConfig
from retrieval.index import APPROXIMATE_ABOVE

ROOT = Path(__file__).resolve().parent.parent


class FaqSettings(BaseSettings):
    """Shared by `make faq` (which builds) and the action server (which searches)."""

    # The content team's files (see README, "Updating FAQs").
    dir: Path = ROOT / "bot" / "data" / "faq"
    # The built index; `make faq` writes it, the action server reloads it when it changes.
    index_dir: Path = ROOT / "models" / "faq"
    # Chosen by measured recall (benchmarks/results/faq.md); any spec load_embedder accepts.
    embedder: str = "minilm+use-multilingual"
    # The bot's languages (bot/data/languages.yml) unless narrowed here.
    languages: list[str] = Field(default_factory=lambda: LanguageConfig.from_file().codes)
    # Every entry must have questions and an answer in this language; others fall back to it.
    default_language: str = Field(default_factory=lambda: LanguageConfig.from_file().default)
    approximate_above: int = APPROXIMATE_ABOVE
    # How often a running service looks for a rebuilt index (seconds).
    reload_check_seconds: float = 1.0
    # Where unanswered questions are logged: the same database as the action server's.
    database_url: str = f"sqlite:///{ROOT / 'var' / 'citybot.db'}"

    class Config:
        env_prefix = "CITYBOT_FAQ_"
        env_file = str(ROOT / ".env")
        extra = "ignore"
        fields = {"database_url": {"env": "CITYBOT_DATABASE_URL"}}


@lru_cache(maxsize=1)
def get_faq_settings() -> FaqSettings:
    return FaqSettings()
