"""The WhatsApp Cloud API channel: Meta's webhook in, the Graph API out (stood in on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.connectors.media import MediaSettings
from bot.connectors.safety_net import apology
from bot.connectors.whatsapp import (
    PHOTO_FAILED,
    TEXT_LIMIT,
    WhatsAppApiError,
    WhatsAppCloudInput,
    WhatsAppCloudOutput,
    WhatsAppError,
    WhatsAppSettings,
)
from tests.provider_standin import Canned, ProviderStandIn

pytestmark = pytest.mark.anyio

SECRET = "app-secret-for-tests"
VERIFY = "verify-token-for-tests"
TOKEN = "EAAG-access-token-for-tests"
PHONE_ID = "106540352242922"
WA_ID = "16505551234"
GRAPH = "https://graph.test/v19.0"
WEBHOOK = "/webhooks/whatsapp/webhook"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def settings(graph_url: str = GRAPH, **changes: Any) -> WhatsAppSettings:
    values: dict[str, Any] = {"access_token": TOKEN, "app_secret": SECRET, "verify_token": VERIFY,
                              "phone_number_id": PHONE_ID, "graph_url": graph_url, **changes}
    return WhatsAppSettings(_env_file=None, **values)  # type: ignore[call-arg]  # pydantic's own keyword


# --- Meta's webhook payloads, shaped as in the Cloud API's webhook reference ------------------


def event(*messages: dict[str, Any], statuses: list[dict[str, Any]] | None = None,
          phone_number_id: str = PHONE_ID) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
    }
    if messages:
        value["contacts"] = [{"profile": {"name": "Sheena Nelson"}, "wa_id": WA_ID}]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = statuses
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}]}


def new_id() -> str:
    return "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQz" + uuid.uuid4().hex.upper()


TEXT = {"from": WA_ID, "id": "", "timestamp": "1749416383", "type": "text",
        "text": {"body": "There is a pothole on Main Street"}}
BUTTON_REPLY = {"context": {"from": "15550783881", "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3"},
                "from": WA_ID, "id": "", "timestamp": "1750032479", "type": "interactive",
                "interactive": {"type": "button_reply", "button_reply": {"id": "/affirm", "title": "Yes"}}}
LIST_REPLY = {"context": {"from": "15550783881", "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3"},
              "from": WA_ID, "id": "", "timestamp": "1750032479", "type": "interactive",
              "interactive": {"type": "list_reply", "list_reply": {
                  "id": '/report_street_issue{"issue_type": "pothole"}', "title": "Report a street problem",
                  "description": "Potholes, lights, graffiti"}}}
TEMPLATE_BUTTON = {"context": {"from": "15550783881", "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3"},
                   "from": WA_ID, "id": "", "timestamp": "1750032479", "type": "button",
                   "button": {"payload": "/request_status", "text": "Check my request"}}
LOCATION = {"from": WA_ID, "id": "", "timestamp": "1744344496", "type": "location",
            "location": {"address": "1 Hacker Way, Menlo Park, CA 94025", "latitude": 37.483307,
                         "longitude": -122.148981, "name": "Main Street", "url": "https://www.example.com"}}
IMAGE = {"from": WA_ID, "id": "", "timestamp": "1744344496", "type": "image",
         "image": {"caption": "Deep one, next to the bakery", "mime_type": "image/jpeg",
                   "sha256": "SfInY0gRxa2ZEo4r5Y0TtHtGfTDLWrlVD+XtY6qRXYA=", "id": "1003383421387256"}}
STICKER = {"from": WA_ID, "id": "", "timestamp": "1744344496", "type": "sticker",
           "sticker": {"mime_type": "image/webp", "sha256": "Fk6oANSzJbqN0+A3yThoDYsvFMgh5i1vj3hPwbbVmwk=",
                       "id": "1018251383405159", "animated": False}}
REACTION = {"from": WA_ID, "id": "", "timestamp": "1744344496", "type": "reaction",
            "reaction": {"message_id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3", "emoji": "\U0001f44d"}}
UNSUPPORTED = {"from": WA_ID, "id": "", "timestamp": "1744344496", "type": "unsupported",
               "errors": [{"code": 131051, "title": "Message type unknown",
                           "message": "Message type unknown",
                           "error_data": {"details": "Message type is currently not supported."}}]}
STATUS = {"id": "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5", "status": "delivered", "timestamp": "1750263773",
          "recipient_id": WA_ID,
          "conversation": {"id": "9d9bdc6bd3cb1ae2ff9d1fe1e7d0a0a6", "origin": {"type": "utility"}},
          "pricing": {"billable": True, "pricing_model": "PMP", "category": "utility", "type": "regular"}}


def message(template: dict[str, Any], message_id: str | None = None) -> dict[str, Any]:
    copied = copy.deepcopy(template)
    copied["id"] = message_id or new_id()
    return copied


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


# --- the Graph API, in memory (MockTransport) ---------------------------------------------------


class FakeGraph:
    """Answers the media lookup, the media download and sends, and records every request."""

    def __init__(self, photo: bytes = PNG, mime_type: str = "image/png", lookup_status: int = 200,
                 download_status: int = 200, file_size: int | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.photo, self.mime_type = photo, mime_type
        self.lookup_status, self.download_status = lookup_status, download_status
        self.file_size = len(photo) if file_size is None else file_size
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith(f"/{PHONE_ID}/messages"):
            return httpx.Response(200, json={"messaging_product": "whatsapp",
                                             "contacts": [{"input": WA_ID, "wa_id": WA_ID}],
                                             "messages": [{"id": new_id()}]})
        if request.url.host == "lookaside.fbsbx.test":
            return httpx.Response(self.download_status, content=self.photo,
                                  headers={"Content-Type": self.mime_type})
        if request.url.path == "/v19.0/1003383421387256":
            return httpx.Response(self.lookup_status, json={
                "messaging_product": "whatsapp", "mime_type": self.mime_type, "file_size": self.file_size,
                "sha256": "SfInY0gRxa2ZEo4r5Y0TtHtGfTDLWrlVD+XtY6qRXYA=", "id": "1003383421387256",
                "url": "https://lookaside.fbsbx.test/whatsapp_business/attachments/?mid=1003383421387256"})
        return httpx.Response(404, json={"error": {"message": "Unknown path", "code": 100}})

    def sent(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests if r.url.path.endswith("/messages")]


# --- the channel, served as an ASGI app ---------------------------------------------------------


class Bot:
    """Records what reaches Rasa; answers every turn so the safety net stays quiet."""

    def __init__(self, reply: str | None = "Thanks, noted.") -> None:
        self.messages: list[UserMessage] = []
        self.reply = reply

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        if self.reply is not None:
            await message.output_channel.send_response(message.sender_id, {"text": self.reply})

    @property
    def texts(self) -> list[str]:
        return [m.text or "" for m in self.messages]


@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sanic 21.12 can start only one app per process outside its test mode."""
    monkeypatch.setattr(Sanic, "test_mode", True)


@asynccontextmanager
async def served(channel: WhatsAppCloudInput,
                 on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> AsyncIterator[httpx.AsyncClient]:
    app = Sanic(f"whatsapp_test_{uuid.uuid4().hex[:12]}")
    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/whatsapp")
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    # Sanic warns, on every ASGI call, that before_server_start runs late: expected here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "You have set a listener", UserWarning)
        lifespan = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, outbox.put))
        await inbox.put({"type": "lifespan.startup"})
        started = asyncio.ensure_future(outbox.get())
        await asyncio.wait([started, lifespan], return_when=asyncio.FIRST_COMPLETED)
        if lifespan.done():
            lifespan.result()  # raises what stopped the start
        assert started.result()["type"] == "lifespan.startup.complete"
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://citybot") as client:
                yield client
        finally:
            lifespan.cancel()  # Sanic 21.12 fails after a lifespan shutdown; stopping the task is enough


async def post(client: httpx.AsyncClient, payload: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return await client.post(WEBHOOK, content=body, headers=signed(body) if headers is None else headers)


@pytest.fixture
def graph() -> FakeGraph:
    return FakeGraph()


@pytest.fixture
def media(tmp_path: Path) -> MediaSettings:
    return MediaSettings(_env_file=None, media_dir=tmp_path / "media",  # type: ignore[call-arg]
                         public_url="https://city.example.org")


@pytest.fixture
def channel(graph: FakeGraph, media: MediaSettings) -> WhatsAppCloudInput:
    return WhatsAppCloudInput(settings(), transport=graph.transport, media=media)


# --- the verification handshake -----------------------------------------------------------------


async def test_the_verification_handshake_echoes_the_challenge(channel):
    async with served(channel, Bot()) as client:
        answer = await client.get(WEBHOOK, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY,
                                                   "hub.challenge": "1158201444"})
    assert answer.status_code == 200 and answer.text == "1158201444"
    assert answer.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("params", [
    {"hub.mode": "subscribe", "hub.verify_token": "guessed", "hub.challenge": "1158201444"},
    {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"},
    {"hub.challenge": "1158201444"},
])
async def test_a_verification_with_a_wrong_token_or_mode_is_refused(channel, params):
    async with served(channel, Bot()) as client:
        answer = await client.get(WEBHOOK, params=params)
    assert answer.status_code == 403 and "1158201444" not in answer.text


# --- what citizens send ------------------------------------------------------------------------


async def test_a_typed_text_reaches_the_bot_and_the_reply_goes_back_to_the_citizen(channel, graph):
    bot = Bot()
    text = message(TEXT)
    async with served(channel, bot) as client:
        answer = await post(client, event(text))
    assert answer.status_code == 200
    [received] = bot.messages
    assert received.text == "There is a pothole on Main Street"
    assert received.sender_id == f"wa-{WA_ID}" and received.input_channel == "whatsapp"
    assert received.metadata["provider_message_id"] == text["id"]
    [reply] = graph.sent()
    assert reply == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID,
                     "type": "text", "text": {"body": "Thanks, noted.", "preview_url": False}}
    assert graph.requests[-1].url == f"{GRAPH}/{PHONE_ID}/messages"
    assert graph.requests[-1].headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("template, payload", [
    (BUTTON_REPLY, "/affirm"),
    (LIST_REPLY, '/report_street_issue{"issue_type": "pothole"}'),
    (TEMPLATE_BUTTON, "/request_status"),
])
async def test_a_button_press_reaches_the_bot_as_its_payload(channel, template, payload):
    bot = Bot()
    async with served(channel, bot) as client:
        assert (await post(client, event(message(template)))).status_code == 200
    assert bot.texts == [payload]


async def test_a_shared_location_becomes_an_inform_with_its_coordinates(channel):
    bot = Bot()
    async with served(channel, bot) as client:
        assert (await post(client, event(message(LOCATION)))).status_code == 200
    assert bot.texts == ['/share_location{"latitude": 37.483307, "longitude": -122.148981}']


async def test_a_photo_is_fetched_with_the_token_kept_and_followed_by_its_caption(media):
    bot = Bot()
    with ProviderStandIn() as api:
        api.responses["/v19.0/1003383421387256"] = Canned(json={
            "messaging_product": "whatsapp", "url": f"{api.url}/whatsapp_business/attachments/?mid=1003383421387256",
            "mime_type": "image/jpeg", "sha256": "SfInY0gRxa2ZEo4r5Y0TtHtGfTDLWrlVD+XtY6qRXYA=",
            "file_size": str(len(PNG)), "id": "1003383421387256"})
        api.responses["/whatsapp_business/attachments/"] = Canned(body=PNG, content_type="image/jpeg")
        api.responses[f"/v19.0/{PHONE_ID}/messages"] = Canned(json={"messages": [{"id": "wamid.out"}]})
        channel = WhatsAppCloudInput(settings(f"{api.url}/v19.0"), media=media)
        async with served(channel, bot) as client:
            assert (await post(client, event(message(IMAGE)))).status_code == 200
    photo, caption = bot.texts
    url = json.loads(photo.removeprefix("/share_photo"))["photo_url"]
    assert photo.startswith('/share_photo{"photo_url": ') and url.startswith("https://city.example.org/media/")
    assert (media.media_dir / url.rsplit("/", 1)[1]).read_bytes() == PNG
    assert caption == "Deep one, next to the bakery"
    lookup, download = api.requests[:2]
    assert lookup.path == "/v19.0/1003383421387256" and download.query == {"mid": "1003383421387256"}
    assert lookup.headers["authorization"] == download.headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("graph_fails", [
    {"lookup_status": 404},
    {"download_status": 500},
    {"photo": b"<html>login</html>", "mime_type": "text/html"},
    {"file_size": 11 * 1024 * 1024},
])
async def test_a_photo_that_cannot_be_received_says_so_to_the_bot(media, graph_fails):
    graph, bot = FakeGraph(**graph_fails), Bot()
    channel = WhatsAppCloudInput(settings(), transport=graph.transport, media=media)
    async with served(channel, bot) as client:
        assert (await post(client, event(message(IMAGE)))).status_code == 200
    assert bot.texts == [PHOTO_FAILED, "Deep one, next to the bakery"]
    assert not (media.media_dir.exists() and any(media.media_dir.iterdir()))


@pytest.mark.parametrize("payload", [
    event(statuses=[STATUS]),
    event(message(STICKER)),
    event(message(REACTION)),
    event(message(TEXT), phone_number_id="999999999999999"),  # another number of the same business
])
async def test_receipts_and_kinds_the_bot_does_not_handle_are_acknowledged_and_ignored(channel, graph, payload):
    bot = Bot()
    async with served(channel, bot) as client:
        answer = await post(client, payload)
    assert answer.status_code == 200
    assert bot.messages == [] and graph.sent() == []


@pytest.mark.parametrize("kind", ["audio", "unsupported"])
async def test_a_voice_note_or_an_unsupported_message_is_answered_please_type_without_a_turn(channel, graph, kind):
    voice = {"from": WA_ID, "id": "", "timestamp": "1744344496", "type": "audio",
             "audio": {"mime_type": "audio/ogg; codecs=opus", "sha256": "x", "id": "1003383421387299", "voice": True}}
    bot = Bot()
    async with served(channel, bot) as client:
        answer = await post(client, event(message(voice if kind == "audio" else UNSUPPORTED)))
    assert answer.status_code == 200
    assert bot.messages == []  # nothing for Rasa: a form in progress is not disturbed
    [said] = graph.sent()
    assert said["to"] == WA_ID and "can't listen to voice messages" in said["text"]["body"]


async def test_several_messages_in_one_event_each_get_a_turn_in_order(channel):
    bot = Bot()
    async with served(channel, bot) as client:
        assert (await post(client, event(message(TEXT), message(LOCATION), message(STICKER)))).status_code == 200
    assert bot.texts == ["There is a pothole on Main Street",
                         '/share_location{"latitude": 37.483307, "longitude": -122.148981}']


async def test_a_failing_turn_still_acknowledges_the_event_so_meta_does_not_retry(channel, graph):
    async def fails(message: UserMessage) -> None:
        raise RuntimeError("the action server is down")

    async with served(channel, fails) as client:
        assert (await post(client, event(message(TEXT)))).status_code == 200
    assert [m["text"]["body"] for m in graph.sent()] == [apology()]


# --- numbered choices typed back ------------------------------------------------------------------


async def test_a_number_typed_after_a_numbered_list_becomes_that_choice_once(channel):
    bot = Bot(reply=None)
    buttons = [{"title": f"Choice {n}", "payload": f"/choose{{\"n\": {n}}}"} for n in range(1, 12)]
    async with served(channel, bot) as client:
        await channel.get_output_channel().send_text_with_buttons(f"wa-{WA_ID}", "Which one?", buttons)
        second = message(TEXT)
        second["text"]["body"] = " 2 "
        await post(client, event(second))
        again = message(TEXT)
        again["text"]["body"] = "2"
        await post(client, event(again))
    assert bot.texts == ['/choose{"n": 2}', "2"]


async def test_a_number_out_of_range_or_after_other_words_stays_as_typed(channel):
    bot = Bot(reply=None)
    buttons = [{"title": f"Choice {n}", "payload": f"/c{n}"} for n in range(1, 12)]
    async with served(channel, bot) as client:
        output = channel.get_output_channel()
        await output.send_text_with_buttons(f"wa-{WA_ID}", "Which one?", buttons)
        typed = message(TEXT)
        typed["text"]["body"] = "12"
        await post(client, event(typed))
        await output.send_text_with_buttons(f"wa-{WA_ID}", "Which one?", buttons)
        words, number = message(TEXT), message(TEXT)
        words["text"]["body"], number["text"]["body"] = "none of them", "3"
        await post(client, event(words, number))
    assert bot.texts == ["12", "none of them", "3"]


# --- security and malformed requests ---------------------------------------------------------------


async def test_a_forged_or_missing_signature_is_refused_before_the_bot_sees_anything(channel, caplog):
    bot = Bot()
    body = json.dumps(event(message(TEXT))).encode()
    tampered = body.replace(b"pothole", b"sinkhole")
    async with served(channel, bot) as client:
        missing = await post(client, body, headers={"Content-Type": "application/json"})
        wrong_secret = await post(client, body, headers=signed(body, "guessed-secret"))
        replayed_onto_other_body = await post(client, tampered, headers=signed(body))
        not_hex = await client.post(WEBHOOK, content=body, headers={b"X-Hub-Signature-256": "sha256=zzzé".encode()})
    assert missing.status_code == 401
    assert wrong_secret.status_code == replayed_onto_other_body.status_code == not_hex.status_code == 403
    assert bot.messages == []
    assert "X-Hub-Signature-256" in caplog.text and SECRET not in caplog.text and "pothole" not in caplog.text


async def test_a_retried_message_gets_200_without_a_second_turn(channel, graph):
    bot = Bot()
    payload = event(message(TEXT))
    async with served(channel, bot) as client:
        first = await post(client, payload)
        retry = await post(client, payload)
    assert first.status_code == retry.status_code == 200
    assert len(bot.messages) == 1 and len(graph.sent()) == 1


@pytest.mark.parametrize("body", [
    b"{not json",
    b"\xff\xfe",
    b"[]",
    json.dumps({"object": "page", "entry": []}).encode(),
    json.dumps({"object": "whatsapp_business_account", "entry": {"changes": []}}).encode(),
    json.dumps({"object": "whatsapp_business_account", "entry": [{"changes": [{"value": []}]}]}).encode(),
    json.dumps({"object": "whatsapp_business_account",
                "entry": [{"changes": [{"field": "messages", "value": {"messages": "hi"}}]}]}).encode(),
])
async def test_a_malformed_signed_body_gets_a_400_not_a_500(channel, body):
    bot = Bot()
    async with served(channel, bot) as client:
        answer = await post(client, body)
    assert answer.status_code == 400 and answer.json()["detail"]
    assert bot.messages == []


async def test_messages_with_missing_fields_are_skipped_with_a_200(channel):
    bot = Bot()
    no_sender = message(TEXT)
    del no_sender["from"]
    no_body = message(TEXT)
    no_body["text"] = {"body": 42}
    bad_location = message(LOCATION)
    bad_location["location"]["latitude"] = "north"
    async with served(channel, bot) as client:
        answer = await post(client, event(no_sender, no_body, bad_location, "not a message"))  # type: ignore[arg-type]
    assert answer.status_code == 200 and bot.messages == []


async def test_a_body_over_one_megabyte_is_refused(channel):
    bot = Bot()
    huge = json.dumps(event(message(TEXT))).encode() + b" " * (1024 * 1024)
    async with served(channel, bot) as client:
        answer = await post(client, huge)
    assert answer.status_code == 400 and bot.messages == []


async def test_an_unconfigured_channel_loads_and_its_webhook_answers_503(monkeypatch):
    for name in ("ACCESS_TOKEN", "APP_SECRET", "VERIFY_TOKEN", "PHONE_NUMBER_ID"):
        monkeypatch.setenv(f"CITYBOT_WHATSAPP_{name}", "")
    channel = WhatsAppCloudInput.from_credentials({})
    bot = Bot()
    async with served(channel, bot) as client:
        posted = await post(client, event(message(TEXT)))
        verified = await client.get(WEBHOOK, params={"hub.mode": "subscribe", "hub.verify_token": "",
                                                     "hub.challenge": "1"})
    assert posted.status_code == verified.status_code == 503
    assert posted.json() == {"detail": "whatsapp is not configured"}
    with pytest.raises(WhatsAppError, match="CITYBOT_WHATSAPP_ACCESS_TOKEN"):
        await channel.get_output_channel().send_text_message(f"wa-{WA_ID}", "Hello")


def test_the_settings_come_from_citybot_whatsapp_env_vars_not_credentials(monkeypatch):
    monkeypatch.setenv("CITYBOT_WHATSAPP_ACCESS_TOKEN", "from-env")
    monkeypatch.setenv("CITYBOT_WHATSAPP_PHONE_NUMBER_ID", "123")
    monkeypatch.setenv("CITYBOT_WHATSAPP_GRAPH_URL", "http://127.0.0.1:9/v19.0")
    channel = WhatsAppCloudInput.from_credentials({"access_token": "ignored"})
    assert channel.name() == "whatsapp" and channel.url_prefix() == "whatsapp"
    assert channel.settings.access_token.get_secret_value() == "from-env"
    assert channel.settings.graph_url == "http://127.0.0.1:9/v19.0" and channel.settings.phone_number_id == "123"
    assert "from-env" not in repr(channel.settings)


# --- what the bot sends, to a real stand-in of the Graph API --------------------------------------


@pytest.fixture
def graph_api() -> Any:
    with ProviderStandIn(default=Canned(json={"messaging_product": "whatsapp",
                                              "contacts": [{"input": WA_ID, "wa_id": WA_ID}],
                                              "messages": [{"id": "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5"}]})) as api:
        yield api


def sent_to(api: ProviderStandIn) -> list[dict[str, Any]]:
    assert all(r.path == f"/v19.0/{PHONE_ID}/messages" and r.method == "POST" for r in api.requests)
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in api.requests)
    return [r.json() for r in api.requests]


async def test_the_output_sends_text_native_buttons_a_list_and_an_image(graph_api):
    output = WhatsAppCloudInput(settings(f"{graph_api.url}/v19.0")).get_output_channel()
    citizen = f"wa-{WA_ID}"
    await output.send_response(citizen, {"text": "Hello! How can I help?"})
    await output.send_response(citizen, {"text": "Is this right?", "buttons": [
        {"title": "Yes", "payload": "/affirm"}, {"title": "No, change it", "payload": "/deny"}]})
    await output.send_response(citizen, {"text": "How big is it?", "buttons": [
        {"title": "Smaller than a dinner plate", "payload": "small"}, {"title": "Bigger than a car tyre",
                                                                       "payload": "large"}]})
    await output.send_response(citizen, {"text": "What would you like to do?", "buttons": [
        {"title": "Report a street problem", "payload": "/report_street_issue"},
        {"title": "Renew a licence or permit", "payload": "/renew_license"},
        {"title": "Check a request", "payload": "/request_status"},
        {"title": "Power outages", "payload": "/outage_status"},
        {"title": "Talk to a person", "payload": "/human_handoff"}]})
    await output.send_response(citizen, {"image": "https://city.example.org/media/map.png"})
    text, buttons, long_titles, listed, image = sent_to(graph_api)
    assert text == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID,
                    "type": "text", "text": {"body": "Hello! How can I help?", "preview_url": False}}
    assert buttons["to"] == WA_ID and buttons["type"] == "interactive"
    assert buttons["interactive"] == {"type": "button", "body": {"text": "Is this right?"}, "action": {"buttons": [
        {"type": "reply", "reply": {"id": "/affirm", "title": "Yes"}},
        {"type": "reply", "reply": {"id": "/deny", "title": "No, change it"}}]}}
    # Reply buttons would cut these to "Smaller than a…" and "Bigger than a car…": a list shows them whole.
    assert long_titles["interactive"]["type"] == "list"
    assert long_titles["interactive"]["action"]["sections"][0]["rows"] == [
        {"id": "small", "title": "Smaller than a dinner…", "description": "Smaller than a dinner plate"},
        {"id": "large", "title": "Bigger than a car tyre"}]
    assert listed["interactive"]["type"] == "list"
    assert listed["interactive"]["body"] == {"text": "What would you like to do?"}
    action = listed["interactive"]["action"]
    assert action["button"] == "Options" and len(action["sections"]) == 1
    rows = action["sections"][0]["rows"]
    assert [r["id"] for r in rows] == ["/report_street_issue", "/renew_license", "/request_status",
                                       "/outage_status", "/human_handoff"]
    assert all(len(r["title"]) <= 24 for r in rows)
    assert rows[1] == {"id": "/renew_license", "title": "Renew a licence or…",
                       "description": "Renew a licence or permit"}
    assert image == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID,
                     "type": "image", "image": {"link": "https://city.example.org/media/map.png"}}


async def test_more_than_ten_buttons_or_a_too_long_payload_become_numbered_text(graph_api):
    output = WhatsAppCloudOutput(settings(f"{graph_api.url}/v19.0"))
    many = [{"title": f"District {n}", "payload": f'/inform{{"district": {n}}}'} for n in range(1, 12)]
    await output.send_text_with_buttons(f"wa-{WA_ID}", "Which district?", many)
    long_payload = [{"title": "Yes", "payload": "/affirm" + " " * 300}, {"title": "No", "payload": "/deny"}]
    await output.send_text_with_buttons(f"wa-{WA_ID}", "Sure?", long_payload)
    districts, sure = sent_to(graph_api)
    assert districts["type"] == "text" and districts["to"] == WA_ID
    assert districts["text"]["body"] == "Which district?\n\n" + "\n".join(f"{n}. District {n}" for n in range(1, 12))
    assert sure["text"]["body"] == "Sure?\n\n1. Yes\n2. No"
    assert output.choices.resolve(f"wa-{WA_ID}", "2") == "/deny"


async def test_a_long_text_is_split_at_paragraphs_within_the_limit(graph_api):
    output = WhatsAppCloudOutput(settings(f"{graph_api.url}/v19.0"))
    paragraphs = [f"Paragraph {n}. " + "The road works continue this week. " * 40 for n in range(1, 6)]
    await output.send_text_message(f"wa-{WA_ID}", "\n\n".join(paragraphs))
    bodies = [m["text"]["body"] for m in sent_to(graph_api)]
    assert len(bodies) > 1 and all(len(b) <= TEXT_LIMIT for b in bodies)
    assert all(b.startswith("Paragraph") and b.endswith("week.") for b in bodies)
    assert " ".join(" ".join(bodies).split()) == " ".join(" ".join(paragraphs).split())


async def test_a_button_question_longer_than_meta_allows_sends_its_start_as_text_first(graph_api):
    output = WhatsAppCloudOutput(settings(f"{graph_api.url}/v19.0"))
    question = "Before we go on, please read this. " * 40 + "\n\nShall I file the report?"
    await output.send_text_with_buttons(f"wa-{WA_ID}", question, [{"title": "Yes", "payload": "/affirm"}])
    lead, ask = sent_to(graph_api)
    assert lead["type"] == "text" and lead["text"]["body"].startswith("Before we go on")
    assert ask["interactive"]["body"]["text"].endswith("Shall I file the report?")
    assert len(ask["interactive"]["body"]["text"]) <= 1024


async def test_the_output_works_without_a_request_for_handoff_and_notices(graph_api):
    channel = WhatsAppCloudInput(settings(f"{graph_api.url}/v19.0"))
    await channel.get_output_channel().send_response(f"wa-{WA_ID}", {"text": "An agent has joined."})
    [notice] = sent_to(graph_api)
    assert notice["to"] == WA_ID and notice["text"]["body"] == "An agent has joined."


async def test_a_refused_or_unreachable_send_raises_a_clear_error(graph_api):
    graph_api.default = Canned(status=400, json={"error": {
        "message": "(#131030) Recipient phone number not in allowed list", "type": "OAuthException",
        "code": 131030, "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam"}})
    output = WhatsAppCloudOutput(settings(f"{graph_api.url}/v19.0"))
    with pytest.raises(WhatsAppApiError, match="131030") as refused:
        await output.send_text_message(f"wa-{WA_ID}", "Hello")
    assert refused.value.status == 400
    graph_api.__exit__()
    with pytest.raises(WhatsAppApiError, match="could not be reached"):
        await output.send_text_message(f"wa-{WA_ID}", "Hello")


async def test_a_custom_whatsapp_message_is_sent_as_given_and_others_are_skipped(graph_api):
    output = WhatsAppCloudOutput(settings(f"{graph_api.url}/v19.0"))
    contacts = {"type": "contacts", "contacts": [{"name": {"formatted_name": "City Hall", "first_name": "City"},
                                                  "phones": [{"phone": "+15550100", "type": "WORK"}]}]}
    await output.send_custom_json(f"wa-{WA_ID}", {"whatsapp": contacts})
    await output.send_custom_json(f"wa-{WA_ID}", {"map_marker": [1, 2]})
    [sent] = sent_to(graph_api)
    assert sent == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID, **contacts}
