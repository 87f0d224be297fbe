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
