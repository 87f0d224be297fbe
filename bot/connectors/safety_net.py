"""Never leave a citizen without an answer.

When a part behind the Rasa server fails (the action server is down, a form
crashes), Rasa logs the error and the turn ends with no message at all. Our
channels wrap the message handler: a turn that sent nothing gets the
``utter_internal_error`` response from domain.yml.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa.core.channels.channel import OutputChannel, UserMessage

logger = logging.getLogger(__name__)

DOMAIN = Path(__file__).resolve().parents[2] / "domain.yml"


@lru_cache(maxsize=1)
def apology() -> str:
    responses = yaml.safe_load(DOMAIN.read_text(encoding="utf-8")).get("responses", {})
    return str(responses["utter_internal_error"][0]["text"])


class CountingOutput(OutputChannel):
    """Passes everything to the real output channel and counts what was sent."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.sent = 0

    @classmethod
    def name(cls) -> str:
        return "counting"

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.inner, attribute)

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.sent += 1
        await self.inner.send_response(recipient_id, message)


def with_safety_net(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
) -> Callable[[UserMessage], Awaitable[Any]]:
    """Wrap a channel's handler so that a turn without any answer gets an apology."""

    async def handler(message: UserMessage) -> Any:
        counting = CountingOutput(message.output_channel)
        message.output_channel = counting
        try:
            return await on_new_message(message)
        finally:
            if counting.sent == 0:
                logger.error("a turn ended without any answer; sending the apology")
                await counting.inner.send_text_message(message.sender_id, apology())

    return handler
