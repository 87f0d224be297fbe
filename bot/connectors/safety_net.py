"""Never leave a citizen without an answer, and never answer while a person has the conversation.

When a part behind the Rasa server fails (the action server is down, a form
crashes), Rasa logs the error and the turn ends with no message at all. Our
channels wrap the message handler: a turn that sent nothing gets the
``utter_internal_error`` response from domain.yml, unless the conversation is
paused for a person (bot/connectors/handoff.py): then the silence is wanted and
the message is relayed to the agent instead. A failed turn whose message describes
an emergency gets the emergency number and advice instead of the apology.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, Sanic

from bot.connectors.handoff import relay_citizen_message, say_response, take_if_paused, warn_if_emergency

logger = logging.getLogger(__name__)

DOMAIN = Path(__file__).resolve().parents[2] / "domain.yml"


@lru_cache(maxsize=1)
def _responses() -> dict[str, Any]:
    return yaml.safe_load(DOMAIN.read_text(encoding="utf-8")).get("responses", {})  # type: ignore[no-any-return]


def default_text(response_name: str) -> str:
    """A response's text in the default language, read from domain.yml without Rasa."""
    return str(_responses()[response_name][0]["text"])


def apology() -> str:
    return default_text("utter_internal_error")


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


class SafetyNet:
    """A channel's message handler, wrapped: relay a paused conversation's message, apologise for a silent turn.

    ``attach(blueprint)`` lets it learn the Sanic app (and so Rasa's agent) when
    the server starts. Unattached (unit tests), every silent turn gets the apology.
    """

    def __init__(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        self._handle = on_new_message
        self._app: Sanic | None = None

    def attach(self, blueprint: Blueprint) -> None:
        @blueprint.listener("before_server_start")
        async def remember(app: Sanic, _: Any) -> None:
            self._app = app

    async def __call__(self, message: UserMessage) -> Any:
        agent = self._agent()
        if agent is not None:
            try:
                if await take_if_paused(agent, message, message.output_channel):
                    return None
            except Exception:  # Rasa then handles it (and, paused, stays silent and relays it after)
                logger.exception("could not check whether %s is with a person", message.sender_id)
        counting = CountingOutput(message.output_channel)
        message.output_channel = counting
        try:
            return await self._handle(message)
        finally:
            if counting.sent == 0 and not await self._relayed(message, counting.inner) \
                    and not await self._warned(message, counting.inner):
                logger.error("a turn ended without any answer; sending the apology")
                await counting.inner.send_text_message(message.sender_id, apology())

    async def say(self, sender_id: str, output: OutputChannel, response_name: str) -> None:
        """Answer something the bot cannot read (a voice note, say) without a Rasa turn, in the citizen's language.

        Unattached, or if the conversation cannot be read, the response's first (default language) text.
        """
        agent = self._agent()
        try:
            if agent is not None and await say_response(agent, sender_id, output, response_name):
                return
        except Exception:  # the answer must still go out
            logger.exception("could not answer %s with %s", sender_id, response_name)
        await output.send_text_message(sender_id, default_text(response_name))

    def _agent(self) -> Any:
        agent = getattr(self._app.ctx, "agent", None) if self._app is not None else None
        return agent if agent is not None and agent.tracker_store is not None else None

    async def _relayed(self, message: UserMessage, output: OutputChannel) -> bool:
        agent = self._agent()
        if agent is None:
            return False
        try:
            return await relay_citizen_message(agent, message, output)
        except Exception:  # the apology must still go out
            logger.exception("could not check whether %s is with a person", message.sender_id)
            return False


    async def _warned(self, message: UserMessage, output: OutputChannel) -> bool:
        """A failed turn about an emergency still gets the number and advice, not only an apology."""
        agent = self._agent()
        if agent is None:
            return False
        try:
            return await warn_if_emergency(agent, message.sender_id, message.text or "", output)
        except Exception:  # the apology must still go out
            logger.exception("could not warn %s about an emergency", message.sender_id)
            return False


def with_safety_net(on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> SafetyNet:
    return SafetyNet(on_new_message)
