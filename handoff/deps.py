"""FastAPI dependencies of the handoff app: settings, the service, and who is calling."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Request

from handoff.accounts import Accounts, LoginSession
from handoff.errors import NotAllowed, NotAuthenticated
from handoff.service import HandoffService
from handoff.settings import HandoffSettings

SESSION_COOKIE = "citybot_session"
CSRF_HEADER = "X-CSRF-Token"


def get_app_settings(request: Request) -> HandoffSettings:
    """The settings the app was created with (tests create apps with their own)."""
    return request.app.state.settings  # type: ignore[no-any-return]


SettingsDep = Annotated[HandoffSettings, Depends(get_app_settings)]


def get_service(request: Request) -> HandoffService:
    return request.app.state.service  # type: ignore[no-any-return]


def get_accounts(request: Request) -> Accounts:
    return request.app.state.accounts  # type: ignore[no-any-return]


ServiceDep = Annotated[HandoffService, Depends(get_service)]
AccountsDep = Annotated[Accounts, Depends(get_accounts)]


def require_service_token(settings: SettingsDep, authorization: Annotated[str | None, Header()] = None) -> None:
    """The bot's own calls: ``Authorization: Bearer <CITYBOT_HANDOFF_TOKEN>``."""
    scheme, _, token = (authorization or "").partition(" ")
    expected = settings.token.encode()
    if not expected or scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), expected):
        raise NotAuthenticated("a valid service token is required")


def current_session(request: Request, accounts: AccountsDep) -> LoginSession:
    """The logged-in agent or admin (session cookie)."""
    return accounts.session(request.cookies.get(SESSION_COOKIE, ""))


SessionDep = Annotated[LoginSession, Depends(current_session)]


def checked_session(request: Request, session: SessionDep) -> LoginSession:
    """A logged-in caller of a state-changing route, with the page's CSRF token."""
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent or not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
        raise NotAuthenticated("the request did not carry this session's CSRF token; reload the page")
    return session


CheckedSessionDep = Annotated[LoginSession, Depends(checked_session)]


def admin_session(session: CheckedSessionDep) -> LoginSession:
    if session.account.role != "admin":
        raise NotAllowed("only an admin can manage accounts")
    return session


AdminSessionDep = Annotated[LoginSession, Depends(admin_session)]
