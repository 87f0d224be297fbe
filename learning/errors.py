"""Errors of the learning commands: each says what to do, and the command exits 1 with it."""

from __future__ import annotations


class LearningError(Exception):
    """Base of this package's errors."""
