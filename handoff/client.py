"""The bot's client of the handoff service: post a context packet, relay a citizen's message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from bot.http import LoopClients
from handoff.errors import HandoffUnavailable, error_for
from handoff.packet import ContextPacket
from handoff.settings import ClientSettings, get_client_settings

OUTBOX_HEADER = "X-Handoff-Delivery"


@dataclass(frozen=True)
class Receipt:
    """What the service answered to a packet: the citizen's reference and place in the queue."""

    reference: str
    status: str
    position: int | None
    created: bool


class HandoffClient:
    """Async HTTP client of the handoff service's API (bearer token)."""

    def __init__(
        self, settings: ClientSettings | None = None, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._settings = settings or get_client_settings()
        self._transport = transport
        # One connection pool per event loop: the outbox thread runs a new loop per round.
        self._pool = LoopClients(lambda: httpx.AsyncClient(
            base_url=self._settings.url.rstrip("/"),
            headers={"Authorization": f"Bearer {self._settings.token}"},
            timeout=self._settings.timeout_seconds,
            transport=self._transport,
        ))

    def _client(self) -> httpx.AsyncClient:
        return self._pool.get()

    async def post_packet(self, packet: ContextPacket, idempotency_key: str, from_outbox: bool = False) -> Receipt:
        """Queue the packet; ``from_outbox``: a retry, so the citizen was told it is saved (and is told it arrived)."""
        body = packet.json()
        headers = {"Idempotency-Key": idempotency_key, "Content-Type": "application/json"}
        if from_outbox:
            headers[OUTBOX_HEADER] = "outbox"
        data = await self._request("POST", "/api/handoffs", content=body, headers=headers)
        return Receipt(data["reference"], data["status"], data.get("position"), bool(data.get("created")))

    async def post_citizen_message(self, conversation_id: str, message_id: str, text: str, at: datetime,
                                   language: str | None = None, intent: str | None = None) -> str:
        """Relay a message written while the conversation is with a person; its handoff reference."""
        body = {"message_id": message_id, "text": text, "timestamp": at.isoformat(), "language": language,
                "intent": intent}
        path = f"/api/conversations/{quote(conversation_id, safe='')}/messages"
        data = await self._request("POST", path, json=body)
        return str(data["reference"])

    async def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self._client().request(method, path, **kwargs)
        except (httpx.HTTPError, UnicodeError) as exc:
            raise HandoffUnavailable(f"the handoff service cannot be reached: {exc}") from exc
        error = error_for(response.status_code, response.text[:300], "the handoff service")
        if error is not None:
            raise error
        return response.json()  # type: ignore[no-any-return]
