"""Citizens on each channel, for the end-to-end tests: the same conversation over web, Telegram and WhatsApp.

The messaging apps' APIs are stood in by one local server (``Providers``): the Rasa
server is configured to call it for Telegram's Bot API, Meta's Graph API and Twilio's
REST API, and the tests read what it was sent. A citizen posts webhooks shaped as each
provider documents them (signed as the provider signs them) to the running Rasa server
and reads back the replies addressed to it, in one form for every channel:

    citizen = TelegramCitizen(stack, providers)
    replies = citizen.say("there's a pothole on my street")   # [Reply(text, buttons, image)]
    citizen.choose("Bigger than a car tyre")                   # a button, as that app presses it
    citizen.pin(40.7, -74.0); citizen.photo()
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.connectors.twilio import twilio_signature
from stack.processes import Stack
from tests.provider_standin import Canned, ProviderStandIn, Recorded

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) * 8

TELEGRAM_TOKEN = "7000000001:AAE2e-stand-in-token-0123456789abcd"
TELEGRAM_SECRET = "e2e-telegram-secret_" + uuid.uuid4().hex
TELEGRAM_FILE = "photos/file_42.jpg"

WHATSAPP_PHONE_ID = "109876543210987"
WHATSAPP_TOKEN = "EAAe2e-stand-in-access-token"
WHATSAPP_APP_SECRET = "e2e-app-secret-" + uuid.uuid4().hex
WHATSAPP_VERIFY = "e2e-verify-" + uuid.uuid4().hex
WHATSAPP_MEDIA_ID = "1003383421387256"

TWILIO_SID = "AC" + "e2e0" * 8
TWILIO_TOKEN = "e2e-auth-token-" + uuid.uuid4().hex
TWILIO_NUMBER = "whatsapp:+14155238886"
TWILIO_MEDIA = f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/MM0123456789abcdef0123456789abcdef/Media/ME42"


class Providers(ProviderStandIn):
    """Telegram's Bot API, Meta's Graph API and Twilio's API on one local server, answering as they do."""

    def __init__(self) -> None:
        super().__init__()
        bot = f"/bot{TELEGRAM_TOKEN}"
        ok = Canned(json={"ok": True, "result": {"message_id": 1}})
        self.responses.update({
            f"{bot}/sendMessage": ok, f"{bot}/sendPhoto": ok, f"{bot}/answerCallbackQuery": Canned(
                json={"ok": True, "result": True}),
            f"{bot}/getFile": Canned(json={"ok": True, "result": {
                "file_id": "photo-large", "file_unique_id": "AQAD42", "file_size": len(JPEG),
                "file_path": TELEGRAM_FILE}}),
            f"/file{bot}/{TELEGRAM_FILE}": Canned(body=JPEG, content_type="image/jpeg"),
            f"/v19.0/{WHATSAPP_PHONE_ID}/messages": Canned(json={
                "messaging_product": "whatsapp", "messages": [{"id": "wamid.e2e"}]}),
            f"/v19.0/{WHATSAPP_MEDIA_ID}": Canned(json={
                "messaging_product": "whatsapp", "url": f"{self.url}/lookaside/{WHATSAPP_MEDIA_ID}.jpg",
                "mime_type": "image/jpeg", "sha256": hashlib.sha256(JPEG).hexdigest(),
                "file_size": len(JPEG), "id": WHATSAPP_MEDIA_ID}),
            f"/lookaside/{WHATSAPP_MEDIA_ID}.jpg": Canned(body=JPEG, content_type="image/jpeg"),
            f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json": Canned(status=201, json={
                "sid": "SM" + "0" * 32, "status": "queued"}),
            TWILIO_MEDIA: Canned(body=JPEG, content_type="image/jpeg"),
        })

    def environment(self, rasa_url: str) -> dict[str, str]:
        """The CITYBOT_* settings that point the three channels here."""
        return {
            "CITYBOT_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
            "CITYBOT_TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
            "CITYBOT_TELEGRAM_API_URL": self.url,
            "CITYBOT_WHATSAPP_ACCESS_TOKEN": WHATSAPP_TOKEN,
            "CITYBOT_WHATSAPP_APP_SECRET": WHATSAPP_APP_SECRET,
            "CITYBOT_WHATSAPP_VERIFY_TOKEN": WHATSAPP_VERIFY,
            "CITYBOT_WHATSAPP_PHONE_NUMBER_ID": WHATSAPP_PHONE_ID,
            "CITYBOT_WHATSAPP_GRAPH_URL": f"{self.url}/v19.0",
            "CITYBOT_TWILIO_ACCOUNT_SID": TWILIO_SID,
            "CITYBOT_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "CITYBOT_TWILIO_WHATSAPP_NUMBER": TWILIO_NUMBER,
            "CITYBOT_TWILIO_API_URL": self.url,
            "CITYBOT_TWILIO_WEBHOOK_URL": f"{rasa_url}/webhooks/twilio_whatsapp/webhook",
        }


@dataclass
class Reply:
    """One message the bot sent: its text, its native buttons as (title, payload), an image link."""

    text: str = ""
    buttons: list[tuple[str, str]] = field(default_factory=list)
    image: str = ""
    kind: str = "text"  # how the app shows the buttons: keyboard, button, list, rest


_numbers = itertools.count(int(time.time() * 1000) % 10**9)


def fresh_number() -> int:
    """A number no citizen, update or message of this run has had."""
    return next(_numbers)


class Citizen:
    """What every channel's citizen can do; a subclass posts that channel's webhooks."""

    channel = ""

    def __init__(self, stack: Stack, providers: Providers) -> None:
        self.stack = stack
        self.providers = providers
        self.webhook = f"{stack.settings.rasa_public_url()}/webhooks/{self.channel}/webhook"
        self.number = fresh_number()
        self.last: list[Reply] = []
        self._cursor = len(providers.requests)

    # --- what a test does -----------------------------------------------------------------------

    @property
    def conversation_id(self) -> str:
        raise NotImplementedError

    def say(self, text: str) -> list[Reply]:
        return self._turn(self.post_text(text))

    def texts(self, text: str) -> str:
        return "\n".join(r.text for r in self.say(text))

    def choose(self, title: str) -> list[Reply]:
        """Press the button titled ``title`` of the bot's last messages, as this app lets a citizen."""
        for reply in reversed(self.last):
            for shown, payload in reply.buttons:
                if shown == title:
                    return self._turn(self.press(reply, shown, payload))
        raise AssertionError(f"no button {title!r} in {self.last}")

    def pin(self, latitude: float, longitude: float) -> list[Reply]:
        return self._turn(self.post_location(latitude, longitude))

    def photo(self, caption: str = "") -> list[Reply]:
        return self._turn(self.post_photo(caption))

    def voice(self) -> list[Reply]:
        """A voice note, which the bot cannot listen to."""
        return self._turn(self.post_voice())

    def pushed(self, matching: Callable[[Reply], bool], timeout: float = 30) -> Reply:
        """Wait for a message the bot sends on its own (an agent's reply, a status notice)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [r for r in self.replies() if matching(r)]
            if found:
                return found[0]
            time.sleep(0.2)
        raise AssertionError(f"nothing matching was sent to {self.conversation_id} within {timeout} s")

    def replies(self) -> list[Reply]:
        """The messages sent to this citizen since the last look."""
        new = self.providers.requests[self._cursor:]
        self._cursor += len(new)
        return [reply for request in new for reply in self.read(request)]

    # --- per channel ------------------------------------------------------------------------------

    def post_text(self, text: str) -> httpx.Response:
        raise NotImplementedError

    def press(self, reply: Reply, title: str, payload: str) -> httpx.Response:
        raise NotImplementedError

    def post_location(self, latitude: float, longitude: float) -> httpx.Response:
        raise NotImplementedError

    def post_photo(self, caption: str) -> httpx.Response:
        raise NotImplementedError

    def post_voice(self) -> httpx.Response:
        raise NotImplementedError

    def read(self, request: Recorded) -> list[Reply]:
        """The replies in one request the stand-in received, if it is addressed to this citizen."""
        raise NotImplementedError

    def _turn(self, answer: httpx.Response) -> list[Reply]:
        assert answer.status_code == 200, (answer.status_code, answer.text[:500])
        self.last = self.replies()  # the webhook answers after the bot's turn, replies sent
        return self.last


# ------------------------------------------------------------------------------------------- Telegram


class TelegramCitizen(Citizen):
    channel = "telegram"

    @property
    def chat(self) -> dict[str, Any]:
        return {"id": self.number, "first_name": "Ana", "type": "private"}

    @property
    def conversation_id(self) -> str:
        return f"tg-{self.number}"

    def _update(self, **content: Any) -> httpx.Response:
        return self.post({"update_id": fresh_number(), **content})

    def post(self, update: dict[str, Any], secret: str | None = TELEGRAM_SECRET) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return httpx.post(self.webhook, json=update, headers=headers, timeout=60)

    def message(self, **content: Any) -> dict[str, Any]:
        sender = {"id": self.number, "is_bot": False, "first_name": "Ana", "language_code": "en"}
        return {"message_id": fresh_number(), "from": sender, "chat": self.chat, "date": int(time.time()), **content}

    def post_text(self, text: str) -> httpx.Response:
        return self._update(message=self.message(text=text))

    def press(self, reply: Reply, title: str, payload: str) -> httpx.Response:
        return self._update(callback_query={
            "id": str(fresh_number()), "from": {"id": self.number, "is_bot": False, "first_name": "Ana"},
            "message": {"message_id": 1, "chat": self.chat, "date": int(time.time()), "text": reply.text},
            "chat_instance": "-4735272913487123456", "data": payload})

    def post_location(self, latitude: float, longitude: float) -> httpx.Response:
        return self._update(message=self.message(location={"latitude": latitude, "longitude": longitude}))

    def post_photo(self, caption: str) -> httpx.Response:
        sizes = [{"file_id": "photo-small", "file_unique_id": "AQAD1", "file_size": 1432, "width": 90, "height": 67},
                 {"file_id": "photo-large", "file_unique_id": "AQAD42", "file_size": len(JPEG), "width": 1280,
                  "height": 960}]
        return self._update(message=self.message(photo=sizes, **({"caption": caption} if caption else {})))

    def post_voice(self) -> httpx.Response:
        return self._update(message=self.message(voice={
            "file_id": "AwACAgQAAxkBAAIB", "file_unique_id": "AgADvoice", "duration": 4, "mime_type": "audio/ogg",
            "file_size": 8200}))

    def read(self, request: Recorded) -> list[Reply]:
        method = request.path.rsplit("/", 1)[-1]
        if method not in ("sendMessage", "sendPhoto"):
            return []
        body = request.json()
        if body.get("chat_id") != self.number:
            return []
        if method == "sendPhoto":
            return [Reply(image=body["photo"])]
        keyboard = (body.get("reply_markup") or {}).get("inline_keyboard") or []
        buttons = [(b["text"], b.get("callback_data", b.get("url", ""))) for row in keyboard for b in row]
        return [Reply(body["text"], buttons, kind="keyboard" if buttons else "text")]


# ------------------------------------------------------------------------------------ WhatsApp Cloud API


def hub_signature(body: bytes, secret: str = WHATSAPP_APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WhatsAppCitizen(Citizen):
    channel = "whatsapp"

    @property
    def wa_id(self) -> str:
        return f"1555{self.number:09d}"

    @property
    def conversation_id(self) -> str:
        return f"wa-{self.wa_id}"

    def envelope(self, value: dict[str, Any]) -> dict[str, Any]:
        """Meta's webhook body around one change's value."""
        value = {"messaging_product": "whatsapp",
                 "metadata": {"display_phone_number": "15550783881", "phone_number_id": WHATSAPP_PHONE_ID}, **value}
        return {"object": "whatsapp_business_account",
                "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}]}

    def message_body(self, kind: str, content: dict[str, Any], message_id: str | None = None) -> bytes:
        message = {"from": self.wa_id, "id": message_id or f"wamid.{uuid.uuid4().hex}",
                   "timestamp": str(int(time.time())), "type": kind, kind: content}
        return json.dumps(self.envelope({"contacts": [{"profile": {"name": "Ana"}, "wa_id": self.wa_id}],
                                         "messages": [message]})).encode()

    def post(self, body: bytes, signature: str | None = None) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if signature != "":
            headers["X-Hub-Signature-256"] = signature or hub_signature(body)
        return httpx.post(self.webhook, content=body, headers=headers, timeout=60)

    def post_text(self, text: str) -> httpx.Response:
        return self.post(self.message_body("text", {"body": text}))

    def press(self, reply: Reply, title: str, payload: str) -> httpx.Response:
        kind = "button_reply" if reply.kind == "button" else "list_reply"
        return self.post(self.message_body("interactive", {"type": kind, kind: {"id": payload, "title": title}}))

    def post_location(self, latitude: float, longitude: float) -> httpx.Response:
        return self.post(self.message_body("location", {"latitude": latitude, "longitude": longitude,
                                                        "name": "Here", "address": "Main Street"}))

    def post_photo(self, caption: str) -> httpx.Response:
        image = {"mime_type": "image/jpeg", "sha256": "SfInY0gRxa2ZEo4r5Y0TtHtGfTDLWrlVD+XtY6qRXYA=",
                 "id": WHATSAPP_MEDIA_ID, **({"caption": caption} if caption else {})}
        return self.post(self.message_body("image", image))

    def post_voice(self) -> httpx.Response:
        return self.post(self.message_body("audio", {"mime_type": "audio/ogg; codecs=opus", "voice": True,
                                                     "sha256": "x", "id": "1003383421387299"}))

    def read(self, request: Recorded) -> list[Reply]:
        if not request.path.endswith(f"/{WHATSAPP_PHONE_ID}/messages"):
            return []
        body = request.json()
        if body.get("to") != self.wa_id:
            return []
        assert request.headers.get("authorization") == f"Bearer {WHATSAPP_TOKEN}"
        if body["type"] == "text":
            return [Reply(body["text"]["body"])]
        if body["type"] == "image":
            return [Reply(image=body["image"]["link"])]
        interactive = body["interactive"]
        action = interactive["action"]
        if interactive["type"] == "button":
            buttons = [(b["reply"]["title"], b["reply"]["id"]) for b in action["buttons"]]
        else:
            # A cut row title shows in full underneath, as the row's description.
            buttons = [(row.get("description", row["title"]), row["id"])
                       for section in action["sections"] for row in section["rows"]]
        return [Reply(interactive["body"]["text"], buttons, kind=interactive["type"])]


# ------------------------------------------------------------------------------------ WhatsApp via Twilio


class TwilioCitizen(Citizen):
    channel = "twilio_whatsapp"

    @property
    def phone(self) -> str:
        return f"+1555{self.number:09d}"

    @property
    def conversation_id(self) -> str:
        return f"tw-{self.phone}"

    def fields(self, **extra: str) -> dict[str, str]:
        """Twilio's incoming-message parameters for WhatsApp."""
        sid = "SM" + uuid.uuid4().hex
        return {"SmsMessageSid": sid, "NumMedia": "0", "ProfileName": "Ana", "MessageType": "text",
                "SmsSid": sid, "WaId": self.phone[1:], "SmsStatus": "received", "Body": "", "To": TWILIO_NUMBER,
                "NumSegments": "1", "ReferralNumMedia": "0", "MessageSid": sid, "AccountSid": TWILIO_SID,
                "From": f"whatsapp:{self.phone}", "ApiVersion": "2010-04-01", **extra}

    def post(self, fields: dict[str, str], signature: str | None = None) -> httpx.Response:
        if signature is None:
            signature = twilio_signature(self.webhook, {k: [v] for k, v in fields.items()}, TWILIO_TOKEN)
        headers = {"X-Twilio-Signature": signature} if signature else {}
        answer = httpx.post(self.webhook, data=fields, headers=headers, timeout=60)
        if answer.status_code == 200:
            assert answer.text == "<Response/>" and answer.headers["content-type"].startswith("text/xml")
        return answer

    def post_text(self, text: str) -> httpx.Response:
        return self.post(self.fields(Body=text))

    def press(self, reply: Reply, title: str, payload: str) -> httpx.Response:
        number = next(n for n, (shown, _) in enumerate(reply.buttons, start=1) if shown == title)
        return self.post(self.fields(Body=str(number)))  # a numbered list: the citizen types the number

    def post_location(self, latitude: float, longitude: float) -> httpx.Response:
        return self.post(self.fields(MessageType="location", Latitude=str(latitude), Longitude=str(longitude),
                                     Address="Main Street", Label="Here"))

    def post_photo(self, caption: str) -> httpx.Response:
        sid = "MM" + uuid.uuid4().hex
        return self.post(self.fields(MessageType="image", NumMedia="1", Body=caption, MessageSid=sid, SmsSid=sid,
                                     SmsMessageSid=sid, MediaContentType0="image/jpeg",
                                     MediaUrl0=f"https://api.twilio.com{TWILIO_MEDIA}"))

    def post_voice(self) -> httpx.Response:
        sid = "MM" + uuid.uuid4().hex
        return self.post(self.fields(MessageType="audio", NumMedia="1", MessageSid=sid, SmsSid=sid,
                                     SmsMessageSid=sid, MediaContentType0="audio/ogg",
                                     MediaUrl0=f"https://api.twilio.com{TWILIO_MEDIA}"))

    def read(self, request: Recorded) -> list[Reply]:
        if not request.path.endswith(f"/Accounts/{TWILIO_SID}/Messages.json"):
            return []
        form = request.form()
        if form.get("To") != f"whatsapp:{self.phone}":
            return []
        assert form["From"] == TWILIO_NUMBER
        if "MediaUrl" in form:
            return [Reply(image=form["MediaUrl"])]
        text = form["Body"]
        # A numbered list: its lines are the buttons; a typed number chooses.
        buttons = [(m.group(2), m.group(1)) for m in re.finditer(r"^(\d+)\. (.+)$", text, re.MULTILINE)]
        return [Reply(text, buttons, kind="numbered" if buttons else "text")]


CHANNELS: dict[str, type[Citizen]] = {c.channel: c for c in (TelegramCitizen, WhatsAppCitizen, TwilioCitizen)}
