"""Service requests with Open311 GeoReport v2 fields: catalogue and durable store."""

from __future__ import annotations

from open311.errors import Open311Error, StoreUnavailable, UnknownService
from open311.services import Service, ServiceCatalogue
from open311.store import RequestStore, ServiceRequest, find_request_id, make_engine, new_request_id

__all__ = [
    "Open311Error",
    "RequestStore",
    "Service",
    "ServiceCatalogue",
    "ServiceRequest",
    "StoreUnavailable",
    "UnknownService",
    "find_request_id",
    "make_engine",
    "new_request_id",
]
