"""Replays: providers retry a webhook they think we missed; a repeat must not make a second bot turn."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

REMEMBERED = 10_000


class RecentIds:
    """The last ``limit`` provider message or update ids seen (in this process's memory)."""

    def __init__(self, limit: int = REMEMBERED) -> None:
        self.limit = limit
        self._ids: OrderedDict[Hashable, None] = OrderedDict()

    def seen_before(self, message_id: Hashable) -> bool:
        """True if the id was seen before; a new id is remembered (the oldest forgotten beyond the limit)."""
        if message_id in self._ids:
            self._ids.move_to_end(message_id)
            return True
        self._ids[message_id] = None
        if len(self._ids) > self.limit:
            self._ids.popitem(last=False)
        return False
