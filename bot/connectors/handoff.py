"""The Rasa server's side of the handoff: silence while a person talks, and the relay.

While a conversation is paused (``ConversationPaused``, returned by the handoff
action) the bot says nothing. The channels' turn guard (bot/connectors/safety_net.py)
calls ``take_if_paused`` first: a paused conversation's message is recorded in the
tracker and passed to the handoff service without NLU or policies (it is for the
agent). The ``HandoffInput`` channel is how the handoff service reaches back:

    POST /webhooks/handoff/message   an agent's reply, sent on the citizen's channel
    POST /webhooks/handoff/notify    a ``utter_handoff_*`` or ``utter_request_status_*`` response in the
                                     citizen's language (the latter from open311/watcher.py)
    POST /webhooks/handoff/resume    the agent resolved: the bot takes over again
    GET  /webhooks/handoff/messages  the citizen's messages since the pause (to import missed ones)

All need ``Authorization: Bearer <CITYBOT_HANDOFF_TOKEN>``. The three POSTs hold
the conversation's lock while they change the tracker; ``message`` (by its
message id) and ``resume`` are idempotent, ``notify`` is not.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Restarted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff.client import HandoffClient
from handoff.errors import HandoffError, HandoffNotFound
from handoff.settings import get_client_settings
from triage import default_config, detect_emergency
from triage.errors import TriageError

logger = logging.getLogger(__name__)

MAX_AGENT_TEXT = 5000
MAX_RELAYED_TEXT = 5000
LOCK_WAIT_SECONDS = 0.05
# Notices the service may send: about the handoff, and status changes of a citizen's requests (open311/watcher.py).
NOTICE_PREFIXES = ("utter_handoff_", "utter_request_status_")
# Commands that would end the pause in Rasa: during a handoff they are passed to the agent instead.
STARTING_OVER = ("/restart", "/session_start")
RELAY_DELAYED = "utter_handoff_relay_delayed"


def paused_since(tracker: DialogueStateTracker) -> float | None:
    """When the current pause began (a timestamp), or None if the bot has the conversation."""
    if not tracker.is_paused():
        return None
    for event in reversed(tracker.events):
        if isinstance(event, ConversationPaused):
            return float(event.timestamp)
    return None


def citizen_messages_since_pause(tracker: DialogueStateTracker) -> list[dict[str, Any]]:
    since = paused_since(tracker)
    if since is None:
        return []
    return [_message_payload(e) for e in tracker.events if isinstance(e, UserUttered) and e.timestamp >= since]


def _message_payload(event: UserUttered) -> dict[str, Any]:
    parse = event.parse_data or {}
    detection = parse.get("language_detection") or {}
    return {
        "message_id": event.message_id or f"ts-{event.timestamp}",
        "text": event.text or "",
        "timestamp": datetime.fromtimestamp(event.timestamp, timezone.utc).isoformat(),
        "language": detection.get("language"),
        "intent": (event.intent or {}).get("name"),
    }


async def take_if_paused(agent: Any, message: UserMessage, output: OutputChannel) -> bool:
    """If a person has the conversation, record the message (no NLU, no policies) and relay it.

    This runs before Rasa handles the message, so a message meant for the agent
    costs a tracker read and write instead of a full NLU pass (and every other
    message one extra tracker read). Button payloads and commands still go to
    Rasa, which stays silent, except "/restart" and, once Rasa's session has
    expired, everything: both would end the pause. False: the bot has the conversation.
    """
    text = message.text or ""
    command = text.startswith("/") and not text.startswith(STARTING_OVER)
    async with agent.lock_store.lock(message.sender_id, wait_time_in_seconds=LOCK_WAIT_SECONDS):
        tracker = await agent.tracker_store.retrieve(message.sender_id)
        if tracker is None or paused_since(tracker) is None:
            return False
        if command and not session_expired(agent, tracker):
            return False  # buttons and commands (a language change) go through Rasa, silently
        # (After a long handoff Rasa would start a new session, which ends the pause: not that.)
        event = UserUttered(text, intent={}, parse_data={"text": text, "intent": {}, "entities": []},
                            input_channel=message.input_channel, message_id=message.message_id,
                            metadata=message.metadata)
        tracker.update(event)
        await agent.tracker_store.save(tracker)
    await warn_if_emergency(agent, message.sender_id, text, output)  # before the relay, which may be slow
    await _relay(agent, tracker, event, output)
    return True


async def warn_if_emergency(agent: Any, sender_id: str, text: str, output: OutputChannel) -> bool:
    """If the message describes an emergency, send the number and advice (in the conversation's language).

    For messages no bot action answers: one written to an agent (who may not be reading
    yet; the handoff service, seeing the same words, moves it to the top of the queue),
    or a turn that failed. Rules only (triage.yml). True when the advice was sent.
    """
    try:
        emergency = detect_emergency(text)
        config = default_config()
    except (TriageError, OSError):
        logger.error("the triage rules cannot be read; a message is not triaged", exc_info=True)
        return False
    if emergency is None:
        return False
    return await say_response(agent, sender_id, output, f"utter_emergency_{emergency.kind}",
                              {"emergency_number": config.emergency_number, "crisis_line": config.crisis_line})


async def say_response(agent: Any, sender_id: str, output: OutputChannel, response_name: str,
                       values: dict[str, Any] | None = None) -> bool:
    """Send a response outside a Rasa turn, in the conversation's language, and record it in the conversation.

    A conversation not yet started is not created (Rasa starts its session with the
    first message): the response goes out in the default language, unrecorded.
    """
    async with agent.lock_store.lock(sender_id, wait_time_in_seconds=LOCK_WAIT_SECONDS):
        tracker = await agent.tracker_store.retrieve(sender_id)
        if tracker is None:
            tracker = DialogueStateTracker(sender_id, agent.domain.slots)
            return await _say(agent, tracker, output, response_name, values or {})
        delivered = await _say(agent, tracker, output, response_name, values or {})
        await agent.tracker_store.save(tracker)
    return delivered


def session_expired(agent: Any, tracker: DialogueStateTracker) -> bool:
    """Whether Rasa would start a new session with the next message: its processor's own rule."""
    return bool(agent.processor._has_session_expired(tracker))


async def relay_citizen_message(agent: Any, message: UserMessage, output: OutputChannel) -> bool:
    """After Rasa handled a message in silence: relay it if it arrived while paused (else False).

    This catches a message that arrived while the turn that paused the
    conversation was still running, so ``take_if_paused`` had not seen the pause.
    Whether it was meant for the agent is read from where it sits in the tracker,
    not from the state now (the agent may have handed back since).
    """
    tracker = await agent.tracker_store.retrieve(message.sender_id)
    if tracker is None:
        return False
    paused = False
    for event in tracker.events:
        if isinstance(event, ConversationPaused):
            paused = True
        elif isinstance(event, (ConversationResumed, Restarted)):
            paused = False
        elif isinstance(event, UserUttered) and event.message_id == message.message_id:
            if paused:
                await warn_if_emergency(agent, message.sender_id, event.text or "", output)
                await _relay(agent, tracker, event, output)
            return paused
    return False


async def _relay(agent: Any, tracker: DialogueStateTracker, event: UserUttered, output: OutputChannel) -> None:
    """Post the message to the handoff service; if it cannot be reached, tell the citizen once.

    The message is in the tracker either way: the service imports it when it is back.
    """
    payload = _message_payload(event)
    if not payload["text"].strip():
        return
    try:
        await relay_client().post_citizen_message(
            tracker.sender_id, payload["message_id"], payload["text"][:MAX_RELAYED_TEXT],
            datetime.fromtimestamp(event.timestamp, timezone.utc), payload["language"], payload["intent"],
        )
    except HandoffNotFound:
        logger.info("conversation %s is paused but its handoff is not queued yet", tracker.sender_id)
    except HandoffError:
        logger.warning("could not relay a message of %s to the handoff service", tracker.sender_id, exc_info=True)
        latest = tracker.latest_bot_utterance
        if latest is None or (latest.metadata or {}).get("utter_action") != RELAY_DELAYED:
            async with agent.lock_store.lock(tracker.sender_id, wait_time_in_seconds=LOCK_WAIT_SECONDS):
                current = await agent.tracker_store.retrieve(tracker.sender_id) or tracker
                await _say(agent, current, output, RELAY_DELAYED, {})
                await agent.tracker_store.save(current)


@lru_cache(maxsize=1)
def relay_client() -> HandoffClient:
    """One client (and its connection pool) for the Rasa server's event loop."""
    return HandoffClient()


async def _say(agent: Any, tracker: DialogueStateTracker, output: OutputChannel | None, response_name: str,
               values: dict[str, Any], record_action: bool = False) -> bool:
    """Render a response in the conversation's language, record it, and push it if a channel can."""
    channel_name = output.name() if output is not None else "handoff"
    rendered = await agent.nlg.generate(response_name, tracker, channel_name, **values)
    if rendered is None:
        raise ValueError(f"no response named {response_name}")
    bot = BotUttered(rendered.get("text"), data={k: v for k, v in rendered.items() if k != "text"},
                     metadata={"utter_action": response_name, "handoff": True})
    if record_action:
        tracker.update(ActionExecuted(response_name))
    tracker.update(bot)
    if output is None:
        return False
    await output.send_response(tracker.sender_id, bot.message())
    return True


def _output_for(request: Request, tracker: DialogueStateTracker) -> OutputChannel | None:
    """The output of the channel the citizen last wrote on, if it can push (REST cannot)."""
    latest = tracker.get_latest_input_channel()
    for channel in getattr(request.app.ctx, "input_channels", []):
        if channel.name() == latest:
            try:
                return channel.get_output_channel()  # type: ignore[no-any-return]
            except Exception:  # a channel that cannot build one outside a request
                logger.warning("channel %s cannot send outside a request", latest, exc_info=True)
                return None
    return None


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json
    except Exception:
        return {}
    return body if isinstance(body, dict) else {}


def _text_field(body: dict[str, Any], name: str, limit: int) -> str | None:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        return None
    return value


class HandoffInput(InputChannel):
    """Routes the handoff service calls on the Rasa server (see the module docstring)."""

    def __init__(self, token: str) -> None:
        self.token = token

    @classmethod
    def name(cls) -> str:
        return "handoff"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(get_client_settings().token)

    def _authorised(self, request: Request) -> bool:
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        return bool(self.token) and scheme.lower() == "bearer" and hmac.compare_digest(
            token.encode(), self.token.encode()
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("handoff_webhook", __name__)

        async def with_tracker(
            request: Request, change: Callable[[Any, DialogueStateTracker, dict[str, Any]], Awaitable[HTTPResponse]]
        ) -> HTTPResponse:
            if not self._authorised(request):
                return response.json({"detail": "a valid handoff token is required"}, status=401)
            body = _body(request)
            conversation_id = _text_field(body, "conversation_id", 128)
            if conversation_id is None:
                return response.json({"detail": "'conversation_id' is required"}, status=400)
            agent = request.app.ctx.agent
            async with agent.lock_store.lock(conversation_id, wait_time_in_seconds=LOCK_WAIT_SECONDS):
                tracker = await agent.tracker_store.retrieve(conversation_id)
                if tracker is None or not tracker.events:
                    return response.json({"detail": f"no conversation {conversation_id}"}, status=404)
                return await change(agent, tracker, body)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/message", methods=["POST"])
        async def agent_message(request: Request) -> HTTPResponse:
            async def change(agent: Any, tracker: DialogueStateTracker, body: dict[str, Any]) -> HTTPResponse:
                text = _text_field(body, "text", MAX_AGENT_TEXT)
                message_id = _text_field(body, "message_id", 128)
                if text is None or message_id is None:
                    return response.json({"detail": "'text' and 'message_id' are required"}, status=400)
                if paused_since(tracker) is None:
                    return response.json({"detail": "the bot has this conversation again"}, status=409)
                if any(isinstance(e, BotUttered) and (e.metadata or {}).get("handoff_message_id") == message_id
                       for e in tracker.events):
                    return response.json({"delivered": True, "repeated": True})
                agent_name = str(body.get("agent") or "")[:64]
                output = _output_for(request, tracker)
                rendered = await agent.nlg.generate("utter_handoff_agent_message", tracker,
                                                    output.name() if output else "handoff",
                                                    agent_name=agent_name or "—")
                # The agent's words are appended, never interpolated: "{" or "0[" in them stay as typed.
                label = (rendered or {}).get("text") or ""
                bot = BotUttered(f"{label} {text}" if label else text, metadata={
                    "utter_action": "utter_handoff_agent_message", "handoff": True,
                    "handoff_message_id": message_id, "agent": agent_name,
                })
                tracker.update(bot)
                await agent.tracker_store.save(tracker)
                if output is not None:
                    await output.send_response(tracker.sender_id, bot.message())
                return response.json({"delivered": output is not None})

            return await with_tracker(request, change)

        @webhook.route("/notify", methods=["POST"])
        async def notify(request: Request) -> HTTPResponse:
            async def change(agent: Any, tracker: DialogueStateTracker, body: dict[str, Any]) -> HTTPResponse:
                name = _text_field(body, "response", 64)
                given = body.get("values")
                values: dict[str, Any] = given if isinstance(given, dict) else {}
                if name is None or not name.startswith(NOTICE_PREFIXES):
                    return response.json({"detail": "'response' must name a utter_handoff_* or "
                                                    "utter_request_status_* response"}, status=400)
                try:
                    delivered = await _say(agent, tracker, _output_for(request, tracker), name, values)
                except ValueError as exc:
                    return response.json({"detail": str(exc)}, status=400)
                await agent.tracker_store.save(tracker)
                return response.json({"delivered": delivered})

            return await with_tracker(request, change)

        @webhook.route("/resume", methods=["POST"])
        async def resume(request: Request) -> HTTPResponse:
            async def change(agent: Any, tracker: DialogueStateTracker, body: dict[str, Any]) -> HTTPResponse:
                if paused_since(tracker) is None:
                    return response.json({"resumed": False})  # already back with the bot
                tracker.update(ConversationResumed())
                delivered = await _say(agent, tracker, _output_for(request, tracker), "utter_handoff_resumed", {},
                                       record_action=True)
                tracker.update(ActionExecuted("action_listen"))
                await agent.tracker_store.save(tracker)
                return response.json({"resumed": True, "delivered": delivered})

            return await with_tracker(request, change)

        @webhook.route("/messages", methods=["GET"])
        async def messages(request: Request) -> HTTPResponse:
            if not self._authorised(request):
                return response.json({"detail": "a valid handoff token is required"}, status=401)
            conversation_id = request.args.get("conversation_id", "")
            if not conversation_id or len(conversation_id) > 128:
                return response.json({"detail": "'conversation_id' is required"}, status=400)
            tracker = await request.app.ctx.agent.tracker_store.retrieve(conversation_id)
            if tracker is None or not tracker.events:
                return response.json({"detail": f"no conversation {conversation_id}"}, status=404)
            return response.json({"paused": tracker.is_paused(),
                                  "messages": citizen_messages_since_pause(tracker)})

        return webhook
