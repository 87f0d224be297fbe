"""The handoff service's side of the relay: talking to the Rasa server's handoff channel.

The channel (bot/connectors/handoff.py) sends agent replies and notices to the
citizen on the channel they last used, resumes the bot, and lists the citizen
messages of a paused conversation so that none missed by a push is lost.
"""

from __future__ import annotations

from typing import Any

import httpx

from handoff.errors import HandoffUnavailable, error_for


class RasaRelay:
    """HTTP client of the Rasa server's ``/webhooks/handoff`` routes."""

    def __init__(self, base_url: str, token: str, client: httpx.AsyncClient | None = None,
                 timeout: float = 5.0) -> None:
        self._base = base_url.rstrip("/") + "/webhooks/handoff"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._client = client or httpx.AsyncClient(timeout=timeout)

    async def close(self) -> None:
        await self._client.aclose()

    async def send_agent_message(self, conversation_id: str, message_id: str, text: str, agent_name: str) -> bool:
        """Send an agent's reply; True when a live channel took it (False: recorded, not pushed)."""
        body = {"conversation_id": conversation_id, "message_id": message_id, "text": text, "agent": agent_name}
        return bool((await self._post("/message", body)).get("delivered"))

    async def notify(self, conversation_id: str, response: str, values: dict[str, Any] | None = None) -> None:
        """Tell the citizen something in their language (a ``utter_handoff_*`` response)."""
        await self._post("/notify", {"conversation_id": conversation_id, "response": response, "values": values or {}})

    async def resume(self, conversation_id: str, reference: str) -> None:
        """Hand the conversation back to the bot (idempotent)."""
        await self._post("/resume", {"conversation_id": conversation_id, "reference": reference})

    async def citizen_messages(self, conversation_id: str) -> list[dict[str, Any]]:
        """What the citizen wrote since the conversation was paused."""
        try:
            response = await self._client.get(f"{self._base}/messages", params={"conversation_id": conversation_id},
                                              headers=self._headers)
        except httpx.HTTPError as exc:
            raise HandoffUnavailable(f"the Rasa server cannot be reached: {exc}") from exc
        self._check(response)
        return list(response.json().get("messages", []))

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self._client.post(self._base + path, json=body, headers=self._headers)
        except httpx.HTTPError as exc:
            raise HandoffUnavailable(f"the Rasa server cannot be reached: {exc}") from exc
        self._check(response)
        return response.json()  # type: ignore[no-any-return]

    @staticmethod
    def _check(response: httpx.Response) -> None:
        error = error_for(response.status_code, response.text[:300], "the Rasa server")
        if error is not None:
            raise error
