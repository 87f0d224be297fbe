"""Open311 GeoReport v2 documents, written as JSON or XML, and the W3C date-times they carry.

A document is plain data (dicts, lists, strings, numbers, booleans, None). The XML is the
spec's "Spark convention" mapping of the same data: a list under ``key`` becomes ``<key>``
holding one ``<item>`` per entry, ``None`` an empty element. Text goes through ElementTree,
so user text is always escaped.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from open311.services import Attribute, Service
from open311.store import ServiceRequest

FORMATS = ("json", "xml")
MEDIA_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
MAX_KEYWORDS = 10
# The element name of one entry of each list, by the name of the list.
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
}
# Characters XML 1.0 cannot carry at all, even escaped (control characters, lone surrogates).
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_W3C = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2}))?"
)


def render(root: str, data: Any, format: str) -> tuple[bytes, str]:
    """(body, media type) of the document ``data`` whose XML root element is ``root``."""
    if format == "json":
        return json.dumps(data, ensure_ascii=False, allow_nan=False).encode("utf-8"), MEDIA_TYPES["json"]
    element = ET.Element(root)
    _fill(element, root, data)
    text = ET.tostring(element, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>' + text).encode("utf-8"), MEDIA_TYPES["xml"]


def _fill(element: ET.Element, name: str, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), key, item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _fill(ET.SubElement(element, ITEM_NAMES[name]), ITEM_NAMES[name], item)
    elif value is not None:
        element.text = _text(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    # Text stored by other channels may hold characters XML cannot carry: show them as U+FFFD.
    return NOT_XML.sub("\ufffd", str(value))


def errors_document(code: int, descriptions: list[str]) -> list[dict[str, Any]]:
    return [{"code": code, "description": description} for description in descriptions]


def w3c(value: datetime | None) -> str | None:
    """``2010-01-01T00:00:00Z``: the W3C profile of ISO 8601 the spec requires, in UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_w3c(text: str) -> datetime:
    """A W3C date-time with its offset (``2010-01-01T00:00:00Z``, ``...-05:00``) or a date (UTC).

    Raises ValueError for anything else, a date-time without an offset included: the spec
    requires one, and guessing the time zone would shift the range by hours.
    """
    match = _W3C.fullmatch(text.strip())
    if not match:
        raise ValueError(text)
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    zone = timezone.utc
    if offset and offset != "Z":
        sign = -1 if offset[0] == "-" else 1
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            raise ValueError(text)
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    micro = int((fraction or "0").ljust(6, "0")[:6])
    return datetime(
        int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro, tzinfo=zone
    )


def service_entry(service: Service) -> dict[str, Any]:
    """One service of GET services."""
    return {
        "service_code": service.service_code,
        "service_name": service.service_name,
        "description": service.description or None,
        "metadata": service.metadata,
        "type": "realtime",
        "keywords": ", ".join(service.keywords[:MAX_KEYWORDS]),
        "group": service.group or None,
    }


def _attribute_entry(attribute: Attribute) -> dict[str, Any]:
    return {
        "variable": attribute.variable,
        "code": attribute.code,
        "datatype": attribute.datatype,
        "required": attribute.required,
        "datatype_description": None,
        "order": attribute.order,
        "description": attribute.description,
        "values": [{"key": value.key, "name": value.name} for value in attribute.values],
    }


def service_definition(service: Service) -> dict[str, Any]:
    """GET services/<code>: the questions to ask, in order."""
    return {
        "service_code": service.service_code,
        "attributes": [_attribute_entry(attribute) for attribute in service.attributes],
    }


def request_entry(request: ServiceRequest, description: str | None = None) -> dict[str, Any]:
    """One request of GET requests: Open311 fields only, never the submitter's, conversation or channel.

    ``description`` replaces the stored one (the API serves it redacted).
    """
    text = request.description if description is None else description
    return {
        "service_request_id": request.service_request_id,
        "status": request.status,
        "status_notes": request.status_notes or None,
        "service_name": request.service_name,
        "service_code": request.service_code,
        "description": text or None,
        "agency_responsible": request.agency_responsible or None,
        "service_notice": None,
        "requested_datetime": w3c(request.requested_datetime),
        "updated_datetime": w3c(request.updated_datetime),
        "expected_datetime": None,
        "address": request.address_string or None,
        "address_id": request.address_id or None,
        "zipcode": None,
        "lat": request.lat,
        "long": request.long,
        "media_url": request.media_url or None,
    }


def created_entry(request: ServiceRequest) -> dict[str, Any]:
    """The answer to POST requests: the new id, and the account id the submitter sent."""
    return {"service_request_id": request.service_request_id, "service_notice": None, "account_id": request.account_id}
