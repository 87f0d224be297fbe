"""Telegram: citizens write to the city's Telegram bot; Telegram POSTs each Update to our webhook.

    POST /webhooks/telegram/webhook   one Update, with the secret given at registration in the
                                      ``X-Telegram-Bot-Api-Secret-Token`` header (checked on every POST)

Rasa's own Telegram channel registers the webhook while the server starts, so the
server cannot start offline; this one never calls Telegram at start-up. The webhook
is registered by a command (docs/channels/telegram.md):

    python -m bot.connectors.telegram set-webhook | delete-webhook | webhook-info

What Rasa sees: typed text as typed ("/start" becomes "/greet"; a number answering a
numbered list becomes that choice's payload), a button press as its payload, a shared
location as ``/share_location{"latitude": .., "longitude": ..}``, a photo (downloaded and kept
by bot/connectors/media.py) as ``/share_photo{"photo_url": ".."}`` followed by its caption
(bot/connectors/payloads.py).
A voice note, a video or a document is answered "please type" (payloads.UNREADABLE), without a
turn; everything else (stickers, edits, group chats) is acknowledged and ignored.

The bot token is part of every Bot API URL: it never goes into an exception, a log line
(httpx's request log is filtered) or a stored link.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import logging
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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
from bot.connectors.payloads import PHOTO_FAILED, UNREADABLE, is_place, location_message, photo_message
from bot.connectors.replays import RecentIds
from bot.connectors.safety_net import with_safety_net
from bot.connectors.splitting import split_text, utf16_units

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SENDER_PREFIX = "tg-"
MAX_BODY_BYTES = 1024 * 1024
MAX_TEXT = 4096  # sendMessage, in UTF-16 code units as Telegram counts them
MAX_CALLBACK_DATA = 64  # bytes
MAX_INLINE_BUTTONS = 100
ALLOWED_UPDATES = ["message", "callback_query"]
# What a citizen may send that the bot cannot read: it says so (payloads.UNREADABLE). Stickers and the like are ignored.
UNREADABLE_KINDS = ("voice", "audio", "video", "video_note", "document")
START = "/greet"  # what Telegram's "Start" button (the "/start" command) means to the bot
EMPTY_BUTTON_TEXT = "\N{WHITE DOWN POINTING BACKHAND INDEX}"  # Telegram refuses a keyboard without text
_SECRET_FORMAT = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_FILE_PATH = re.compile(r"^[A-Za-z0-9_./-]{1,256}$")
_METHOD = re.compile(r"^[A-Za-z]{1,64}$")
_TOKEN_IN_URL = re.compile(r"/bot[^/\s\"']+")


class TelegramSettings(BaseSettings):
    token: SecretStr = SecretStr("")  # from @BotFather
    secret_token: SecretStr = SecretStr("")  # 1-256 of A-Z a-z 0-9 _ -; Telegram echoes it in SECRET_HEADER
    api_url: str = "https://api.telegram.org"
    webhook_url: str = ""  # public https URL of POST /webhooks/telegram/webhook, for set-webhook
    timeout_seconds: float = 15.0
    # A city bot collects names, addresses and photos: in a group chat the other members would see them.
    private_chats_only: bool = True

    class Config:
        env_prefix = "CITYBOT_TELEGRAM_"
        env_file = str(ROOT / ".env")
        extra = "ignore"

    @property
    def configured(self) -> bool:
        return bool(self.token.get_secret_value() and self.secret_token.get_secret_value())


class TelegramError(Exception):
    """A Bot API call that failed: not configured, unreachable, refused, or answered ``"ok": false``."""


class MalformedUpdate(ValueError):
    """An Update that is JSON but not shaped as Telegram documents it."""


class _RedactTokens(logging.Filter):
    """httpx logs every request's URL at info level, and a Bot API URL holds the token."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/bot" in message:
            record.msg, record.args = _TOKEN_IN_URL.sub("/bot<token>", message), None
        return True


logging.getLogger("httpx").addFilter(_RedactTokens())


# ---------------------------------------------------------------------------------------------- the Bot API


class TelegramApi:
    """The few Bot API calls the channel and the webhook command make."""

    def __init__(self, settings: TelegramSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.transport = transport

    def _token(self) -> str:
        token = self.settings.token.get_secret_value()
        if not token:
            raise TelegramError("Telegram is not configured: set CITYBOT_TELEGRAM_TOKEN")
        return token

    def _redact(self, text: str) -> str:
        token = self.settings.token.get_secret_value()
        text = text.replace(token, "<token>") if token else text
        return _TOKEN_IN_URL.sub("/bot<token>", text)

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.settings.api_url.rstrip("/"), transport=self.transport,
                                 timeout=self.settings.timeout_seconds)

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Telegram's whole answer (``{"ok": true, "result": ...}``); TelegramError unless it is ok."""
        token = self._token()
        try:
            async with self._client() as client:
                answer = await client.post(f"/bot{token}/{method}", json=params)
        except httpx.HTTPError as exc:  # its message may hold the URL: not chained
            raise TelegramError(f"Telegram {method}: cannot reach {self.settings.api_url} "
                                f"({type(exc).__name__})") from None
        try:
            body = answer.json()
        except ValueError:
            body = None
        if answer.status_code >= 400 or not isinstance(body, dict) or body.get("ok") is not True:
            detail = body.get("description") if isinstance(body, dict) else None
            retry = ((body or {}).get("parameters") or {}).get("retry_after") if isinstance(body, dict) else None
            raise TelegramError(f"Telegram {method} failed: HTTP {answer.status_code}: "
                                f"{self._redact(str(detail or 'no description'))}"
                                + (f" (retry after {retry} s)" if retry else ""))
        return body

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        return (await self.request(method, params)).get("result")

    async def download(self, file_path: str, limit: int) -> bytes:
        """A file named by getFile, at most ``limit`` bytes."""
        token = self._token()
        if not _FILE_PATH.match(file_path) or ".." in file_path or file_path.startswith("/"):
            raise TelegramError("Telegram getFile gave a file path the bot does not follow")
        chunks: list[bytes] = []
        size = 0
        try:
            async with self._client() as client, client.stream("GET", f"/file/bot{token}/{file_path}") as answer:
                if answer.status_code != 200:
                    raise TelegramError(f"Telegram file download failed: HTTP {answer.status_code}")
                declared = answer.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise TelegramError(f"the file is larger than {limit} bytes")
                async for chunk in answer.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise TelegramError(f"the file is larger than {limit} bytes")
                    chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise TelegramError(f"Telegram file download: cannot reach {self.settings.api_url} "
                                f"({type(exc).__name__})") from None
        return b"".join(chunks)


# --------------------------------------------------------------------------------------------------- output


def chat_id(recipient_id: str) -> int | str:
    """Telegram's chat id from our sender id ("tg-123456" or a bare "123456")."""
    raw = recipient_id[len(SENDER_PREFIX):] if recipient_id.startswith(SENDER_PREFIX) else recipient_id
    if re.fullmatch(r"-?\d{1,20}", raw):
        return int(raw)
    raise TelegramError(f"not a Telegram chat: {recipient_id!r}")


def inline_keyboard(buttons: list[dict[str, Any]]) -> list[list[dict[str, str]]] | None:
    """Telegram's inline keyboard, one button a row; None when a payload does not fit callback_data."""
    if not buttons or len(buttons) > MAX_INLINE_BUTTONS:
        return None
    rows: list[list[dict[str, str]]] = []
    for button in buttons:
        title = button_title(button)
        if button.get("url"):
            rows.append([{"text": title, "url": str(button["url"])}])
            continue
        payload = button_payload(button)
        if not payload or len(payload.encode("utf-8")) > MAX_CALLBACK_DATA:
            return None
        rows.append([{"text": title, "callback_data": payload}])
    return rows


class TelegramOutput(OutputChannel):
    """Sends the bot's messages with the Bot API: sendMessage, inline keyboards, sendPhoto."""

    def __init__(self, settings: TelegramSettings | None = None, transport: httpx.AsyncBaseTransport | None = None,
                 choices: NumberedChoices | None = None) -> None:
        self.settings = settings or TelegramSettings()
        self.api = TelegramApi(self.settings, transport)
        self.choices = choices if choices is not None else NumberedChoices()

    @classmethod
    def name(cls) -> str:
        return "telegram"

    async def _send(self, method: str, params: dict[str, Any]) -> None:
        await self.api.call(method, params)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        chat = chat_id(recipient_id)
        for part in split_text(text, MAX_TEXT, utf16_units):
            await self._send("sendMessage", {"chat_id": chat, "text": part})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        chat = chat_id(recipient_id)
        keyboard = inline_keyboard(buttons)
        if keyboard is None:
            message, payloads = numbered_list(text or "", buttons)
            self.choices.remember(str(chat), payloads)
            await self.send_text_message(recipient_id, message)
            return
        self.choices.forget(str(chat))
        parts = split_text(text or "", MAX_TEXT, utf16_units) or [EMPTY_BUTTON_TEXT]
        for part in parts[:-1]:
            await self._send("sendMessage", {"chat_id": chat, "text": part})
        await self._send("sendMessage", {"chat_id": chat, "text": parts[-1],
                                         "reply_markup": {"inline_keyboard": keyboard}})

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send("sendPhoto", {"chat_id": chat_id(recipient_id), "photo": image})

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """A Bot API call of the response's choosing: ``{"method": "sendLocation", "latitude": ..}``.

        Without ``method`` it is sendMessage; ``chat_id`` is always the recipient's.
        """
        params = dict(json_message)
        method = str(params.pop("method", "sendMessage"))
        if not _METHOD.match(method):
            raise TelegramError(f"not a Bot API method: {method!r}")
        params["chat_id"] = chat_id(recipient_id)
        await self._send(method, params)


# ---------------------------------------------------------------------------------------------------- input


@dataclass
class Incoming:
    """What one Update says, checked: a text, a press, a location or a photo from one chat."""

    kind: str  # text | button | location | photo | unreadable | ignored
    chat_id: int
    metadata: dict[str, Any]
    text: str = ""
    file_id: str = ""
    caption: str = ""
    callback_query_id: str = ""


def _get(container: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = container.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise MalformedUpdate(f"'{where}.{key}' is missing or has the wrong type")
    return value


def _optional(container: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    return None if container.get(key) is None else _get(container, key, kind, where)


def _chat(message: dict[str, Any], where: str) -> tuple[int, str]:
    chat = _get(message, "chat", dict, where)
    return _get(chat, "id", int, f"{where}.chat"), str(chat.get("type") or "")


def _best_photo(sizes: list[Any]) -> str:
    """The file_id of the largest size within the cap ('' if none is); Telegram lists several sizes."""
    valid = [s for s in sizes if isinstance(s, dict) and isinstance(s.get("file_id"), str)]
    if not valid:
        raise MalformedUpdate("'message.photo' holds no PhotoSize")

    def number(size: dict[str, Any], key: str) -> int:
        value = size.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    fitting = [s for s in valid if number(s, "file_size") <= MAX_PHOTO_BYTES]
    if not fitting:
        return ""
    best = max(fitting, key=lambda s: (number(s, "width") * number(s, "height"), number(s, "file_size")))
    return str(best["file_id"])


def parse_update(update: Any, private_only: bool = True) -> tuple[int, Incoming | None, str]:
    """The update id, what it says (None: ignored) and, if ignored, why; MalformedUpdate if misshapen."""
    if not isinstance(update, dict):
        raise MalformedUpdate("an Update is a JSON object")
    update_id = _get(update, "update_id", int, "update")
    if "callback_query" in update:
        query = _get(update, "callback_query", dict, "update")
        query_id = _get(query, "id", str, "callback_query")
        data = _optional(query, "data", str, "callback_query")
        message = _optional(query, "message", dict, "callback_query")
        if data is None or message is None:  # a game, or a button under an inline-mode message
            return update_id, Incoming("ignored", 0, {}, callback_query_id=query_id), "callback without data"
        chat, chat_type = _chat(message, "callback_query.message")
        incoming = Incoming("button", chat, {"provider_message_id": query_id,
                                             "message_id": message.get("message_id"), "chat_type": chat_type},
                            text=data, callback_query_id=query_id)
    elif "message" in update:
        message = _get(update, "message", dict, "update")
        chat, chat_type = _chat(message, "message")
        meta = {"provider_message_id": _get(message, "message_id", int, "message"), "chat_type": chat_type}
        found = _message(message, chat, meta)
        if found is None:
            kinds = sorted(k for k in message if k not in {"message_id", "from", "chat", "date"})[:5]
            return update_id, None, f"message of kind {', '.join(kinds) or 'none'}"
        incoming = found
    else:
        kinds = sorted(k for k in update if k != "update_id")[:3]
        return update_id, None, f"update of kind {', '.join(kinds) or 'none'}"
    if private_only and incoming.metadata.get("chat_type") != "private":
        incoming.kind = "ignored"
        return update_id, incoming, f"{incoming.metadata.get('chat_type') or 'unknown'} chat"
    sender = (update["callback_query"] if "callback_query" in update else update["message"]).get("from")
    if isinstance(sender, dict) and isinstance(sender.get("language_code"), str):
        incoming.metadata["language_code"] = sender["language_code"][:16]
    incoming.metadata["update_id"] = update_id
    return update_id, incoming, ""


def _message(message: dict[str, Any], chat: int, meta: dict[str, Any]) -> Incoming | None:
    if "text" in message:
        return Incoming("text", chat, meta, text=_get(message, "text", str, "message"))
    if "location" in message:  # also inside a venue
        location = _get(message, "location", dict, "message")
        latitude = float(_get(location, "latitude", (int, float), "message.location"))
        longitude = float(_get(location, "longitude", (int, float), "message.location"))
        if not is_place(latitude, longitude):
            raise MalformedUpdate("'message.location' is not a place on Earth")
        return Incoming("location", chat, meta, text=location_message(latitude, longitude))
    caption = _optional(message, "caption", str, "message") or ""
    if "photo" in message:
        sizes = _get(message, "photo", list, "message")
        if not sizes:
            raise MalformedUpdate("'message.photo' is empty")
        return Incoming("photo", chat, meta, file_id=_best_photo(sizes), caption=caption)
    document = message.get("document")
    if isinstance(document, dict) and str(document.get("mime_type", "")).startswith("image/"):
        # A photo sent "as a file" (uncompressed): citizens do this to show detail.
        size = document.get("file_size")
        too_big = isinstance(size, int) and size > MAX_PHOTO_BYTES
        return Incoming("photo", chat, meta, file_id="" if too_big else _get(document, "file_id", str,
                                                                              "message.document"), caption=caption)
    if any(kind in message for kind in UNREADABLE_KINDS):
        return Incoming("unreadable", chat, meta)
    return None


class TelegramInput(InputChannel):
    """The Telegram webhook; settings from ``CITYBOT_TELEGRAM_*`` (credentials.yml holds ``{}``)."""

    def __init__(self, settings: TelegramSettings | None = None, transport: httpx.AsyncBaseTransport | None = None,
                 media_settings: MediaSettings | None = None) -> None:
        self.settings = settings or TelegramSettings()
        self.transport = transport
        self.media_settings = media_settings
        self.api = TelegramApi(self.settings, transport)
        self.choices = NumberedChoices()
        self.seen = RecentIds()

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    def get_output_channel(self) -> TelegramOutput | None:
        """The output for pushes outside a request (handoff replies, status notices); None unconfigured."""
        if not self.settings.configured:
            return None
        return TelegramOutput(self.settings, self.transport, self.choices)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        safety_net = with_safety_net(on_new_message)
        webhook = Blueprint("telegram_webhook", __name__)
        safety_net.attach(webhook)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.settings.configured else "not configured"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.settings.configured:
                return response.json({"detail": "telegram is not configured"}, status=503)
            refusal = self._refusal(request)
            if refusal is not None:
                return refusal
            if len(request.body or b"") > MAX_BODY_BYTES:
                return response.json({"detail": f"the body is larger than {MAX_BODY_BYTES} bytes"}, status=400)
            try:
                update_id, incoming, ignored = parse_update(json.loads(request.body or b""),
                                                            self.settings.private_chats_only)
            except (ValueError, UnicodeDecodeError) as exc:  # MalformedUpdate is a ValueError
                detail = str(exc) if isinstance(exc, MalformedUpdate) else "the body must be a JSON Update"
                return response.json({"detail": detail}, status=400)
            if self.seen.seen_before(update_id):
                logger.info("telegram update %s was already received; ignored", update_id)
                return response.json({"status": "duplicate"})
            if incoming is not None and incoming.callback_query_id:
                await self._stop_spinner(incoming.callback_query_id)
            if incoming is None or incoming.kind == "ignored":
                logger.info("telegram update %s ignored: %s", update_id, ignored)
                return response.json({"status": "ignored"})
            output = TelegramOutput(self.settings, self.transport, self.choices)
            sender = f"{SENDER_PREFIX}{incoming.chat_id}"
            try:
                if incoming.kind == "unreadable":
                    self.choices.forget(str(incoming.chat_id))
                    await safety_net.say(sender, output, UNREADABLE)
                for text in await self._texts(incoming):
                    await safety_net(UserMessage(text, output, sender, input_channel=self.name(),
                                                 metadata=dict(incoming.metadata)))
            except Exception:  # Telegram would retry, and the retry is dropped as a duplicate anyway
                logger.exception("telegram update %s could not be handled", update_id)
                return response.json({"status": "failed"})
            return response.json({"status": "ok"})

        return webhook

    def _refusal(self, request: Request) -> HTTPResponse | None:
        given = request.headers.get(SECRET_HEADER)
        if not given:
            logger.warning("telegram webhook: a POST without the secret token header was refused (%s)", request.ip)
            return response.json({"detail": "missing secret token"}, status=401)
        expected = self.settings.secret_token.get_secret_value()
        if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
            logger.warning("telegram webhook: a POST with a wrong secret token was refused (%s)", request.ip)
            return response.json({"detail": "wrong secret token"}, status=403)
        return None

    async def _stop_spinner(self, callback_query_id: str) -> None:
        try:
            await self.api.call("answerCallbackQuery", {"callback_query_id": callback_query_id})
        except TelegramError as exc:  # the press still counts
            logger.warning("could not answer a Telegram button press: %s", exc)

    async def _texts(self, incoming: Incoming) -> list[str]:
        """The messages Rasa gets for one Update, in order."""
        if incoming.kind == "text":
            text = incoming.text
            if text == "/start" or text.startswith("/start "):
                return [START]
            return [self.choices.resolve(str(incoming.chat_id), text)]
        self.choices.forget(str(incoming.chat_id))
        if incoming.kind == "photo":
            texts = [await self._photo(incoming.file_id)]
            return texts + [incoming.caption] if incoming.caption.strip() else texts
        if incoming.kind == "unreadable":
            return []
        return [incoming.text]  # a button's payload, a location's /share_location

    async def _photo(self, file_id: str) -> str:
        """``/share_photo{"photo_url": ...}`` for a kept photo, or the words that let the bot ask again."""
        try:
            if not file_id:
                raise TelegramError(f"the photo is larger than {MAX_PHOTO_BYTES} bytes")
            found = await self.api.call("getFile", {"file_id": file_id})
            if not isinstance(found, dict) or not isinstance(found.get("file_path"), str):
                raise TelegramError("Telegram getFile gave no file path (the file may be over 20 MB)")
            content = await self.api.download(found["file_path"], MAX_PHOTO_BYTES)
            url = keep_photo(content, self.media_settings)
        except (TelegramError, MediaError) as exc:
            logger.warning("a photo from Telegram could not be received: %s", exc)
            return PHOTO_FAILED
        return photo_message(url)


# -------------------------------------------------------------------------------------------------- command


async def _webhook_command(command: str, settings: TelegramSettings,
                           transport: httpx.AsyncBaseTransport | None) -> dict[str, Any]:
    api = TelegramApi(settings, transport)
    if command == "set-webhook":
        secret = settings.secret_token.get_secret_value()
        if not settings.token.get_secret_value():
            raise TelegramError("set CITYBOT_TELEGRAM_TOKEN (the token @BotFather gave)")
        if not _SECRET_FORMAT.match(secret):
            raise TelegramError("set CITYBOT_TELEGRAM_SECRET_TOKEN: 1-256 characters of A-Z, a-z, 0-9, _ and -")
        if not settings.webhook_url.startswith("https://"):
            raise TelegramError("set CITYBOT_TELEGRAM_WEBHOOK_URL to the public https URL of "
                                "/webhooks/telegram/webhook (Telegram only calls https)")
        return await api.request("setWebhook", {"url": settings.webhook_url, "secret_token": secret,
                                                "allowed_updates": ALLOWED_UPDATES, "drop_pending_updates": False})
    if command == "delete-webhook":
        return await api.request("deleteWebhook", {"drop_pending_updates": False})
    return await api.request("getWebhookInfo", {})


def main(argv: list[str] | None = None, settings: TelegramSettings | None = None,
         transport: httpx.AsyncBaseTransport | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.connectors.telegram",
                                     description="Register the bot's Telegram webhook (settings: CITYBOT_TELEGRAM_*).")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("set-webhook", help="point Telegram at CITYBOT_TELEGRAM_WEBHOOK_URL with the secret token")
    commands.add_parser("delete-webhook", help="stop Telegram calling the webhook (pending updates are kept)")
    commands.add_parser("webhook-info", help="what Telegram knows: URL, pending updates, last error")
    args = parser.parse_args(argv)
    try:
        answer = asyncio.run(_webhook_command(args.command, settings or TelegramSettings(), transport))
    except TelegramError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
