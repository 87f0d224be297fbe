"""The Open311 GeoReport v2 server (https://wiki.open311.org/GeoReport_v2), under /open311/v2.

Every route answers in the format of its suffix (``.json`` or ``.xml``), errors included:
:func:`add_exception_handlers` is the one place where exceptions become Open311 errors,
``[{"code": 400, "description": "..."}]`` or ``<errors><error>...``, with the HTTP status
equal to the code. docs/open311.md compares this server with the specification point by point.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import PlainTextResponse, Response

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
from open311.formats import (
    FORMATS,
    NOT_XML,
    created_entry,
    errors_document,
    parse_w3c,
    render,
    request_entry,
    service_definition,
    service_entry,
)
from open311.services import Attribute, Service, ServiceCatalogue
from open311.store import MAX_RESULTS, STATUSES, ServiceRequest, request_ids_in
from privacy import redact
from triage import TriageError, report_urgency
from web.deps import CatalogueDep, SettingsDep, StoreDep

logger = logging.getLogger(__name__)

PREFIX = "/open311/v2"
MAX_BODY_BYTES = 1_000_000
MAX_FIELDS = 200
DEFAULT_DAYS = 90  # the spec's default range, and the longest one a query may span
CHANNEL = "open311"  # ServiceRequest.channel of requests filed through this API

STATUS: dict[type[Open311Error], int] = {
    InvalidServiceRequest: 400,
    InvalidApiKey: 403,
    UnknownService: 404,
    RequestNotFound: 404,
    UnknownFormat: 404,
    BodyTooLarge: 413,
    StoreUnavailable: 503,
    CatalogueUnavailable: 503,
}

# Longest accepted text per POST field (description: the spec's 4,000 characters).
LIMITS = {
    "description": 4000,
    "media_url": 2000,
    "address_string": 500,
    "address_id": 200,
    "email": 254,
    "phone": 50,
    "first_name": 100,
    "last_name": 100,
    "device_id": 200,
    "account_id": 200,
    "status_notes": 2000,
    "agency_responsible": 200,
}
CONTACT_FIELDS = ("email", "phone", "first_name", "last_name", "device_id", "account_id")
MAX_ANSWER = {"text": 4000}
MAX_ANSWER_DEFAULT = 1000
_ATTRIBUTE_KEY = re.compile(r"attribute\[([^\[\]]*)\](\[\])?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

router = APIRouter(prefix=PREFIX, tags=["open311"])


# --- formats and errors ----------------------------------------------------------------------


def _format(suffix: str) -> str:
    if suffix not in FORMATS:
        raise UnknownFormat(f"unknown format .{suffix[:20]}: use .json or .xml")
    return suffix


def _format_of(request: Request) -> str:
    """The format an error is written in: the path's suffix, else the Accept header, else XML."""
    last = request.url.path.rsplit("/", 1)[-1]
    suffix = last.rsplit(".", 1)[-1] if "." in last else ""
    if suffix in FORMATS:
        return suffix
    accept = request.headers.get("accept", "")
    return "json" if "json" in accept and "xml" not in accept else "xml"  # XML: the spec's required format


def _document(
    root: str, data: Any, format: str, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body, media_type = render(root, data, format)
    return Response(body, status_code=status_code, media_type=media_type, headers=headers)


def _error_response(
    request: Request, status_code: int, descriptions: list[str], headers: dict[str, str] | None = None
) -> Response:
    return _document("errors", errors_document(status_code, descriptions), _format_of(request), status_code, headers)


def _under_prefix(request: Request) -> bool:
    path = request.url.path
    return path == PREFIX or path.startswith(PREFIX + "/")


async def _open311_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Open311Error)
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
    if status >= 500:
        # The reason goes to the log, not to the client; it never holds a submitter's details.
        logger.error("Open311 %s %s failed: %s", request.method, request.url.path, exc)
        return _error_response(request, status, ["the service is temporarily unavailable; try again later"])
    return _error_response(request, status, exc.descriptions)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if not _under_prefix(request):
        return await http_exception_handler(request, exc)
    return _error_response(request, exc.status_code, [str(exc.detail)], dict(exc.headers or {}))


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if not _under_prefix(request):
        return await request_validation_exception_handler(request, exc)
    problems = [f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg')}" for error in exc.errors()]
    return _error_response(request, 400, problems[:5] or ["the request is not valid"])


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Starlette logs the exception and its traceback itself once this answer is sent.
    if not _under_prefix(request):
        return PlainTextResponse("Internal Server Error", status_code=500)
    return _error_response(request, 500, ["unexpected error; the city has been notified"])


def add_exception_handlers(app: FastAPI) -> None:
    """Open311 errors for everything under /open311/v2; other paths keep FastAPI's answers."""
    app.add_exception_handler(Open311Error, _open311_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Exception, _unexpected)


# --- reading POST bodies ---------------------------------------------------------------------


class Form:
    """The fields of a POST body (form-encoded or JSON) and the problems found reading them."""

    def __init__(self, fields: dict[str, list[object]], attributes: dict[str, list[object]]) -> None:
        self.fields = fields
        self.attributes = attributes
        self.problems: list[str] = []

    def value(self, name: str) -> str | None:
        """The field's text, stripped; None when absent or empty (the spec's "optional" rule)."""
        values = [value for value in self.fields.get(name, []) if value is not None]
        if not values:
            return None
        if len(values) > 1:
            self.problems.append(f"{name} was sent more than once")
            return None
        return self._scalar(name, values[0])

    def _scalar(self, name: str, value: object) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.problems.append(f"{name} must be text or a number")
            return None
        return str(value).strip() or None

    def text(self, name: str) -> str | None:
        return self.checked(name, self.value(name))

    def checked(self, name: str, value: str | None) -> str | None:
        """``value`` if within the field's length limit and free of characters no one can store."""
        if value is not None and self.storable(name, value, LIMITS[name]):
            return value
        return None

    def storable(self, name: str, value: str, limit: int) -> bool:
        if len(value) > limit:
            self.problems.append(f"{name} is longer than {limit} characters")
            return False
        if NOT_XML.search(value):
            self.problems.append(f"{name} contains control characters")
            return False
        return True

    def answers(self, code: str) -> list[str]:
        """The values sent for attribute[code], stripped, empty ones dropped."""
        values = []
        for value in self.attributes.get(code, []):
            text = self._scalar(f"attribute[{code}]", value) if value is not None else None
            if text is not None:
                values.append(text)
        return values


async def _read_body(request: Request) -> bytes:
    length = request.headers.get("content-length", "")
    if length and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
        raise BodyTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():  # also counts chunked bodies, which carry no length
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            raise BodyTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")
    return bytes(body)


async def _read_form(request: Request) -> Form:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in ("application/x-www-form-urlencoded", "application/json"):
        raise InvalidServiceRequest("send the fields as application/x-www-form-urlencoded (or application/json)")
    body = await _read_body(request)
    if media_type == "application/json":
        return _json_form(body)
    return _urlencoded_form(body)


def _urlencoded_form(body: bytes) -> Form:
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=MAX_FIELDS
        )
    except UnicodeDecodeError as exc:
        raise InvalidServiceRequest("the body is not form data encoded in UTF-8") from exc
    except ValueError as exc:  # parse_qsl's field limit
        raise InvalidServiceRequest(f"the body has more than {MAX_FIELDS} fields") from exc
    fields: dict[str, list[object]] = {}
    attributes: dict[str, list[object]] = {}
    for key, value in pairs:
        match = _ATTRIBUTE_KEY.fullmatch(key)
        if match:
            attributes.setdefault(match.group(1), []).append(value)
        else:
            fields.setdefault(key, []).append(value)
    return Form(fields, attributes)


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number")


def _json_form(body: bytes) -> Form:
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError included
        raise InvalidServiceRequest("the body is not valid JSON in UTF-8") from exc
    if not isinstance(data, dict):
        raise InvalidServiceRequest("the body must be a JSON object of fields")
    if len(data) > MAX_FIELDS:
        raise InvalidServiceRequest(f"the body has more than {MAX_FIELDS} fields")
    fields: dict[str, list[object]] = {}
    attributes: dict[str, list[object]] = {}
    for key, value in data.items():
        match = _ATTRIBUTE_KEY.fullmatch(key)
        if key == "attribute":
            if not isinstance(value, dict):
                raise InvalidServiceRequest('"attribute" must be an object of {code: value or [values]}')
            for code, answer in value.items():
                attributes.setdefault(str(code), []).extend(answer if isinstance(answer, list) else [answer])
        elif match:
            attributes.setdefault(match.group(1), []).extend(value if isinstance(value, list) else [value])
        else:
            fields.setdefault(key, []).append(value)
    return Form(fields, attributes)


def _require_key(form: Form, allowed: frozenset[str], refusal: str) -> None:
    given = form.value("api_key")
    if given is None:
        raise InvalidApiKey("api_key was not provided")
    matched = False
    for key in allowed:  # every key compared, in constant time: no timing hints about which is close
        matched |= hmac.compare_digest(given.encode("utf-8"), key.encode("utf-8"))
    if not matched:
        raise InvalidApiKey(refusal)


# --- validating a new service request --------------------------------------------------------


def _coordinate(form: Form, name: str, text: str, bound: float) -> float | None:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or abs(value) > bound:
        form.problems.append(f"{name} must be a number from -{bound:g} to {bound:g} (WGS84 degrees)")
        return None
    return value


def _location(form: Form) -> dict[str, Any]:
    """lat and long, address_string, address_id: one of them is required, all are checked."""
    sent = {name: form.value(name) for name in ("lat", "long", "address_string", "address_id")}
    if all(value is None for value in sent.values()):
        form.problems.append("a location is required: lat and long, address_string or address_id")
    lat = long = None
    if sent["lat"] is not None or sent["long"] is not None:
        if sent["lat"] is None or sent["long"] is None:
            form.problems.append("lat and long must be sent together")
        else:
            lat = _coordinate(form, "lat", sent["lat"], 90)
            long = _coordinate(form, "long", sent["long"], 180)
    return {
        "lat": lat,
        "long": long,
        "address_string": form.checked("address_string", sent["address_string"]),
        "address_id": form.checked("address_id", sent["address_id"]),
    }


def _valid_answer(form: Form, attribute: Attribute, value: str) -> bool:
    name = f"attribute[{attribute.code}]"
    if not form.storable(name, value, MAX_ANSWER.get(attribute.datatype, MAX_ANSWER_DEFAULT)):
        return False
    if attribute.is_list and attribute.value(value) is None:
        keys = ", ".join(choice.key for choice in attribute.values)
        form.problems.append(f"{name} must be one of: {keys}")
        return False
    if attribute.datatype == "number":
        try:
            valid = math.isfinite(float(value))
        except ValueError:
            valid = False
        if not valid:
            form.problems.append(f"{name} must be a number")
        return valid
    if attribute.datatype == "datetime":
        try:
            parse_w3c(value)
        except ValueError:
            try:
                datetime.fromisoformat(value)
            except ValueError:
                form.problems.append(f"{name} must be an ISO 8601 date-time such as 2010-01-01T00:00:00Z")
                return False
    return True


def _answers(form: Form, service: Service) -> dict[str, str | list[str]]:
    """The answers to the service definition's questions: a key (or keys) for lists, text otherwise."""
    for code in form.attributes:
        if service.attribute(code) is None:
            form.problems.append(f"attribute[{code[:64]}] is not a question of service {service.service_code}")
    answers: dict[str, str | list[str]] = {}
    for attribute in service.attributes:
        if not attribute.variable:  # information shown to the citizen, nothing to answer
            continue
        values = form.answers(attribute.code)
        if not values:
            if attribute.required:
                form.problems.append(f"attribute[{attribute.code}] is required: {attribute.description}")
            continue
        if attribute.datatype != "multivaluelist" and len(values) > 1:
            form.problems.append(f"attribute[{attribute.code}] takes one value")
            continue
        if all([_valid_answer(form, attribute, value) for value in values]):  # a list: report every bad value
            multiple = attribute.datatype == "multivaluelist"
            answers[attribute.code] = list(dict.fromkeys(values)) if multiple else values[0]
    return answers


def _media_url(form: Form) -> str | None:
    url = form.text("media_url")
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        form.problems.append("media_url must be an http or https URL")
        return None
    return url


def _contact(form: Form) -> dict[str, str | None]:
    contact = {name: form.text(name) for name in CONTACT_FIELDS}
    if contact["email"] and not _EMAIL.fullmatch(contact["email"]):
        form.problems.append("email is not an e-mail address")  # the value itself is never echoed
    return contact


def _urgency(service: Service, answers: dict[str, str | list[str]], description: str) -> str:
    try:
        return report_urgency(service, answers, description)
    except (TriageError, OSError):
        # A broken triage file must not stop a report from being filed: the service's own urgency.
        logger.error("triage failed for a %s request; using the service's urgency", service.service_code, exc_info=True)
        return service.urgency


def _new_request(form: Form, catalogue: ServiceCatalogue) -> dict[str, Any]:
    """The arguments of RequestStore.create for a POSTed request; raises on every problem found."""
    code = form.value("service_code")
    service: Service | None = None
    if code is None:
        form.problems.append("service_code was not provided")
    elif code not in catalogue:
        raise UnknownService(f"service_code {code[:64]} was not found")
    else:
        service = catalogue.get(code)
    location = _location(form)
    answers = _answers(form, service) if service else {}
    description = form.text("description") or ""
    media_url = _media_url(form)
    contact = _contact(form)
    if form.problems or service is None:
        raise InvalidServiceRequest(*dict.fromkeys(form.problems))
    return {
        "service_code": service.service_code,
        "service_name": service.service_name,
        "agency_responsible": service.agency_responsible,
        "description": description,
        "media_url": media_url,
        "attributes": answers,
        "urgency": _urgency(service, answers, description),
        "channel": CHANNEL,
        **location,
        **contact,
    }


# --- reading queries -------------------------------------------------------------------------


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _plain(value: str, name: str) -> str:
    """A query value or id without control characters (a NUL would reach the database driver)."""
    if _CONTROL.search(value):
        raise InvalidServiceRequest(f"{name} contains characters that are not allowed")
    return value


def _list(query: QueryParams, name: str) -> list[str]:
    """A parameter given comma-separated, repeated, or both."""
    return [_plain(item.strip(), name) for value in query.getlist(name) for item in value.split(",") if item.strip()]


def _date(query: QueryParams, name: str) -> datetime | None:
    values = [value for value in query.getlist(name) if value.strip()]
    if not values:
        return None
    if len(values) > 1:
        raise InvalidServiceRequest(f"{name} was sent more than once")
    try:
        return parse_w3c(values[0])
    except (ValueError, OverflowError):
        raise InvalidServiceRequest(f"{name} must be a W3C date-time with an offset: 2010-01-01T00:00:00Z") from None


def _date_range(query: QueryParams) -> tuple[datetime, datetime]:
    """The spec's range: the last 90 days unless given, never longer than 90 days."""
    start, end = _date(query, "start_date"), _date(query, "end_date")
    span = timedelta(days=DEFAULT_DAYS)
    if start is None and end is None:
        end = datetime.now(timezone.utc)
    try:
        if start is None:
            assert end is not None
            start = end - span
        if end is None:
            end = start + span
    except OverflowError:
        raise InvalidServiceRequest("start_date or end_date is out of range") from None
    if start > end:
        raise InvalidServiceRequest("start_date is after end_date")
    if end - start > span:
        raise InvalidServiceRequest(f"start_date to end_date may not span more than {DEFAULT_DAYS} days")
    return start, end


def _request_id(text: str) -> str:
    """The id as written, or normalised when it is one of ours typed loosely (``sr-7k3m9q2x``)."""
    _plain(text, "service_request_id")
    found = request_ids_in(text)
    if len(found) == 1 and found[0][:2] == (0, len(text)):
        return found[0][2]
    return text


def _public(request: ServiceRequest) -> dict[str, Any]:
    # Citizens type phone numbers and e-mail addresses into descriptions; the public API masks them.
    return request_entry(request, redact(request.description or ""))


def _in_locale(service: Service, request: Request) -> Service:
    """The service in the ``locale`` asked for (an extension: ``es``, ``fr-CA``); English otherwise."""
    locale = (request.query_params.get("locale") or "").strip().lower().replace("_", "-")
    return service.in_language(locale.split("-", 1)[0]) if locale else service


# --- routes ----------------------------------------------------------------------------------


@router.get("/services.{format}")
def list_services(format: str, request: Request, catalogue: CatalogueDep) -> Response:
    """GET Service List. ``jurisdiction_id`` is accepted and ignored (one jurisdiction)."""
    fmt = _format(format)
    return _document("services", [service_entry(_in_locale(service, request)) for service in catalogue], fmt)


@router.get("/services/{service_code}.{format}")
def get_service_definition(service_code: str, format: str, request: Request, catalogue: CatalogueDep) -> Response:
    """GET Service Definition."""
    fmt = _format(format)
    if service_code not in catalogue:
        raise UnknownService(f"service_code {service_code[:64]} was not found")
    return _document("service_definition", service_definition(_in_locale(catalogue.get(service_code), request)), fmt)


@router.post("/requests.{format}")
async def create_request(
    format: str, request: Request, settings: SettingsDep, store: StoreDep, catalogue: CatalogueDep
) -> Response:
    """POST Service Request: 201 with ``[{service_request_id, service_notice, account_id}]``."""
    fmt = _format(format)
    form = await _read_form(request)
    _require_key(form, settings.submit_keys, "invalid api_key")
    fields = _new_request(form, catalogue)
    created = await run_in_threadpool(lambda: store.create(**fields))
    logger.info("service request %s (%s) filed through Open311", created.service_request_id, created.service_code)
    return _document("service_requests", [created_entry(created)], fmt, status_code=201)


@router.get("/requests.{format}")
def list_requests(format: str, request: Request, store: StoreDep) -> Response:
    """GET Service Requests: newest first, at most 1000, the last 90 days unless dates are given."""
    fmt = _format(format)
    query = request.query_params
    ids = _list(query, "service_request_id")
    found: Sequence[ServiceRequest]
    if ids:  # the spec: service_request_id overrides every other argument
        if len(ids) > MAX_RESULTS:
            raise InvalidServiceRequest(f"at most {MAX_RESULTS} service_request_id values")
        found = store.search(service_request_ids=[_request_id(value) for value in ids])
    else:
        statuses = _list(query, "status")
        unknown = [status for status in statuses if status not in STATUSES]
        if unknown:
            raise InvalidServiceRequest(f"status must be {' or '.join(STATUSES)}, comma-separated")
        start, end = _date_range(query)
        found = store.search(
            service_codes=_list(query, "service_code") or None, statuses=statuses or None, start=start, end=end
        )
    return _document("service_requests", [_public(item) for item in found], fmt)


@router.get("/requests/{service_request_id}.{format}")
def get_request(service_request_id: str, format: str, store: StoreDep) -> Response:
    """GET Service Request: an array of one request."""
    fmt = _format(format)
    found = store.get(_request_id(service_request_id))
    if found is None:
        raise RequestNotFound(f"service_request_id {service_request_id[:64]} was not found")
    return _document("service_requests", [_public(found)], fmt)


@router.post("/requests/{service_request_id}/status.{format}")
async def change_status(
    service_request_id: str, format: str, request: Request, settings: SettingsDep, store: StoreDep
) -> Response:
    """Extension: staff set a request's status (open or closed), its notes and the agency."""
    fmt = _format(format)
    form = await _read_form(request)
    _require_key(form, settings.staff_keys, "this api_key may not change a request's status")
    status = form.value("status")
    if status is None:
        form.problems.append("status was not provided")
    elif status not in STATUSES:
        form.problems.append(f"status must be {' or '.join(STATUSES)}")
    notes, agency = form.text("status_notes"), form.text("agency_responsible")
    if form.problems or status is None:
        raise InvalidServiceRequest(*dict.fromkeys(form.problems))
    request_id = _request_id(service_request_id)
    updated = await run_in_threadpool(lambda: store.update_status(request_id, status, notes, agency_responsible=agency))
    if updated is None:
        raise RequestNotFound(f"service_request_id {service_request_id[:64]} was not found")
    logger.info("service request %s is %s (Open311 staff key)", updated.service_request_id, updated.status)
    return _document("service_requests", [_public(updated)], fmt)
