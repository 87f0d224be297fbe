"""Cached default collaborators for actions (rasa-sdk builds actions with no arguments).

Imports happen inside the functions: the action modules import this one.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from actions.settings import get_settings

if TYPE_CHECKING:
    import sqlalchemy as sa

    from actions.outages import OutageFeed
    from actions.renewals import RenewalCatalogue
    from handoff.store import HandoffStore
    from open311.services import ServiceCatalogue
    from open311.store import RequestStore


@lru_cache(maxsize=1)
def _engine() -> sa.engine.Engine:
    from open311.store import make_engine

    return make_engine(get_settings().database_url)


@lru_cache(maxsize=1)
def request_store() -> RequestStore:
    from open311.store import RequestStore

    return RequestStore(_engine())


@lru_cache(maxsize=1)
def handoff_store() -> HandoffStore:
    from handoff.store import HandoffStore

    return HandoffStore(_engine())


@lru_cache(maxsize=1)
def service_catalogue() -> ServiceCatalogue:
    from open311.services import ServiceCatalogue

    return ServiceCatalogue.from_file(get_settings().services_file)


@lru_cache(maxsize=1)
def renewal_catalogue() -> RenewalCatalogue:
    from actions.renewals import RenewalCatalogue

    return RenewalCatalogue.from_file(get_settings().renewals_file)


@lru_cache(maxsize=1)
def outage_feed() -> OutageFeed:
    from actions.outages import OutageFeed

    settings = get_settings()
    return OutageFeed(settings.outage_feed, settings.timezone)
