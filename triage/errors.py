"""The triage package's exceptions."""

from __future__ import annotations


class TriageError(Exception):
    """Base class of every error raised by the triage package."""


class TriageConfigError(TriageError):
    """The triage configuration file is missing, unreadable or holds a bad rule."""
