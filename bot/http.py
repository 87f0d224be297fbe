"""HTTP clients shared by the bot's processes: one connection pool per event loop."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable

import httpx


class LoopClients:
    """An ``httpx.AsyncClient`` per running event loop, built on first use by ``make``.

    A client is bound to the loop it was first used on. The Rasa server and rasa-sdk each run
    one loop, background threads their own; building a client costs ~25 ms (TLS certificates),
    so each loop keeps its pool instead of building one per call.
    """

    def __init__(self, make: Callable[[], httpx.AsyncClient]) -> None:
        self._make = make
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )

    def get(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = self._make()
        return client
