"""WhatsApp through Twilio: the webhook Twilio posts citizens' messages to, and replies over Twilio's REST API.

    POST /webhooks/twilio_whatsapp/webhook   Twilio's incoming-message webhook (form-encoded)

Every POST must carry a valid ``X-Twilio-Signature``: base64 of HMAC-SHA1, keyed
with the auth token, over the public webhook URL (``CITYBOT_TWILIO_WEBHOOK_URL``,
exactly as configured at Twilio: a proxy in front of the bot changes the URL the
bot sees) followed by every POST parameter's name and value, sorted by name.
Twilio repeats a message it could not deliver, so the last message ids are
remembered and a repeat is acknowledged without a second bot turn.

Twilio wants a 200 with TwiML; the bot answers ``<Response/>`` and sends its replies
through ``POST {api_url}/2010-04-01/Accounts/{sid}/Messages.json`` instead, so a turn
may send several messages, images among them. WhatsApp buttons through Twilio need
content templates approved in advance, so buttons are sent as a numbered list and a
number typed back is turned into the button's payload (remembered per citizen, in
memory, for the next message only).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx
from pydantic import BaseSettings, SecretStr, validator
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.connectors.media import MAX_BYTES as MAX_PHOTO_BYTES
from bot.connectors.media import MediaError, MediaSettings, keep_photo
from bot.connectors.numbered import NumberedChoices, numbered_list
from bot.connectors.payloads import PHOTO_FAILED, UNREADABLE, is_place, location_message, photo_message
from bot.connectors.replays import RecentIds
from bot.connectors.safety_net import SafetyNet, with_safety_net
from bot.connectors.splitting import split_text

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
CHANNEL = "twilio_whatsapp"
SENDER_PREFIX = "tw-"
WHATSAPP = "whatsapp:"
MAX_BODY_BYTES = 1024 * 1024
MAX_FIELDS = 200
MAX_TEXT_CHARS = 1600  # Twilio's limit for one message's Body
EMPTY_TWIML = "<Response/>"
_PHONE = re.compile(r"^\+?[0-9]{5,20}$")


class TwilioError(Exception):
    """Base of this channel's errors."""


class TwilioNotConfigured(TwilioError):
    """The account SID, auth token, sender number or webhook URL is missing."""


class TwilioApiError(TwilioError):
    """Twilio refused a request or could not be reached: the message was not sent (or the photo not fetched)."""

    def __init__(self, message: str, status: int | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class TwilioSettings(BaseSettings):
    account_sid: str = ""
    auth_token: SecretStr = SecretStr("")
    # Our WhatsApp sender, as Twilio writes it: "whatsapp:+14155238886".
    whatsapp_number: str = ""
    api_url: str = "https://api.twilio.com"
    # The exact public URL Twilio posts to (the signature is computed over it).
    webhook_url: str = ""
    timeout_seconds: float = 10.0

    class Config:
        env_prefix = "CITYBOT_TWILIO_"
        env_file = str(ROOT / ".env")
        extra = "ignore"

    @validator("whatsapp_number")
    def _whatsapp_address(cls, value: str) -> str:
        value = value.strip()
        return WHATSAPP + value if value and not value.startswith(WHATSAPP) else value

    @property
    def configured(self) -> bool:
        return all((self.account_sid, self.auth_token.get_secret_value(), self.whatsapp_number, self.webhook_url))

    @property
    def messages_url(self) -> str:
        return f"{self.api_url.rstrip('/')}/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    def auth(self) -> tuple[str, str]:
        return self.account_sid, self.auth_token.get_secret_value()


def twilio_signature(url: str, params: Mapping[str, Iterable[str]], auth_token: str) -> str:
    """X-Twilio-Signature for a form POST to ``url`` (Twilio's documented algorithm, as its SDKs compute it)."""
    signed = url + "".join(name + value for name in sorted(params) for value in sorted(set(params[name])))
    digest = hmac.new(auth_token.encode("utf-8"), signed.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _with_and_without_port(url: str) -> list[str]:
    """Twilio signs the URL as configured; its SDKs accept it with or without the default port, so do we."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host, _, port = parts.netloc.partition(":")
    if default is None or "@" in parts.netloc or "[" in parts.netloc or port not in ("", str(default)):
        return [url]
    other = host if port else f"{host}:{default}"
    return [url, urlunsplit(parts._replace(netloc=other))]


def signature_is_valid(url: str, params: Mapping[str, Iterable[str]], auth_token: str, signature: str) -> bool:
    given = signature.encode("utf-8")
    return any(hmac.compare_digest(twilio_signature(u, params, auth_token).encode("ascii"), given)
               for u in _with_and_without_port(url))


def whatsapp_address(recipient_id: str) -> str:
    """Twilio's "whatsapp:+1..." address for our sender id "tw-+1..." (or an address already)."""
    if recipient_id.startswith(SENDER_PREFIX):
        return WHATSAPP + recipient_id[len(SENDER_PREFIX):]
    if recipient_id.startswith(WHATSAPP):
        return recipient_id
    raise TwilioError("the recipient is not a twilio_whatsapp conversation (sender ids start with 'tw-')")


def _form_value(value: Any) -> str | list[str]:
    if isinstance(value, list):
        return [v if isinstance(v, str) else json.dumps(v) for v in value]
    return value if isinstance(value, str) else json.dumps(value)


class TwilioWhatsAppOutput(OutputChannel):
    """Sends the bot's messages with Twilio's Messages API."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def __init__(self, settings: TwilioSettings, choices: NumberedChoices | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        if not settings.configured:
            raise TwilioNotConfigured(f"{CHANNEL} is not configured")
        self.settings = settings
        self.choices = choices or NumberedChoices()
        self._transport = transport

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for piece in split_text(text, MAX_TEXT_CHARS):
            await self._send(recipient_id, {"Body": piece})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        # Native WhatsApp buttons need a content template approved in advance (send_custom_json with a ContentSid).
        message, payloads = numbered_list(text or "", buttons)
        if payloads:
            self.choices.remember(recipient_id, payloads)
        await self.send_text_message(recipient_id, message)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send(recipient_id, {"MediaUrl": image})

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """Twilio message parameters as given (e.g. ``ContentSid`` and ``ContentVariables`` for a template)."""
        fields = {str(k): _form_value(v) for k, v in json_message.items() if k not in ("To", "to")}
        await self._send(recipient_id, fields)

    async def _send(self, recipient_id: str, fields: dict[str, Any]) -> None:
        data = {"To": whatsapp_address(recipient_id), "From": self.settings.whatsapp_number, **fields}
        if "MessagingServiceSid" in fields:
            data.pop("From")
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=self.settings.timeout_seconds) as http:
                answer = await http.post(self.settings.messages_url, data=data, auth=self.settings.auth())
        except httpx.HTTPError as exc:
            raise TwilioApiError(f"Twilio could not be reached ({type(exc).__name__})") from exc
        if answer.status_code >= 300:
            raise _api_error("Twilio refused the message", answer)


def _api_error(what: str, answer: httpx.Response) -> TwilioApiError:
    """Twilio's error code and its documentation link, not its message (which may quote a phone number)."""
    try:
        body = answer.json()
    except ValueError:
        body = {}
    code = body.get("code") if isinstance(body, dict) else None
    link = body.get("more_info") if isinstance(body, dict) else None
    detail = f"HTTP {answer.status_code}" + (f", error {code}" if code else "") + (f" ({link})" if link else "")
    return TwilioApiError(f"{what}: {detail}", status=answer.status_code,
                          code=code if isinstance(code, int) else None)


def _twiml() -> HTTPResponse:
    return response.text(EMPTY_TWIML, content_type="text/xml")


def _detail(text: str, status: int) -> HTTPResponse:
    return response.json({"detail": text}, status=status)


def _form(request: Request) -> dict[str, list[str]] | None:
    """The POST parameters, blank ones kept (they are signed too); None if the body is not such a form."""
    if not (request.content_type or "").startswith("application/x-www-form-urlencoded"):
        return None
    try:
        pairs = parse_qsl(request.body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(request.body),
                          max_num_fields=MAX_FIELDS)
    except ValueError:  # not UTF-8, not name=value pairs, or too many fields
        return None
    params: dict[str, list[str]] = {}
    for name, value in pairs:
        params.setdefault(name, []).append(value)
    return params


def _unreadable(fields: dict[str, str]) -> bool:
    """A voice note, a video or a document (not a sticker): the citizen is asked to type."""
    return fields.get("NumMedia", "0") not in ("", "0") and fields.get("MessageType") != "sticker" \
        and not fields.get("MediaContentType0", "").startswith("image/")


def _location(fields: dict[str, str]) -> str | None:
    try:
        latitude, longitude = float(fields["Latitude"]), float(fields["Longitude"])
    except (KeyError, ValueError):
        return None
    return location_message(latitude, longitude) if is_place(latitude, longitude) else None


class TwilioWhatsAppInput(InputChannel):
    """Twilio's WhatsApp webhook; settings from ``CITYBOT_TWILIO_*`` (see docs/channels/whatsapp-twilio.md)."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()  # settings come from the environment, not credentials.yml

    def __init__(self, settings: TwilioSettings | None = None, transport: httpx.AsyncBaseTransport | None = None,
                 media_settings: MediaSettings | None = None) -> None:
        self.settings = settings or TwilioSettings()
        self._transport = transport
        self._media_settings = media_settings
        self._recent = RecentIds()
        self._choices = NumberedChoices()

    def get_output_channel(self) -> TwilioWhatsAppOutput:
        return TwilioWhatsAppOutput(self.settings, self._choices, self._transport)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        safety_net = with_safety_net(on_new_message)
        webhook = Blueprint("twilio_whatsapp_webhook", __name__)
        safety_net.attach(webhook)
        if not self.settings.configured:
            logger.info("%s is not configured (CITYBOT_TWILIO_*): its webhook answers 503", CHANNEL)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.settings.configured else "not configured"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, safety_net)

        return webhook

    async def _receive(self, request: Request, on_new_message: SafetyNet) -> HTTPResponse:
        if not self.settings.configured:
            return _detail(f"{CHANNEL} is not configured", 503)
        if len(request.body or b"") > MAX_BODY_BYTES:
            return _detail("The body is too large.", 400)
        params = _form(request)
        if params is None:
            return _detail("The body must be an application/x-www-form-urlencoded form.", 400)
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not signature_is_valid(self.settings.webhook_url, params,
                                                   self.settings.auth_token.get_secret_value(), signature):
            logger.warning("refused a %s webhook call with a %s signature from %s", CHANNEL,
                           "bad" if signature else "missing", request.ip)
            return _detail("The request is not signed by Twilio.", 403)

        fields = {name: values[0] for name, values in params.items()}
        message_id, sender = fields.get("MessageSid", ""), fields.get("From", "")
        if "MessageStatus" in fields and "Body" not in fields:
            logger.info("ignored a status callback (%s) for %s", fields["MessageStatus"][:20], message_id[:64])
            return _twiml()
        if not message_id or len(message_id) > 64 or not sender:
            return _detail("'MessageSid' and 'From' are required.", 400)
        if not sender.startswith(WHATSAPP) or not _PHONE.match(sender[len(WHATSAPP):]):
            logger.info("ignored %s: not from a WhatsApp number", message_id)
            return _twiml()
        if self._recent.seen_before(message_id):
            logger.info("ignored %s: already received (a retry)", message_id)
            return _twiml()

        sender_id = SENDER_PREFIX + sender[len(WHATSAPP):]
        texts = await self._texts(fields, sender_id)
        output = self.get_output_channel()
        if not texts and _unreadable(fields):
            await on_new_message.say(sender_id, output, UNREADABLE)
        elif not texts:
            logger.info("ignored %s: nothing the bot reads (%s)", message_id, fields.get("MessageType", "unknown")[:20])
        for number, text in enumerate(texts):
            message = UserMessage(text, output, sender_id, input_channel=self.name(),
                                  message_id=message_id if number == 0 else f"{message_id}-{number}",
                                  metadata={"provider_message_id": message_id})
            try:
                await on_new_message(message)
            except Exception:  # Twilio only needs to know we have it; the safety net has answered the citizen
                logger.exception("handling %s failed", message_id)
        return _twiml()

    async def _texts(self, fields: dict[str, str], sender_id: str) -> list[str]:
        """What Rasa should read for this message: none, one, or a photo and its caption."""
        body = fields.get("Body", "").strip()
        typed = self._choices.resolve(sender_id, body)  # the list on offer is forgotten, whatever came
        if fields.get("MessageType") == "sticker":
            return []
        if fields.get("ButtonPayload"):
            return [fields["ButtonPayload"]]
        if "Latitude" in fields or "Longitude" in fields:
            location = _location(fields)
            return [location] if location else []
        media_type = fields.get("MediaContentType0", "")
        if fields.get("NumMedia", "0") not in ("", "0") and fields.get("MediaUrl0"):
            if not media_type.startswith("image/"):
                return [body] if body else []  # voice notes, videos, documents: only their caption
            return [await self._photo(fields["MediaUrl0"])] + ([body] if body else [])
        if not body:
            return []
        return [typed]

    async def _photo(self, media_url: str) -> str:
        try:
            content = await self._download(media_url)
            url = keep_photo(content, self._media_settings)
        except (TwilioError, MediaError) as exc:
            logger.warning("a photo could not be received: %s", exc)
            return PHOTO_FAILED
        return photo_message(url)

    async def _download(self, media_url: str) -> bytes:
        """A media file of our account, fetched from ``api_url`` with the account's credentials.

        Twilio's MediaUrl points at api.twilio.com; only its path is used, so the
        credentials never go to another host, and a stand-in ``api_url`` serves it in tests.
        Twilio answers with a redirect to its CDN; httpx drops the credentials when following it.
        """
        path = urlsplit(media_url).path
        if not path.startswith(f"/2010-04-01/Accounts/{self.settings.account_sid}/"):
            raise TwilioError("the media URL is not one of this Twilio account's")
        url = self.settings.api_url.rstrip("/") + path
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=self.settings.timeout_seconds,
                                         follow_redirects=True) as http:
                async with http.stream("GET", url, auth=self.settings.auth()) as answer:
                    if answer.status_code >= 300:
                        await answer.aread()
                        raise _api_error("Twilio refused the media file", answer)
                    if int(answer.headers.get("content-length") or 0) > MAX_PHOTO_BYTES:
                        raise TwilioError("the photo is larger than 10 MB")
                    content = bytearray()
                    async for chunk in answer.aiter_bytes():
                        content.extend(chunk)
                        if len(content) > MAX_PHOTO_BYTES:
                            raise TwilioError("the photo is larger than 10 MB")
                    return bytes(content)
        except httpx.HTTPError as exc:
            raise TwilioApiError(f"Twilio's media could not be fetched ({type(exc).__name__})") from exc
