"""FastAPI dependencies of the web app: settings, the service-request store, the service catalogue."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Annotated

from fastapi import Depends

from bot.content import load_when_changed
from open311.errors import CatalogueUnavailable
from open311.services import ServiceCatalogue
from open311.store import RequestStore
from web.settings import WebSettings, get_settings

logger = logging.getLogger(__name__)

SettingsDep = Annotated[WebSettings, Depends(get_settings)]


@lru_cache(maxsize=4)
def _store(database_url: str) -> RequestStore:
    # One store (one engine, one connection pool) per database, built on first use: the chat page
    # never needs it, and a database that is down at start-up is retried on the next request.
    return RequestStore.from_url(database_url)


def get_request_store(settings: SettingsDep) -> RequestStore:
    return _store(settings.database_url)


def get_catalogue(settings: SettingsDep) -> ServiceCatalogue:
    """The service catalogue, re-read when the file changes (the last good one if an edit breaks it)."""
    try:
        return load_when_changed(settings.services_file, ServiceCatalogue.from_file)
    except Exception as exc:  # a missing file, bad YAML, a bad entry: all mean "cannot serve it now"
        logger.error("cannot read the service catalogue %s", settings.services_file, exc_info=True)
        raise CatalogueUnavailable("the service catalogue cannot be read") from exc


StoreDep = Annotated[RequestStore, Depends(get_request_store)]
CatalogueDep = Annotated[ServiceCatalogue, Depends(get_catalogue)]
