"""The retrieval package's exceptions: one base class, caught at the edges."""

from __future__ import annotations


class RetrievalError(Exception):
    """Base class of every error raised by the retrieval package."""


class EmbedderNotAvailable(RetrievalError):
    """An embedder's model could not be loaded from its package or path."""
