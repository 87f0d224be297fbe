"""Cached default collaborators for actions (rasa-sdk builds actions with no arguments).

Content files (service catalogue, triage and renewal rules) are re-read when they
change on disk (bot/content.py), so the content team's edits apply without
restarting the action server.
Imports happen inside the functions: the action modules import this one.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from typing import TYPE_CHECKING

from actions.settings import get_settings
from bot.content import load_when_changed

logger = logging.getLogger(__name__)
if TYPE_CHECKING:
    import sqlalchemy as sa

    from actions.outages import OutageFeed
    from actions.renewals import RenewalCatalogue
    from bot.language import LanguageConfig
    from handoff.client import HandoffClient
    from handoff.outbox import Outbox
    from open311.client import Open311Client
    from open311.followers import FollowerStore
    from open311.services import ServiceCatalogue
    from retrieval.gaps import GapLog
    from retrieval.search import FaqSearcher
    from triage.config import TriageConfig


@lru_cache(maxsize=1)
def _engine() -> sa.engine.Engine:  # the bot's own tables: handoff outbox, FAQ gaps, request followers
    from open311.store import make_engine

    return make_engine(get_settings().database_url)


@lru_cache(maxsize=1)
def open311_client() -> Open311Client:
    from open311.client import Open311Client

    return Open311Client()


@lru_cache(maxsize=1)
def request_followers() -> FollowerStore:
    from open311.followers import FollowerStore

    return FollowerStore(_engine())


@lru_cache(maxsize=1)
def handoff_outbox() -> Outbox:
    from handoff.outbox import Outbox

    return Outbox(_engine())


@lru_cache(maxsize=1)
def handoff_client() -> HandoffClient:
    from handoff.client import HandoffClient

    return HandoffClient()


def service_catalogue() -> ServiceCatalogue:
    from open311.services import ServiceCatalogue

    return load_when_changed(get_settings().services_file, ServiceCatalogue.from_file)


def renewal_catalogue() -> RenewalCatalogue:
    from actions.renewals import RenewalCatalogue

    return load_when_changed(get_settings().renewals_file, RenewalCatalogue.from_file)


@lru_cache(maxsize=1)
def outage_feed() -> OutageFeed:
    from actions.outages import OutageFeed

    settings = get_settings()
    return OutageFeed(settings.outage_feed, settings.timezone)


_searcher_lock = threading.Lock()
_searcher: FaqSearcher | None = None


def faq_searcher() -> FaqSearcher:
    """The FAQ searcher, its embedder loaded once (seconds: `python -m actions` warms it up)."""
    global _searcher
    with _searcher_lock:
        if _searcher is None:
            from retrieval.embedders import load_embedder
            from retrieval.search import FaqSearcher
            from retrieval.settings import get_faq_settings

            faq = get_faq_settings()
            _searcher = FaqSearcher(load_embedder(faq.embedder), faq.index_dir, faq.reload_check_seconds)
        return _searcher


@lru_cache(maxsize=1)
def gap_log() -> GapLog:
    from retrieval.gaps import GapLog

    return GapLog(_engine())


def language_config() -> LanguageConfig:
    from bot.language import LANGUAGES_FILE, LanguageConfig

    return load_when_changed(LANGUAGES_FILE, LanguageConfig.from_file)


def triage_config() -> TriageConfig:
    from triage import default_config

    return default_config()
