"""The agent console: login, the page, its JSON API and its live event stream."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from handoff import transcript
from handoff.deps import (
    SESSION_COOKIE,
    AccountsDep,
    AdminSessionDep,
    CheckedSessionDep,
    ServiceDep,
    SessionDep,
    SettingsDep,
)
from handoff.errors import InvalidHandoff, NotAllowed, NotAuthenticated
from handoff.packet import MAX_TEXT

HERE = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=str(HERE / "templates"))

router = APIRouter(tags=["console"])
KEEPALIVE_SECONDS = 15.0
_EVENT_ID = re.compile(r"[0-9]{1,18}")
SESSION_RECHECK_SECONDS = 60.0


class Credentials(BaseModel):
    username: str = Field(..., max_length=64)
    password: str = Field(..., max_length=1024)


class Text(BaseModel):
    text: str = Field(..., min_length=1, max_length=MAX_TEXT)


class Resolution(BaseModel):
    note: str | None = Field(None, max_length=MAX_TEXT)


class Transfer(BaseModel):
    team: str | None = Field(None, min_length=1, max_length=64)
    agent: str | None = Field(None, min_length=1, max_length=64)


class NewAccount(BaseModel):
    username: str = Field(..., max_length=64)
    password: str = Field(..., max_length=1024)
    role: str = "agent"
    display_name: str | None = Field(None, max_length=128)
    team: str | None = Field(None, max_length=64)


# Pages ----------------------------------------------------------------------------------------

def login_page(request: Request, settings: SettingsDep, status_code: int = 200) -> HTMLResponse:
    context = {"title": "Agent console: log in", "city": settings.city_name}
    return templates.TemplateResponse(request, "login.html", context, status_code=status_code)


@router.get("/console/login", response_class=HTMLResponse, include_in_schema=False)
async def login_form(request: Request, settings: SettingsDep) -> HTMLResponse:
    return login_page(request, settings)


@router.get("/console/", response_class=HTMLResponse, include_in_schema=False)
async def console_page(request: Request, settings: SettingsDep, accounts: AccountsDep) -> HTMLResponse:
    try:
        session = accounts.session(request.cookies.get(SESSION_COOKIE, ""))
    except NotAuthenticated:
        return login_page(request, settings, status_code=401)  # the login form, with the status it deserves
    context = {
        "title": "Agent console",
        "city": settings.city_name,
        "csrf_token": session.csrf_token,
        "user": session.account.as_dict(),
    }
    return templates.TemplateResponse(request, "console.html", context)


@router.post("/console/login")
async def login(credentials: Credentials, accounts: AccountsDep, settings: SettingsDep) -> JSONResponse:
    # scrypt takes tens of milliseconds on purpose: off the event loop
    session = await run_in_threadpool(accounts.login, credentials.username.strip(), credentials.password)
    response = JSONResponse(session.account.as_dict())
    response.set_cookie(SESSION_COOKIE, session.token, max_age=int(settings.session_hours * 3600), httponly=True,
                        samesite="strict", secure=settings.cookie_secure, path="/")
    return response


@router.post("/console/logout", status_code=204)
async def logout(request: Request, session: CheckedSessionDep, accounts: AccountsDep) -> Response:
    accounts.logout(request.cookies.get(SESSION_COOKIE, ""))
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# Console API ----------------------------------------------------------------------------------

@router.get("/api/console/me")
async def me(session: SessionDep) -> dict[str, Any]:
    return session.account.as_dict()


@router.get("/api/console/queue")
async def queue(
    session: SessionDep, service: ServiceDep, status: str = "open", language: str | None = None,
    team: str | None = None,
) -> dict[str, Any]:
    if status not in ("open", "waiting", "active", "resolved"):
        status = "open"
    return {"handoffs": service.store.queue(status, language or None, team or None)}


@router.get("/api/console/handoffs/{reference}")
async def handoff_detail(reference: str, session: SessionDep, service: ServiceDep) -> dict[str, Any]:
    store = service.store
    return {
        "handoff": store.summary(reference),
        "packet": store.packet(reference),
        "messages": [m.as_dict() for m in store.messages(reference)],
        "notes": [n.as_dict() for n in store.notes(reference)],
    }


def _changed(request: Request, summary: dict[str, Any]) -> dict[str, Any]:
    request.app.state.notifier.notify()
    return summary


@router.post("/api/console/handoffs/{reference}/claim")
async def claim(reference: str, request: Request, session: CheckedSessionDep, service: ServiceDep) -> dict[str, Any]:
    return _changed(request, service.store.claim(reference, session.account.username))


@router.post("/api/console/handoffs/{reference}/release")
async def release(reference: str, request: Request, session: CheckedSessionDep, service: ServiceDep) -> dict[str, Any]:
    account = session.account
    return _changed(request, service.store.release(reference, account.username, admin=account.role == "admin"))


@router.post("/api/console/handoffs/{reference}/transfer")
async def transfer(
    reference: str, target: Transfer, request: Request, session: CheckedSessionDep, service: ServiceDep,
    accounts: AccountsDep,
) -> dict[str, Any]:
    if not target.team and not target.agent:
        raise InvalidHandoff("say which team or agent to transfer to")
    if target.agent and target.agent not in {a.username for a in accounts.list()}:
        raise InvalidHandoff(f"there is no agent {target.agent}")
    account = session.account
    summary = service.store.transfer(reference, account.username, team=target.team, to_agent=target.agent,
                                     admin=account.role == "admin")
    return _changed(request, summary)


@router.post("/api/console/handoffs/{reference}/resolve")
async def resolve(
    reference: str, request: Request, session: CheckedSessionDep, service: ServiceDep,
    resolution: Resolution | None = None,
) -> dict[str, Any]:
    note = resolution.note.strip() if resolution and resolution.note and resolution.note.strip() else None
    account = session.account
    return _changed(request, await service.resolve(reference, account.username, note, admin=account.role == "admin"))


@router.post("/api/console/handoffs/{reference}/messages")
async def reply(
    reference: str, body: Text, request: Request, session: CheckedSessionDep, service: ServiceDep
) -> dict[str, Any]:
    text = body.text.strip()
    if not text:
        raise InvalidHandoff("the message is empty")
    account = session.account
    message = await service.agent_reply(reference, account.username, account.display_name, text)
    request.app.state.notifier.notify()
    return message.as_dict()


@router.post("/api/console/handoffs/{reference}/notes")
async def add_note(
    reference: str, body: Text, request: Request, session: CheckedSessionDep, service: ServiceDep
) -> dict[str, Any]:
    note = service.store.add_note(reference, session.account.username, body.text.strip())
    request.app.state.notifier.notify()
    return note.as_dict()


@router.get("/api/console/handoffs/{reference}/transcript")
async def console_transcript(reference: str, session: SessionDep, service: ServiceDep) -> JSONResponse:
    """Agents get the conversation as it was; admins get it with personal data masked."""
    document = transcript.export(service.store, reference, redacted=session.account.role != "agent")
    headers = {"Content-Disposition": f'attachment; filename="transcript-{reference}.json"'}
    return JSONResponse(document, headers=headers)


@router.get("/api/console/events")
async def events(
    request: Request, session: SessionDep, service: ServiceDep, accounts: AccountsDep
) -> StreamingResponse:
    """Server-Sent Events: every queue change and message, from the event log, in order."""
    last_id = resume_from(request.headers.get("last-event-id", "")) or service.store.last_event_id()
    token = request.cookies.get(SESSION_COOKIE, "")
    stream = _event_stream(request, service, accounts, token, last_id)
    return StreamingResponse(stream, media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def resume_from(last_event_id: str) -> int | None:
    """The event id a reconnecting browser saw last, if it sent a sane one."""
    return int(last_event_id) if _EVENT_ID.fullmatch(last_event_id) else None


async def _event_stream(request: Request, service: ServiceDep, accounts: AccountsDep, token: str,
                        last_id: int) -> AsyncIterator[str]:
    notifier = request.app.state.notifier
    loop = asyncio.get_running_loop()
    checked_at = sent_at = loop.time()
    yield "retry: 2000\n\n"
    with notifier.subscribe() as woken:
        while not await request.is_disconnected():
            for event in await run_in_threadpool(service.store.events_after, last_id):
                last_id, sent_at = event.id, loop.time()
                yield f"id: {event.id}\nevent: {event.kind}\ndata: {json.dumps(event.data, default=str)}\n\n"
            if loop.time() - checked_at > SESSION_RECHECK_SECONDS:
                checked_at = loop.time()
                try:
                    accounts.session(token)
                except NotAuthenticated:
                    yield "event: logout\ndata: {}\n\n"
                    return
            await notifier.wait(woken, timeout=1.0)  # woken by a change here; the timeout finds other instances
            if loop.time() - sent_at > KEEPALIVE_SECONDS:
                sent_at = loop.time()
                yield ": keep-alive\n\n"


# Accounts (admin) -----------------------------------------------------------------------------

@router.get("/api/admin/accounts")
async def list_accounts(session: SessionDep, accounts: AccountsDep) -> dict[str, Any]:
    if session.account.role != "admin":
        raise NotAllowed("only an admin can see accounts")
    return {"accounts": [a.as_dict() for a in accounts.list()]}


@router.post("/api/admin/accounts", status_code=201)
async def create_account(body: NewAccount, session: AdminSessionDep, accounts: AccountsDep) -> dict[str, Any]:
    created = accounts.create(body.username, body.password, body.role, body.display_name, body.team)
    return created.as_dict()

