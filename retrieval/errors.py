"""The retrieval package's exceptions: one base class, caught at the edges."""

from __future__ import annotations


class RetrievalError(Exception):
    """Base class of every error raised by the retrieval package."""


class EmbedderNotAvailable(RetrievalError):
    """An embedder's model could not be loaded from its package or path."""


class FaqInvalid(RetrievalError):
    """The FAQ files have problems; ``problems`` lists every one (file, entry id, what)."""

    def __init__(self, problems: list) -> None:  # list[FaqProblem]; faq.py imports this module
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s) in the FAQ files: " + "; ".join(map(str, problems[:5])))


class IndexNotFound(RetrievalError):
    """No FAQ index has been built yet (run `make faq`)."""


class IndexCorrupt(RetrievalError):
    """The FAQ index on disk cannot be read or does not match its manifest or embedder."""
