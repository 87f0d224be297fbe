"""Searching the FAQ from a running service, with the index swapped in when it is rebuilt.

``make faq`` replaces the index on disk (see ``index.py``). Each search first checks,
at most once per ``check_every`` seconds, whether ``manifest.json`` changed; if it did,
the new build is loaded completely and only then replaces the one in use. Searches
running meanwhile keep the index they started with. A build that fails to load, or
was made with another embedder, is logged and ignored: the old index keeps serving.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from retrieval.embedders import Embedder
from retrieval.errors import IndexCorrupt, IndexNotFound, RetrievalError
from retrieval.faq import FaqEntry
from retrieval.index import MANIFEST, FaqIndex, Hit, load_index

logger = logging.getLogger(__name__)

Stamp = tuple[int, int, int]


@dataclass(frozen=True)
class SearchResult:
    """Hits and the index they came from, so answers are read from the same build."""

    hits: list[Hit]
    index: FaqIndex

    def entry(self, hit: Hit) -> FaqEntry:
        return self.index.entries[hit.entry_id]


class FaqSearcher:
    """Question text in, ranked FAQ hits out, always from a whole, current index."""

    def __init__(
        self,
        embedder: Embedder,
        directory: Path,
        check_every: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.embedder = embedder
        self.directory = directory
        self._check_every = check_every
        self._clock = clock
        self._index: FaqIndex | None = None
        self._stamp: Stamp | None = None
        self._checked_at = float("-inf")
        self._reload_lock = threading.Lock()

    def current(self) -> FaqIndex:
        """The index in use, after picking up a new build if one appeared."""
        now = self._clock()
        if now - self._checked_at >= self._check_every or self._index is None:
            self._checked_at = now
            self._reload_if_changed()
        if self._index is None:
            raise IndexNotFound(f"no usable FAQ index in {self.directory} (build it with `make faq`)")
        return self._index

    def search(self, text: str, k: int = 3) -> SearchResult:
        index = self.current()
        vector = self.embedder.embed([text])[0]
        return SearchResult(index.search(vector, k), index)

    def entry(self, entry_id: str) -> FaqEntry | None:
        return self.current().entry(entry_id)

    def _manifest_stamp(self) -> Stamp | None:
        try:
            stat = os.stat(self.directory / MANIFEST)
        except OSError:
            return None
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def _reload_if_changed(self) -> None:
        stamp = self._manifest_stamp()
        if stamp is None or stamp == self._stamp:
            return
        # One thread loads; the others go on with the index in use (or wait for the first one).
        if not self._reload_lock.acquire(blocking=self._index is None):
            return
        try:
            if stamp == self._stamp:
                return
            try:
                fresh = load_index(self.directory)
                self._check_compatible(fresh)
            except RetrievalError:
                logger.error(
                    "could not load the FAQ index in %s; keeping the one in use", self.directory, exc_info=True
                )
                # Do not retry this build; but if another build replaced it meanwhile (its files
                # were pruned while we read), the next check loads that one.
                if self._manifest_stamp() == stamp:
                    self._stamp = stamp
                return
            previous, self._index, self._stamp = self._index, fresh, stamp
        finally:
            self._reload_lock.release()
        logger.info(
            "FAQ index %s loaded: %d entries, %d vectors (%s)%s",
            fresh.manifest.build_key[:12], len(fresh), fresh.manifest.vectors, fresh.manifest.index_type,
            f", replacing {previous.manifest.build_key[:12]}" if previous else "",
        )

    def _check_compatible(self, index: FaqIndex) -> None:
        manifest = index.manifest
        if manifest.embedder != self.embedder.name or manifest.dimension != self.embedder.dimension:
            raise IndexCorrupt(
                f"the index was built with {manifest.embedder} ({manifest.dimension}-d) but this service "
                f"embeds with {self.embedder.name} ({self.embedder.dimension}-d): rebuild with `make faq`"
            )
