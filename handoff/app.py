"""The handoff service: the queue API the bot calls and the agent console (``uvicorn handoff.app:app``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Iterator
from functools import lru_cache
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from handoff.accounts import Accounts
from handoff.deps import SESSION_COOKIE, require_service_token
from handoff.errors import (
    HandoffConflict,
    HandoffError,
    HandoffNotFound,
    HandoffUnavailable,
    InvalidHandoff,
    NotAllowed,
    NotAuthenticated,
)
from handoff.relay import RasaRelay
from handoff.routers import analytics, console, service
from handoff.service import HandoffService, run_worker
from handoff.settings import HandoffSettings, get_settings
from handoff.store import HandoffStore
from open311.store import make_engine

logger = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
MAX_BODY_BYTES = 1_000_000

STATUS = {
    NotAuthenticated: 401,
    NotAllowed: 403,
    HandoffNotFound: 404,
    HandoffConflict: 409,
    InvalidHandoff: 422,
    HandoffUnavailable: 503,
}


class Notifier:
    """Wakes the open event streams of this process when something changed."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Event] = set()

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        self._waiters.add(event)
        try:
            yield event
        finally:
            self._waiters.discard(event)

    def notify(self) -> None:
        for event in self._waiters:
            event.set()

    @staticmethod
    async def wait(event: asyncio.Event, timeout: float) -> None:
        """Until something changed here, or ``timeout`` seconds (changes made by other instances)."""
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except asyncio.TimeoutError:
            return
        event.clear()


class BodyTooLarge(Exception):
    """Raised inside a request's receive: the body went over the limit."""


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes however they are sent (chunked ones too)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received, started = 0, False

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise BodyTooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except BodyTooLarge:
            if started:
                raise
            response = JSONResponse({"detail": f"the body is larger than {self.limit} bytes"}, status_code=413)
            await response(scope, receive, send)


class Guard(BaseHTTPMiddleware):
    """Who may call what, checked before any body is read; security headers on every answer."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        length = request.headers.get("content-length", "")
        if length and (not _DIGITS.fullmatch(length) or int(length) > MAX_BODY_BYTES):
            return JSONResponse({"detail": f"the body is larger than {MAX_BODY_BYTES} bytes"}, status_code=413)
        try:
            _authenticate(request)
        except NotAuthenticated as exc:
            return _secured(JSONResponse({"detail": str(exc)}, status_code=401))
        return _secured(await call_next(request))


_DIGITS = re.compile(r"[0-9]{1,12}")


def _authenticate(request: Request) -> None:
    """Console and admin APIs need a session, the bot's API the service token (the routes check again)."""
    path, state = request.url.path, request.app.state
    if path.startswith(("/api/console/", "/api/admin/")) or path == "/console/logout":
        state.accounts.session(request.cookies.get(SESSION_COOKIE, ""))
    elif path.startswith("/api/"):
        require_service_token(state.settings, request.headers.get("authorization"))


def _secured(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def create_app(settings: HandoffSettings | None = None, relay: RasaRelay | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.check()

    engine = make_engine(settings.database_url)
    store = HandoffStore(engine)
    service_ = HandoffService(store, relay or RasaRelay(settings.rasa_url, settings.token))
    if not settings.token:
        logger.error("CITYBOT_HANDOFF_TOKEN is not set: the bot cannot reach this service")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(service_, settings.sync_seconds, stop))
        try:
            yield
        finally:
            stop.set()
            await worker
            await service_.relay.close()
            engine.dispose()

    app = FastAPI(title="City handoff service", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.settings = settings
    app.state.service = service_
    app.state.accounts = Accounts(engine, settings.session_hours)
    app.state.notifier = Notifier()
    app.add_middleware(Guard)
    app.add_middleware(BodyLimit)
    app.mount("/console/static", StaticFiles(directory=str(HERE / "static")), name="console-static")
    app.include_router(service.router)
    app.include_router(console.router)
    app.include_router(analytics.router)

    @app.exception_handler(HandoffError)
    async def handoff_error(request: Request, exc: HandoffError) -> JSONResponse:
        status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 500)
        if status >= 500:
            logger.error("handoff request failed: %s", exc)
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": e.get("loc"), "msg": e.get("msg")} for e in exc.errors()[:5]]
        return JSONResponse({"detail": "the request is not valid", "errors": errors}, status_code=422)

    @app.get("/health", include_in_schema=False)
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return app


@lru_cache(maxsize=1)
def _default_app() -> FastAPI:
    return create_app()


def __getattr__(name: str) -> FastAPI:
    """``handoff.app:app`` for uvicorn, built on first use (settings come from the environment)."""
    if name == "app":
        return _default_app()
    raise AttributeError(name)
