"""The handoff package's exceptions: one base class, mapped to HTTP in handoff/app.py."""

from __future__ import annotations


class HandoffError(Exception):
    """Base class of every error raised by the handoff package."""


class HandoffUnavailable(HandoffError):
    """The handoff store, the handoff service or the Rasa server could not be reached."""


class HandoffNotFound(HandoffError):
    """No such handoff (or no open handoff for the conversation)."""


class HandoffConflict(HandoffError):
    """The handoff is not in a state that allows this (claimed by someone else, resolved...)."""


class InvalidHandoff(HandoffError):
    """A packet, message or request that cannot be accepted as it is."""


class NotAuthenticated(HandoffError):
    """No valid session or token."""


class NotAllowed(HandoffError):
    """Authenticated, but the role does not allow this."""


def error_for(status: int, detail: str, server: str) -> HandoffError | None:
    """The error an HTTP answer of the handoff service or of Rasa's handoff channel stands for."""
    if status < 300:
        return None
    if status == 404:
        return HandoffNotFound(detail)
    if status == 409:  # a concurrent change: worth another try
        return HandoffConflict(detail)
    if status in (400, 413, 422):
        return InvalidHandoff(f"{status}: {detail}")
    return HandoffUnavailable(f"{server} answered {status}: {detail}")
