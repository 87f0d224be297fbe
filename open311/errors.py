"""The open311 package's exceptions: one base class, caught at the edges."""

from __future__ import annotations


class Open311Error(Exception):
    """Base class of every error raised by the open311 package."""


class StoreUnavailable(Open311Error):
    """The service-request database could not be reached or written."""


class UnknownService(Open311Error):
    """A service code that is not in the catalogue."""
