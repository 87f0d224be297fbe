"""Content files the city edits (service catalogue, triage rules, renewals): re-read when they change."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")
_content: dict[Path, tuple[float, Any]] = {}
_content_lock = threading.Lock()


def load_when_changed(path: Path, load: Callable[[Path], T]) -> T:
    """``load(path)``, reused until the file's modification time changes.

    A file that fails to load keeps the last good version in use (and the error
    is raised only when there is none).
    """
    stamp = path.stat().st_mtime
    with _content_lock:
        cached = _content.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]  # type: ignore[no-any-return]
        try:
            value = load(path)
        except Exception:
            if cached is not None:
                logger.error("could not reload %s; keeping the last good one", path, exc_info=True)
                return cached[1]  # type: ignore[no-any-return]
            raise
        _content[path] = (stamp, value)
        return value
