"""The handoff package's exceptions: one base class, caught at the edges."""

from __future__ import annotations


class HandoffError(Exception):
    """Base class of every error raised by the handoff package."""


class HandoffUnavailable(HandoffError):
    """The handoff store could not be reached or written."""
