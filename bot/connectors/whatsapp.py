"""WhatsApp channel over Meta's WhatsApp Cloud API (the Graph API, no Twilio in between).

Meta calls ``/webhooks/whatsapp/webhook``:

- ``GET`` once, when the webhook is registered: ``hub.mode=subscribe``, our
  ``hub.verify_token`` and a ``hub.challenge`` that we echo as plain text;
- ``POST`` for every event, signed with ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the
  raw body with the app secret>``. The signature is checked before the body is parsed. The
  events are ``entry[].changes[].value.messages[]`` (a citizen wrote) and
  ``value.statuses[]`` (delivery and read receipts, ignored).

Meta retries an event until it gets a 200, so a message id already seen gets a 200 and
no second bot turn. The replies go to ``POST {graph_url}/{phone_number_id}/messages``.
Every provider URL comes from the settings; tests stand the Graph API in on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseSettings, SecretStr
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.connectors.media import MAX_BYTES as MAX_PHOTO_BYTES
from bot.connectors.media import MediaError, MediaSettings, keep_photo
from bot.connectors.numbered import NumberedChoices, button_payload, button_title, numbered_list
from bot.connectors.payloads import PHOTO_FAILED, UNREADABLE, location_message, photo_message
from bot.connectors.replays import RecentIds
from bot.connectors.safety_net import SafetyNet, with_safety_net
from bot.connectors.splitting import spans, split_text

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
SENDER_PREFIX = "wa-"
MAX_BODY_BYTES = 1024 * 1024

# Meta's limits for outgoing messages.
TEXT_LIMIT = 4096
INTERACTIVE_BODY_LIMIT = 1024
MAX_REPLY_BUTTONS = 3
REPLY_ID_LIMIT = 256
REPLY_TITLE_LIMIT = 20
MAX_LIST_ROWS = 10
ROW_ID_LIMIT = 200
ROW_TITLE_LIMIT = 24
ROW_DESCRIPTION_LIMIT = 72
LIST_BUTTON_LIMIT = 20

# What a citizen may send that the bot cannot read: it says so. Stickers, reactions, contacts: ignored.
UNREADABLE_KINDS = ("audio", "voice", "video", "document", "unsupported")
_WA_ID = re.compile(r"^[A-Za-z0-9._+-]{1,64}$")


class WhatsAppError(Exception):
    """The WhatsApp channel could not do what was asked (base of this module's errors)."""


class WhatsAppApiError(WhatsAppError):
    """The Graph API refused a call or could not be reached; ``status`` is None when unreachable."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class MalformedWebhook(WhatsAppError):
    """A webhook body that is not shaped like Meta's events."""


class WhatsAppSettings(BaseSettings):
    access_token: SecretStr = SecretStr("")
    app_secret: SecretStr = SecretStr("")
    verify_token: SecretStr = SecretStr("")
    phone_number_id: str = ""
    graph_url: str = "https://graph.facebook.com/v19.0"
    # The label of the button that opens a list of 4 to 10 choices (at most 20 characters).
    list_button: str = "Options"
    timeout_seconds: float = 10.0

    class Config:
        env_prefix = "CITYBOT_WHATSAPP_"
        env_file = str(ROOT / ".env")
        extra = "ignore"

    def missing(self) -> list[str]:
        """The env vars still needed before the channel can work."""
        values = {"access_token": self.access_token.get_secret_value(),
                  "app_secret": self.app_secret.get_secret_value(),
                  "verify_token": self.verify_token.get_secret_value(),
                  "phone_number_id": self.phone_number_id}
        return [f"CITYBOT_WHATSAPP_{name.upper()}" for name, value in values.items() if not value.strip()]


# --- incoming -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Incoming:
    """One citizen message from a webhook event; ``text`` is what Rasa sees (None: a photo or ignored)."""

    message_id: str
    wa_id: str
    kind: str
    phone_number_id: str | None
    text: str | None = None
    media_id: str | None = None
    caption: str | None = None
    unreadable: bool = False  # a voice note, a video, a document: the citizen is asked to type

    @property
    def ignored(self) -> bool:
        return self.text is None and self.media_id is None and not self.unreadable


def signature_problem(header: str | None, body: bytes, app_secret: str) -> str | None:
    """Why ``X-Hub-Signature-256`` does not sign ``body`` ("missing" or "forged"), or None if it does."""
    if not header:
        return "missing"
    expected = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(header.strip().encode(errors="replace"), expected.encode()):
        return "forged"
    return None


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedWebhook(f"'{where}' must be a list")
    return value


def _dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedWebhook(f"'{where}' must be an object")
    return value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _coordinate(value: Any, bound: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and -bound <= number <= bound else None


def parse_events(payload: Any) -> list[Incoming]:
    """The citizen messages in a webhook body, in order; raises MalformedWebhook for a wrong envelope.

    A message without an id or sender is skipped; kinds the bot does not handle come back
    with ``ignored`` set so the caller can log them.
    """
    body = _dict(payload, "body")
    if body.get("object") != "whatsapp_business_account":
        raise MalformedWebhook("'object' must be 'whatsapp_business_account'")
    found: list[Incoming] = []
    for entry in _list(body.get("entry"), "entry"):
        for change in _list(_dict(entry, "entry[]").get("changes"), "entry[].changes"):
            change = _dict(change, "entry[].changes[]")
            if change.get("field", "messages") != "messages":
                continue
            value = _dict(change.get("value"), "entry[].changes[].value")
            metadata = value.get("metadata")
            phone_number_id = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
            for message in _list(value.get("messages"), "value.messages"):
                incoming = _parse_message(message, str(phone_number_id) if phone_number_id else None)
                if incoming is not None:
                    found.append(incoming)
    return found


def _parse_message(message: Any, phone_number_id: str | None) -> Incoming | None:
    if not isinstance(message, dict):
        logger.info("whatsapp: skipped a message that is not an object")
        return None
    message_id, wa_id, kind = message.get("id"), message.get("from"), message.get("type")
    if not isinstance(message_id, str) or not 0 < len(message_id) <= 256 \
            or not isinstance(wa_id, str) or not _WA_ID.match(wa_id):
        logger.info("whatsapp: skipped a message without a usable id or sender")
        return None
    kind = kind if isinstance(kind, str) else "unknown"
    base = Incoming(message_id, wa_id, kind, phone_number_id)
    content = message.get(kind)
    content = content if isinstance(content, dict) else {}
    if kind == "text":
        return replace(base, text=_text(content.get("body")))
    if kind == "interactive":
        reply = content.get(str(content.get("type")))  # button_reply or list_reply
        if content.get("type") in ("button_reply", "list_reply") and isinstance(reply, dict):
            return replace(base, text=_text(reply.get("id")))
        return base
    if kind == "button":  # a quick-reply button of a template message
        return replace(base, text=_text(content.get("payload")) or _text(content.get("text")))
    if kind == "location":
        latitude = _coordinate(content.get("latitude"), 90)
        longitude = _coordinate(content.get("longitude"), 180)
        if latitude is None or longitude is None:
            return base
        return replace(base, text=location_message(latitude, longitude))
    if kind == "image":
        return replace(base, media_id=_text(content.get("id")), caption=_text(content.get("caption")))
    if kind in UNREADABLE_KINDS:
        return replace(base, unreadable=True)
    return base


# --- the Graph API ----------------------------------------------------------------------------


class GraphApi:
    """The few Graph API calls the channel makes, with the access token."""

    def __init__(self, settings: WhatsAppSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self._transport = transport

    def _client(self) -> httpx.AsyncClient:
        if self.settings.missing():
            raise WhatsAppError("WhatsApp is not configured; set " + ", ".join(self.settings.missing()))
        token = self.settings.access_token.get_secret_value()
        return httpx.AsyncClient(transport=self._transport, timeout=self.settings.timeout_seconds,
                                 headers={"Authorization": f"Bearer {token}"})

    def _url(self, path: str) -> str:
        return f"{self.settings.graph_url.rstrip('/')}/{path}"

    async def send(self, message: dict[str, Any]) -> dict[str, Any]:
        """POST one message object; Meta's answer (``{"messages": [{"id": "wamid..."}]}``)."""
        async with self._client() as client:
            try:
                answer = await client.post(self._url(f"{self.settings.phone_number_id}/messages"), json=message)
            except httpx.HTTPError as exc:
                raise WhatsAppApiError(f"the WhatsApp API could not be reached: {exc!r}") from exc
        _raise_for_error(answer, "sending a message")
        return _json(answer)

    async def download_media(self, media_id: str) -> bytes:
        """A media file's bytes: its URL from ``GET /{media-id}``, then the file."""
        async with self._client() as client:
            try:
                answer = await client.get(self._url(media_id))
                _raise_for_error(answer, "looking up a media file")
                info = _json(answer)
                url, size = info.get("url"), str(info.get("file_size", ""))  # a number, or one in a string
                if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                    raise WhatsAppApiError("the media lookup gave no download URL")
                if size.isdigit() and int(size) > MAX_PHOTO_BYTES:
                    raise WhatsAppError(f"the file is {size} bytes, over the {MAX_PHOTO_BYTES} limit")
                async with client.stream("GET", url, follow_redirects=True) as download:
                    if download.status_code >= 400:
                        await download.aread()
                    _raise_for_error(download, "downloading a media file")
                    content = bytearray()
                    async for chunk in download.aiter_bytes():
                        content.extend(chunk)
                        if len(content) > MAX_PHOTO_BYTES:
                            raise WhatsAppError(f"the file is over the {MAX_PHOTO_BYTES} bytes limit")
            except httpx.HTTPError as exc:
                raise WhatsAppApiError(f"the WhatsApp API could not be reached: {exc!r}") from exc
        return bytes(content)


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError as exc:
        raise WhatsAppApiError("the WhatsApp API answered with something that is not JSON",
                               answer.status_code) from exc
    if not isinstance(body, dict):
        raise WhatsAppApiError("the WhatsApp API answered with an unexpected shape", answer.status_code)
    return body


def _raise_for_error(answer: httpx.Response, doing: str) -> None:
    if answer.status_code < 400:
        return
    detail = ""
    try:
        error = answer.json().get("error", {})
        detail = f": ({error.get('code')}) {error.get('message')}"
    except Exception:  # Meta's error body is a courtesy; the status is what matters
        pass
    raise WhatsAppApiError(f"the WhatsApp API refused {doing} with HTTP {answer.status_code}{detail}",
                           answer.status_code)


# --- outgoing -----------------------------------------------------------------------------------


def shorten(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, cut at a word with "…" when too long."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"


def recipient(sender_id: str) -> str:
    """The WhatsApp id to write to, from our sender id ("wa-15551234567" -> "15551234567")."""
    return sender_id[len(SENDER_PREFIX):] if sender_id.startswith(SENDER_PREFIX) else sender_id


class WhatsAppCloudOutput(OutputChannel):
    """Sends the bot's messages with the Cloud API; a refusal raises WhatsAppApiError."""

    def __init__(self, settings: WhatsAppSettings | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 choices: NumberedChoices | None = None) -> None:
        self.settings = settings or WhatsAppSettings()
        self.api = GraphApi(self.settings, transport)
        self.choices = choices if choices is not None else NumberedChoices()

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    async def _send(self, recipient_id: str, message: dict[str, Any]) -> None:
        await self.api.send({"messaging_product": "whatsapp", "recipient_type": "individual",
                             "to": recipient(recipient_id), **message})

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for piece in split_text(text, TEXT_LIMIT):
            await self._send(recipient_id, {"type": "text", "text": {"body": piece, "preview_url": False}})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        choices = [(button_title(b), button_payload(b)) for b in buttons if isinstance(b, dict) and not b.get("url")]
        native = len(choices) == len(buttons) and text and text.strip()
        action = _native_action(choices, self.settings.list_button) if native else None
        if action is None:
            message, payloads = numbered_list(text or "", buttons)
            await self.send_text_message(recipient_id, message)
            self.choices.remember(recipient_id, payloads)
            return
        start, end = spans(text, INTERACTIVE_BODY_LIMIT)[-1]
        lead = text[:start]
        if lead.strip():  # a body too long for the buttons: its start goes first as text
            await self.send_text_message(recipient_id, lead)
        kind = "button" if "buttons" in action else "list"
        await self._send(recipient_id, {"type": "interactive", "interactive": {
            "type": kind, "body": {"text": text[start:end]}, "action": action}})

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send(recipient_id, {"type": "image", "image": {"link": image}})

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """A WhatsApp message object (``{"type": "...", ...}`` or under a ``whatsapp`` key), sent as is."""
        message = json_message.get("whatsapp", json_message)
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            logger.info("whatsapp: skipped a custom payload that is not a WhatsApp message")
            return
        await self._send(recipient_id, {k: v for k, v in message.items() if k not in ("to", "messaging_product")})


def _native_action(choices: list[tuple[str, str]], list_button: str) -> dict[str, Any] | None:
    """Meta's reply buttons (1-3) or list (4-10) for the choices, or None when they do not fit."""
    payloads = [payload for _, payload in choices]
    if not choices or len(set(payloads)) != len(payloads) or any(not p.strip() for p in payloads):
        return None
    titles = [" ".join(title.split()) for title, _ in choices]
    if len(choices) <= MAX_REPLY_BUTTONS and all(0 < len(t) <= REPLY_TITLE_LIMIT for t in titles):
        if any(len(p) > REPLY_ID_LIMIT for p in payloads) or len(set(titles)) != len(titles):
            return None
        return {"buttons": [{"type": "reply", "reply": {"id": payload, "title": title}}
                            for title, payload in zip(titles, payloads, strict=True)]}
    # A title too long for a reply button would be cut ("Bigger than a car…"): a list row shows it whole.
    if len(choices) > MAX_LIST_ROWS or any(len(p) > ROW_ID_LIMIT for p in payloads):
        return None
    rows = []
    for title, payload in choices:
        row = {"id": payload, "title": shorten(title, ROW_TITLE_LIMIT)}
        if not row["title"]:
            return None
        if row["title"] != " ".join(title.split()):  # cut: the whole title shows underneath
            row["description"] = shorten(title, ROW_DESCRIPTION_LIMIT)
        rows.append(row)
    return {"button": shorten(list_button, LIST_BUTTON_LIMIT) or "Options", "sections": [{"rows": rows}]}


# --- the channel ----------------------------------------------------------------------------------


class WhatsAppCloudInput(InputChannel):
    """``/webhooks/whatsapp/webhook``: Meta's verification handshake (GET) and signed events (POST)."""

    def __init__(self, settings: WhatsAppSettings | None = None, *,
                 transport: httpx.AsyncBaseTransport | None = None,
                 media: MediaSettings | None = None) -> None:
        self.settings = settings or WhatsAppSettings()
        self._transport = transport
        self._media = media
        self._seen = RecentIds()
        self._choices = NumberedChoices()

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Ignores credentials.yml: the settings come from CITYBOT_WHATSAPP_* (environment or .env)."""
        channel = cls()
        if channel.settings.missing():
            logger.warning("whatsapp: not configured, its webhook answers 503 until %s are set",
                           ", ".join(channel.settings.missing()))
        return channel

    def get_output_channel(self) -> OutputChannel:
        return WhatsAppCloudOutput(self.settings, self._transport, self._choices)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        safety_net = with_safety_net(on_new_message)
        webhook = Blueprint("whatsapp_webhook")
        safety_net.attach(webhook)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if not self.settings.missing() else "not configured"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if self.settings.missing():
                return _not_configured()
            token = request.args.get("hub.verify_token") or ""
            challenge = request.args.get("hub.challenge") or ""
            expected = self.settings.verify_token.get_secret_value()
            if request.args.get("hub.mode") == "subscribe" and challenge \
                    and hmac.compare_digest(token.encode(), expected.encode()):
                return response.text(challenge)
            logger.warning("whatsapp: refused a webhook verification with a wrong mode or verify token")
            return response.json({"detail": "verification failed"}, status=403)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if self.settings.missing():
                return _not_configured()
            body = request.body or b""
            if len(body) > MAX_BODY_BYTES:
                logger.warning("whatsapp: refused a %d-byte webhook body", len(body))
                return response.json({"detail": f"the body is over {MAX_BODY_BYTES} bytes"}, status=400)
            problem = signature_problem(request.headers.get("X-Hub-Signature-256"), body,
                                        self.settings.app_secret.get_secret_value())
            if problem is not None:
                logger.warning("whatsapp: refused a webhook call with a %s X-Hub-Signature-256", problem)
                return response.json({"detail": f"{problem} X-Hub-Signature-256"},
                                     status=401 if problem == "missing" else 403)
            try:
                events = parse_events(json.loads(body))
            except ValueError:
                return response.json({"detail": "the body must be JSON"}, status=400)
            except MalformedWebhook as exc:
                return response.json({"detail": str(exc)}, status=400)
            for incoming in events:
                await self._handle(incoming, safety_net)
            return response.json({"status": "ok"})

        return webhook

    async def _handle(self, incoming: Incoming, on_new_message: SafetyNet) -> None:
        if self._seen.seen_before(incoming.message_id):
            logger.info("whatsapp: message %s was already handled; Meta's retry ignored", incoming.message_id)
            return
        if incoming.ignored:
            logger.info("whatsapp: ignored a %s message (%s)", incoming.kind, incoming.message_id)
            return
        if incoming.phone_number_id and incoming.phone_number_id != self.settings.phone_number_id:
            logger.warning("whatsapp: ignored message %s sent to another business number (%s)",
                           incoming.message_id, incoming.phone_number_id)
            return
        sender_id = SENDER_PREFIX + incoming.wa_id
        if incoming.unreadable:
            self._choices.forget(sender_id)
            await on_new_message.say(sender_id, self.get_output_channel(), UNREADABLE)
            return
        texts: list[str] = []
        if incoming.media_id is not None:
            self._choices.forget(sender_id)
            texts.append(await self._photo(incoming.media_id))
            if incoming.caption:
                texts.append(incoming.caption)
        elif incoming.text is not None:
            if incoming.kind == "text":
                texts.append(self._choices.resolve(sender_id, incoming.text))
            else:
                self._choices.forget(sender_id)
                texts.append(incoming.text)
        for text in texts:
            message = UserMessage(text, self.get_output_channel(), sender_id, input_channel=self.name(),
                                  metadata={"provider_message_id": incoming.message_id, "kind": incoming.kind})
            try:
                await on_new_message(message)
            except Exception:  # logged here; Meta still gets its 200, a retry would not help
                logger.exception("whatsapp: the bot failed on message %s", incoming.message_id)

    async def _photo(self, media_id: str) -> str:
        """'/share_photo{"photo_url": ...}' for a photo kept on our side, or the text saying it was lost."""
        try:
            content = await GraphApi(self.settings, self._transport).download_media(media_id)
            url = await asyncio.to_thread(keep_photo, content, self._media)
        except (WhatsAppError, MediaError) as exc:
            logger.warning("whatsapp: photo %s could not be received: %s", media_id, exc)
            return PHOTO_FAILED
        return photo_message(url)


def _not_configured() -> HTTPResponse:
    return response.json({"detail": "whatsapp is not configured"}, status=503)
