"""Agent and admin accounts, their passwords (scrypt) and login sessions.

Passwords are hashed with scrypt (n=2**14, r=8, p=1) and a random salt; the
session cookie holds a random token whose SHA-256 is what the database keeps,
so a copy of the database does not let anyone log in. Ten wrong passwords in a
row lock an account for 15 minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from handoff.errors import HandoffUnavailable, InvalidHandoff, NotAuthenticated
from handoff.store import Base, aware, open_tables, utcnow

ROLES = ("agent", "admin")
MIN_PASSWORD_CHARS = 10
MAX_FAILED_LOGINS = 10
LOCKOUT = timedelta(minutes=15)
_USERNAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def _bytes(password: str) -> bytes:
    return password.encode("utf-8", "surrogatepass")  # JSON may carry lone surrogates; never crash on them


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(_bytes(password), salt=salt, dklen=32, **_SCRYPT)
    encode = base64.b64encode
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${encode(salt).decode()}${encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(_bytes(password), salt=base64.b64decode(salt), dklen=len(expected),
                                n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


_DUMMY_HASH = hash_password("not a real password")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class AccountRow(Base):  # type: ignore[valid-type,misc]
    __tablename__ = "handoff_accounts"

    username = sa.Column(sa.String(64), primary_key=True)
    display_name = sa.Column(sa.String(128), nullable=False)
    role = sa.Column(sa.String(16), nullable=False)
    team = sa.Column(sa.String(64), nullable=True)
    password_hash = sa.Column(sa.String(256), nullable=False)
    failed_logins = sa.Column(sa.Integer, nullable=False, default=0)
    locked_until = sa.Column(sa.DateTime(timezone=True), nullable=True)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)


class SessionRow(Base):  # type: ignore[valid-type,misc]
    __tablename__ = "handoff_sessions"

    token_hash = sa.Column(sa.String(64), primary_key=True)
    username = sa.Column(sa.String(64), sa.ForeignKey("handoff_accounts.username"), nullable=False, index=True)
    csrf_token = sa.Column(sa.String(64), nullable=False)
    expires_at = sa.Column(sa.DateTime(timezone=True), nullable=False)


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    role: str
    team: str | None

    def as_dict(self) -> dict[str, str | None]:
        return {"username": self.username, "display_name": self.display_name, "role": self.role, "team": self.team}


@dataclass(frozen=True)
class LoginSession:
    token: str  # only known right after login; empty when read back
    csrf_token: str
    account: Account


class Accounts:
    """Create accounts, check passwords, open and close sessions."""

    def __init__(self, engine: sa.engine.Engine, session_hours: float = 12.0) -> None:
        self._sessions = open_tables(engine, Base)
        self._lifetime = timedelta(hours=session_hours)

    def create(self, username: str, password: str, role: str = "agent", display_name: str | None = None,
               team: str | None = None) -> Account:
        username = username.strip()
        if not _USERNAME.fullmatch(username):
            raise InvalidHandoff("a username is 1-64 letters, digits, '.', '-' or '_'")
        if role not in ROLES:
            raise InvalidHandoff(f"role must be one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD_CHARS:
            raise InvalidHandoff(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
        row = AccountRow(username=username, display_name=(display_name or username).strip()[:128], role=role,
                         team=team, password_hash=hash_password(password), failed_logins=0, created_at=utcnow())
        try:
            with self._sessions.begin() as session:
                session.add(row)
        except IntegrityError as exc:
            raise InvalidHandoff(f"the username {username} is taken") from exc
        except SQLAlchemyError as exc:
            raise HandoffUnavailable(str(exc)) from exc
        return _account(row)

    def list(self) -> list[Account]:
        try:
            with self._sessions() as session:
                rows = session.execute(sa.select(AccountRow).order_by(AccountRow.username)).scalars()
                return [_account(row) for row in rows]
        except SQLAlchemyError as exc:
            raise HandoffUnavailable(str(exc)) from exc

    def login(self, username: str, password: str) -> LoginSession:
        """A new session for the right password; NotAuthenticated otherwise (same message either way)."""
        try:
            with self._sessions.begin() as session:
                row = session.get(AccountRow, username)
                now = utcnow()
                if row is None:
                    verify_password(password, _DUMMY_HASH)  # take as long as a real check
                    raise NotAuthenticated("wrong username or password")
                locked = aware(row.locked_until)
                if locked is not None and locked > now:
                    raise NotAuthenticated("wrong username or password")  # the same words: no hint
                if verify_password(password, row.password_hash):
                    row.failed_logins, row.locked_until = 0, None
                    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
                    session.add(SessionRow(token_hash=_token_hash(token), username=row.username, csrf_token=csrf,
                                           expires_at=now + self._lifetime))
                    return LoginSession(token, csrf, _account(row))
            self._count_failure(username)
            raise NotAuthenticated("wrong username or password")
        except SQLAlchemyError as exc:
            raise HandoffUnavailable(str(exc)) from exc

    def _count_failure(self, username: str) -> None:
        with self._sessions.begin() as session:
            session.execute(sa.update(AccountRow).where(AccountRow.username == username)
                            .values(failed_logins=AccountRow.failed_logins + 1))
            session.execute(sa.update(AccountRow)
                            .where(AccountRow.username == username, AccountRow.failed_logins >= MAX_FAILED_LOGINS)
                            .values(locked_until=utcnow() + LOCKOUT, failed_logins=0))

    def session(self, token: str) -> LoginSession:
        if not token:
            raise NotAuthenticated("not logged in")
        try:
            with self._sessions() as session:
                found = session.get(SessionRow, _token_hash(token))
                if found is None or aware(found.expires_at) <= utcnow():  # type: ignore[operator]
                    raise NotAuthenticated("the session has ended; please log in again")
                account = session.get(AccountRow, found.username)
                if account is None:
                    raise NotAuthenticated("the account no longer exists")
                return LoginSession("", found.csrf_token, _account(account))
        except SQLAlchemyError as exc:
            raise HandoffUnavailable(str(exc)) from exc

    def logout(self, token: str) -> None:
        try:
            with self._sessions.begin() as session:
                session.execute(sa.delete(SessionRow).where(SessionRow.token_hash == _token_hash(token)))
                session.execute(sa.delete(SessionRow).where(SessionRow.expires_at < utcnow()))
        except SQLAlchemyError as exc:
            raise HandoffUnavailable(str(exc)) from exc


def _account(row: AccountRow) -> Account:
    return Account(row.username, row.display_name, row.role, row.team)

