"""The service catalogue (bot/data/content/services.yml): what can be reported, and who handles it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from bot.text import fold
from open311.errors import UnknownService

DEFAULT_CATALOGUE = Path(__file__).resolve().parent.parent / "bot" / "data" / "content" / "services.yml"


URGENCIES = ("low", "normal", "high")
DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")


@dataclass(frozen=True)
class AttributeValue:
    """One allowed answer of a list attribute: Open311's ``{key, name}``, plus the urgency it implies."""

    key: str
    name: str
    urgency: str | None = None


@dataclass(frozen=True)
class Attribute:
    """One question of a service definition (Open311 GeoReport v2 ``attributes``)."""

    code: str
    datatype: str
    required: bool
    description: str
    order: int
    values: tuple[AttributeValue, ...] = ()
    variable: bool = True

    @property
    def is_list(self) -> bool:
        return self.datatype in ("singlevaluelist", "multivaluelist")

    def value(self, key: str) -> AttributeValue | None:
        return next((value for value in self.values if value.key == key), None)


@dataclass(frozen=True)
class Service:
    """One reportable service, with Open311 GeoReport v2 names."""

    service_code: str
    service_name: str
    agency_responsible: str
    keywords: tuple[str, ...] = ()  # in every language: citizens mix them
    description: str = ""
    group: str = ""
    urgency: str = "normal"
    attributes: tuple[Attribute, ...] = ()
    # Per language code: service_name, description, agency_responsible and attribute texts
    # ("attributes": {code: {"description": ..., "values": {key: name}}}) as citizens of that language read them.
    translations: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False)

    @property
    def metadata(self) -> bool:
        """Open311's ``metadata``: whether the service definition has attributes to ask."""
        return bool(self.attributes)

    def attribute(self, code: str) -> Attribute | None:
        return next((attribute for attribute in self.attributes if attribute.code == code), None)

    def in_language(self, language: str) -> Service:
        """This service named in ``language``; fields with no translation stay as they are."""
        texts = self.translations.get(language) or {}
        by_code = texts.get("attributes") or {}
        return replace(
            self,
            service_name=texts.get("service_name") or self.service_name,
            agency_responsible=texts.get("agency_responsible") or self.agency_responsible,
            description=texts.get("description") or self.description,
            attributes=tuple(_attribute_in(item, by_code.get(item.code) or {}) for item in self.attributes),
        )


def _attribute_in(attribute: Attribute, texts: dict[str, Any]) -> Attribute:
    names = texts.get("values") or {}
    return replace(
        attribute,
        description=str(texts.get("description") or attribute.description),
        values=tuple(replace(value, name=str(names.get(value.key) or value.name)) for value in attribute.values),
    )


def _attributes(entry: dict[str, Any]) -> tuple[Attribute, ...]:
    attributes = []
    for order, item in enumerate(entry.get("attributes") or [], start=1):
        datatype = str(item.get("datatype") or "string")
        if datatype not in DATATYPES:
            raise ValueError(f"attribute {item.get('code')!r}: datatype {datatype!r} is not one of {DATATYPES}")
        values = tuple(
            AttributeValue(str(value["key"]), str(value["name"]), _urgency(value.get("urgency"), None))
            for value in item.get("values") or []
        )
        attributes.append(
            Attribute(
                code=str(item["code"]),
                datatype=datatype,
                required=bool(item.get("required", False)),
                description=str(item["description"]),
                order=order,
                values=values,
                variable=bool(item.get("variable", True)),
            )
        )
    return tuple(attributes)


def _urgency(value: Any, default: str | None) -> str | None:
    if value is None:
        return default
    if value not in URGENCIES:
        raise ValueError(f"urgency {value!r} is not one of {URGENCIES}")
    return str(value)


def _translations(entry: dict[str, Any]) -> dict[str, dict[str, Any]]:
    fields = ("service_name", "agency_responsible", "description")
    return {
        str(code): {
            **{name: str(texts[name]) for name in fields if texts.get(name)},
            "attributes": texts.get("attributes") or {},
        }
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
                    description=str(entry.get("description") or ""),
                    group=str(entry.get("group") or ""),
                    urgency=_urgency(entry.get("urgency"), "normal") or "normal",
                    attributes=_attributes(entry),
                    translations=_translations(entry),
                )
                for entry in data.get("services", [])
            ]
        )

    def get(self, service_code: str) -> Service:
        try:
            return self._services[service_code]
        except KeyError:
            raise UnknownService(service_code) from None

    def __iter__(self) -> Iterator[Service]:
        return iter(self._services.values())

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
