"""The bot's Open311 GeoReport v2 client: the questions of a service, filing, reading and finding requests.

The base URL and the API key are configuration (open311/settings.py), so a city can
point the bot at its own Open311 server instead of the web app's.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from bot.http import LoopClients
from open311.errors import FilingUncertain, ServerRejected, ServerUnavailable
from open311.services import Attribute, AttributeValue
from open311.settings import Open311ClientSettings, get_client_settings

DEFINITION_TTL_SECONDS = 300.0
IDS_PER_QUERY = 50


@dataclass(frozen=True)
class FiledRequest:
    service_request_id: str
    service_notice: str | None = None


@dataclass(frozen=True)
class RemoteRequest:
    """A service request as an Open311 server returns it."""

    service_request_id: str
    status: str
    service_code: str | None
    service_name: str | None
    description: str | None
    status_notes: str | None
    agency_responsible: str | None
    address: str | None
    lat: float | None
    long: float | None
    media_url: str | None
    requested_datetime: datetime | None
    updated_datetime: datetime | None

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> RemoteRequest:
        def number(name: str) -> float | None:
            try:
                return float(item[name]) if item.get(name) not in (None, "") else None
            except (TypeError, ValueError):
                return None

        def moment(name: str) -> datetime | None:
            try:
                return datetime.fromisoformat(str(item[name]).replace("Z", "+00:00")) if item.get(name) else None
            except ValueError:
                return None

        def text(name: str) -> str | None:
            value = item.get(name)
            return str(value) if value not in (None, "") else None

        return cls(
            service_request_id=str(item["service_request_id"]),
            status=str(item.get("status") or "open"),
            service_code=text("service_code"),
            service_name=text("service_name"),
            description=text("description"),
            status_notes=text("status_notes"),
            agency_responsible=text("agency_responsible"),
            address=text("address"),
            lat=number("lat"),
            long=number("long"),
            media_url=text("media_url"),
            requested_datetime=moment("requested_datetime"),
            updated_datetime=moment("updated_datetime"),
        )


def _attribute(item: dict[str, Any]) -> Attribute:
    return Attribute(
        code=str(item["code"]),
        datatype=str(item.get("datatype") or "string"),
        required=str(item.get("required")).lower() == "true",
        description=str(item.get("description") or item.get("datatype_description") or item["code"]),
        order=int(item.get("order") or 0),
        values=tuple(AttributeValue(str(v["key"]), str(v.get("name") or v["key"])) for v in item.get("values") or []),
        variable=str(item.get("variable", True)).lower() != "false",
    )


def _parsed(item: Any) -> RemoteRequest:
    try:
        return RemoteRequest.from_json(item)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ServerUnavailable(f"the Open311 server answered a request without {exc}") from exc


class Open311Client:
    """Async client of an Open311 GeoReport v2 server (JSON format)."""

    def __init__(
        self, settings: Open311ClientSettings | None = None, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.settings = settings or get_client_settings()
        self._transport = transport
        # One connection pool per event loop (rasa-sdk's, and the status watcher's own).
        self._pool = LoopClients(lambda: httpx.AsyncClient(
            base_url=self.settings.url.rstrip("/"), timeout=self.settings.timeout_seconds,
            transport=self._transport,
        ))
        self._definitions: dict[tuple[str, str], tuple[float, tuple[Attribute, ...]]] = {}

    def _client(self) -> httpx.AsyncClient:
        return self._pool.get()

    def _common(self) -> dict[str, str]:
        return {"jurisdiction_id": self.settings.jurisdiction_id} if self.settings.jurisdiction_id else {}

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self._client().request(method, path, **kwargs)
        except (httpx.HTTPError, UnicodeError) as exc:
            raise ServerUnavailable(f"the Open311 server cannot be reached: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 500:
            raise ServerUnavailable(f"the Open311 server failed ({response.status_code})")
        if response.status_code >= 400:
            errors = body if isinstance(body, list) else []
            descriptions = [str(e.get("description")) for e in errors if isinstance(e, dict)]
            raise ServerRejected(response.status_code, descriptions or [response.text[:300]])
        if body is None:
            raise ServerUnavailable("the Open311 server did not answer in JSON")
        return body

    async def service_attributes(self, service_code: str, locale: str = "en") -> tuple[Attribute, ...]:
        """The questions of a service definition, in order (cached for a few minutes); () if it has none."""
        key = (service_code, locale)
        cached = self._definitions.get(key)
        if cached is not None and time.monotonic() - cached[0] < DEFINITION_TTL_SECONDS:
            return cached[1]
        body = await self._call("GET", f"/services/{quote(service_code, safe='')}.json",
                                params={**self._common(), "locale": locale})
        items = body.get("attributes") if isinstance(body, dict) else None
        try:
            attributes = tuple(sorted((_attribute(item) for item in items or [] if isinstance(item, dict)),
                                      key=lambda attribute: attribute.order))
        except (KeyError, TypeError, ValueError) as exc:
            raise ServerUnavailable(f"the Open311 server sent a malformed service definition: {exc}") from exc
        self._definitions[key] = (time.monotonic(), attributes)
        return attributes

    async def create_request(
        self,
        service_code: str,
        *,
        description: str,
        address_string: str | None = None,
        lat: float | None = None,
        long: float | None = None,
        media_url: str | None = None,
        answers: dict[str, str] | None = None,
    ) -> FiledRequest:
        """POST requests.json (form-encoded, as the specification says); the new request's id."""
        form: dict[str, Any] = {**self._common(), "api_key": self.settings.api_key, "service_code": service_code,
                                "description": description}
        for name, value in (("address_string", address_string), ("lat", lat), ("long", long),
                            ("media_url", media_url)):
            if value is not None:
                form[name] = str(value)
        for code, value in (answers or {}).items():
            form[f"attribute[{code}]"] = value
        try:
            body = await self._call("POST", "/requests.json", data=form)
        except ServerUnavailable as exc:
            sent = isinstance(exc.__cause__, (httpx.TimeoutException, httpx.RemoteProtocolError)) \
                and not isinstance(exc.__cause__, (httpx.ConnectTimeout, httpx.PoolTimeout))
            if sent:
                raise FilingUncertain(str(exc)) from exc
            raise
        first = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else {}
        if not first.get("service_request_id"):
            raise ServerUnavailable("the Open311 server answered without a service_request_id")
        return FiledRequest(str(first["service_request_id"]), first.get("service_notice"))

    async def get_request(self, service_request_id: str) -> RemoteRequest | None:
        try:
            body = await self._call("GET", f"/requests/{quote(service_request_id, safe='')}.json",
                                    params=self._common())
        except ServerRejected as exc:
            if exc.status == 404:
                return None
            raise
        return _parsed(body[0]) if isinstance(body, list) and body else None

    async def find_requests(
        self,
        *,
        ids: Iterable[str] = (),
        service_code: str | None = None,
        status: str | None = None,
        start_date: datetime | None = None,
    ) -> list[RemoteRequest]:
        """GET requests.json with the standard filters (ids are asked in batches)."""
        wanted = list(ids)
        if wanted:
            found: list[RemoteRequest] = []
            for start in range(0, len(wanted), IDS_PER_QUERY):
                batch = ",".join(wanted[start:start + IDS_PER_QUERY])
                found += await self._requests({"service_request_id": batch})
            return found
        params = {"service_code": service_code, "status": status,
                  "start_date": start_date.isoformat() if start_date else None}
        return await self._requests({k: v for k, v in params.items() if v})

    async def _requests(self, params: dict[str, str]) -> list[RemoteRequest]:
        body = await self._call("GET", "/requests.json", params={**self._common(), **params})
        return [_parsed(item) for item in body if isinstance(item, dict)] if isinstance(body, list) else []
