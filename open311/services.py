"""The service catalogue (bot/data/content/services.yml): what can be reported, and who handles it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from bot.text import fold
from open311.errors import UnknownService

DEFAULT_CATALOGUE = Path(__file__).resolve().parent.parent / "bot" / "data" / "content" / "services.yml"


@dataclass(frozen=True)
class Service:
    """One reportable service, with Open311 GeoReport v2 names."""

    service_code: str
    service_name: str
    agency_responsible: str
    keywords: tuple[str, ...] = ()  # in every language: citizens mix them
    # Per language code: service_name and agency_responsible as citizens of that language read them.
    translations: dict[str, dict[str, str]] = field(default_factory=dict, compare=False)

    def in_language(self, language: str) -> Service:
        """This service named in ``language``; fields with no translation stay as they are."""
        texts = self.translations.get(language) or {}
        return replace(
            self,
            service_name=texts.get("service_name") or self.service_name,
            agency_responsible=texts.get("agency_responsible") or self.agency_responsible,
        )


def _translations(entry: dict[str, Any], fields: tuple[str, ...]) -> dict[str, dict[str, str]]:
    return {
        str(code): {name: str(texts[name]) for name in fields if texts.get(name)}
        for code, texts in (entry.get("translations") or {}).items()
    }


def _keywords(entry: dict[str, Any]) -> tuple[str, ...]:
    """The entry's keywords in every language, lower case."""
    words = list(entry.get("keywords") or [])
    for texts in (entry.get("translations") or {}).values():
        words.extend(texts.get("keywords") or [])
    return tuple(dict.fromkeys(fold(str(word)) for word in words))


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
                    keywords=_keywords(entry),
                    translations=_translations(entry, ("service_name", "agency_responsible")),
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
        lowered = fold(text)
        best: tuple[int, Service] | None = None
        for service in self._services.values():
            for keyword in service.keywords:
                if re.search(rf"\b{re.escape(keyword)}\b", lowered) and (
                    best is None or len(keyword) > best[0]
                ):
                    best = (len(keyword), service)
        return best[1] if best else None
