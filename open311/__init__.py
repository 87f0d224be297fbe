"""Service requests with Open311 GeoReport v2 fields: catalogue and durable store.

The HTTP server (open311/api.py) is not imported here: the action server uses this package
without FastAPI's web stack.
"""

from __future__ import annotations

from open311.errors import (
    BodyTooLarge,
    CatalogueUnavailable,
    InvalidApiKey,
    InvalidServiceRequest,
    Open311Error,
    RequestNotFound,
    StoreUnavailable,
    UnknownFormat,
    UnknownService,
)
from open311.services import Service, ServiceCatalogue
from open311.store import (
    STATUSES,
    RequestStore,
    ServiceRequest,
    StatusChange,
    find_request_id,
    make_engine,
    new_request_id,
)

__all__ = [
    "STATUSES",
    "BodyTooLarge",
    "CatalogueUnavailable",
    "InvalidApiKey",
    "InvalidServiceRequest",
    "Open311Error",
    "RequestNotFound",
    "RequestStore",
    "Service",
    "ServiceCatalogue",
    "ServiceRequest",
    "StatusChange",
    "StoreUnavailable",
    "UnknownFormat",
    "UnknownService",
    "find_request_id",
    "make_engine",
    "new_request_id",
]
