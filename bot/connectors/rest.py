"""Rasa's REST channel, with its input checked: malformed requests get a 400, not a 500."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint
from sanic.exceptions import InvalidUsage
from sanic.request import Request

from bot.connectors.safety_net import with_safety_net

MAX_SENDER_CHARS = 128


def _payload(request: Request) -> dict[str, Any]:
    try:
        payload = request.json
    except Exception as exc:  # sanic raises on a body that is not JSON
        raise InvalidUsage("The body must be a JSON object.") from exc
    if not isinstance(payload, dict):
        raise InvalidUsage("The body must be a JSON object with 'sender' and 'message'.")
    return payload


class RestInput(RasaRestInput):
    """POST /webhooks/rest/webhook with {"sender": "...", "message": "..."}."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        safety_net = with_safety_net(on_new_message)
        blueprint = super().blueprint(safety_net)
        safety_net.attach(blueprint)
        return blueprint

    async def _extract_sender(self, req: Request) -> str:
        sender = _payload(req).get("sender")
        if not isinstance(sender, (str, int)) or isinstance(sender, bool) or not str(sender).strip():
            raise InvalidUsage("'sender' must be a non-empty string identifying the conversation.")
        if len(str(sender)) > MAX_SENDER_CHARS:
            raise InvalidUsage(f"'sender' must be at most {MAX_SENDER_CHARS} characters.")
        return str(sender)

    def _extract_message(self, req: Request) -> str:
        message = _payload(req).get("message", "")
        if message is None:
            return ""
        if not isinstance(message, str):
            raise InvalidUsage("'message' must be a string.")
        return message

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        metadata = _payload(request).get("metadata")
        return metadata if isinstance(metadata, dict) else None
