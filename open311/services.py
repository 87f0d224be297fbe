"""The service catalogue (bot/data/content/services.yml): what can be reported, and who handles it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from open311.errors import UnknownService

DEFAULT_CATALOGUE = Path(__file__).resolve().parent.parent / "bot" / "data" / "content" / "services.yml"


@dataclass(frozen=True)
class Service:
    """One reportable service, with Open311 GeoReport v2 names."""

    service_code: str
    service_name: str
    agency_responsible: str
    keywords: tuple[str, ...] = ()


class ServiceCatalogue:
    """Services by code, and keyword matching of free text to a service."""

    def __init__(self, services: list[Service]) -> None:
        self._services = {service.service_code: service for service in services}

    @classmethod
    def from_file(cls, path: Path = DEFAULT_CATALOGUE) -> ServiceCatalogue:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls(
            [
                Service(
                    service_code=str(entry["service_code"]),
                    service_name=str(entry["service_name"]),
                    agency_responsible=str(entry["agency_responsible"]),
                    keywords=tuple(str(k).lower() for k in entry.get("keywords", [])),
                )
                for entry in data.get("services", [])
            ]
        )

    def get(self, service_code: str) -> Service:
        try:
            return self._services[service_code]
        except KeyError:
            raise UnknownService(service_code) from None

    def __contains__(self, service_code: object) -> bool:
        return service_code in self._services

    def match(self, text: str) -> Service | None:
        """The service whose keyword appears in the text (longest keyword wins), if any."""
        lowered = text.lower()
        best: tuple[int, Service] | None = None
        for service in self._services.values():
            for keyword in service.keywords:
                if re.search(rf"\b{re.escape(keyword)}\b", lowered) and (
                    best is None or len(keyword) > best[0]
                ):
                    best = (len(keyword), service)
        return best[1] if best else None
