"""The WhatsApp-through-Twilio channel: Twilio's webhook in, Twilio's Messages API (stood in on 127.0.0.1) out."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import SecretStr
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.connectors.media import MediaSettings
from bot.connectors.safety_net import apology
from bot.connectors.twilio import (
    PHOTO_FAILED,
    TwilioApiError,
    TwilioNotConfigured,
    TwilioSettings,
    TwilioWhatsAppInput,
    TwilioWhatsAppOutput,
    twilio_signature,
)
from tests.provider_standin import Canned, ProviderStandIn

pytestmark = [pytest.mark.anyio, pytest.mark.filterwarnings("ignore:You have set a listener:UserWarning")]

ACCOUNT = "ACf2d6c8a0b1e94d3c8a7b6e5d4c3b2a19"
TOKEN = "test-auth-token-not-a-real-one"
OURS = "whatsapp:+14155238886"
CITIZEN = "whatsapp:+15005550006"
SENDER_ID = "tw-+15005550006"
WEBHOOK_URL = "https://bot.city.example/webhooks/twilio_whatsapp/webhook"
WEBHOOK_PATH = "/webhooks/twilio_whatsapp/webhook"
MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
MEDIA = f"/2010-04-01/Accounts/{ACCOUNT}/Messages/MM1f0e1d2c3b4a59687766554433221100/Media/ME0a1b2c3d4e5f60718293a4b"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x42" * 256
CREATED = Canned(status=201, json={"sid": "SM5b6c7d8e9f00112233445566778899aa", "status": "queued"})



def sids(sid: str) -> dict[str, str]:
    """A message's id, under the three names Twilio posts it with."""
    return {"MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid}


# Twilio's incoming-message webhook for WhatsApp, field for field as Twilio documents and sends it.
TEXT = {
    "SmsMessageSid": "SM0b1a2c3d4e5f60718293a4b5c6d7e8f9",
    "NumMedia": "0",
    "ProfileName": "Ana",
    "MessageType": "text",
    "SmsSid": "SM0b1a2c3d4e5f60718293a4b5c6d7e8f9",
    "WaId": "15005550006",
    "SmsStatus": "received",
    "Body": "There is a pothole on Main Street",
    "To": OURS,
    "NumSegments": "1",
    "ReferralNumMedia": "0",
    "MessageSid": "SM0b1a2c3d4e5f60718293a4b5c6d7e8f9",
    "AccountSid": ACCOUNT,
    "From": CITIZEN,
    "ApiVersion": "2010-04-01",
}
BUTTON = {**TEXT, **sids("SM1b1a2c3d4e5f60718293a4b5c6d7e8f9"), "MessageType": "button", "Body": "Pothole",
          "ButtonText": "Pothole", "ButtonPayload": '/report_street_issue{"issue_type": "pothole"}'}
LOCATION = {**TEXT, **sids("SM2b1a2c3d4e5f60718293a4b5c6d7e8f9"), "MessageType": "location", "Body": "",
            "Latitude": "40.712776", "Longitude": "-74.005974", "Address": "Main Street", "Label": "Here"}
PHOTO = {**TEXT, **sids("MM1f0e1d2c3b4a59687766554433221100"), "MessageType": "image", "NumMedia": "1",
         "Body": "Deep one, next to the school", "MediaContentType0": "image/jpeg",
         "MediaUrl0": "https://api.twilio.com" + MEDIA}
VOICE_NOTE = {**PHOTO, "MessageSid": "MM2f0e1d2c3b4a59687766554433221100", "MessageType": "audio", "Body": "",
              "MediaContentType0": "audio/ogg"}
STICKER = {**PHOTO, "MessageSid": "MM3f0e1d2c3b4a59687766554433221100", "MessageType": "sticker", "Body": "",
           "MediaContentType0": "image/webp"}
STATUS_CALLBACK = {
    "ChannelPrefix": "whatsapp",
    "ApiVersion": "2010-04-01",
    "MessageStatus": "delivered",
    "SmsSid": "SM5b6c7d8e9f00112233445566778899aa",
    "SmsStatus": "delivered",
    "ChannelInstallSid": "XE0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "To": CITIZEN,
    "From": OURS,
    "MessageSid": "SM5b6c7d8e9f00112233445566778899aa",
    "StructuredMessage": "false",
    "AccountSid": ACCOUNT,
    "ChannelToAddress": "+15005550006",
}


def sign(params: dict[str, str], url: str = WEBHOOK_URL, token: str = TOKEN) -> str:
    """Twilio's documented algorithm, written out independently of the channel's."""
    data = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def settings_for(api_url: str, **changes: Any) -> TwilioSettings:
    values = {"account_sid": ACCOUNT, "auth_token": TOKEN, "whatsapp_number": OURS, "api_url": api_url,
              "webhook_url": WEBHOOK_URL, "timeout_seconds": 5.0, "_env_file": None, **changes}
    return TwilioSettings(**values)


def basic_auth(account: str = ACCOUNT, token: str = TOKEN) -> str:
    return "Basic " + base64.b64encode(f"{account}:{token}".encode()).decode()


class Webhook:
    def __init__(self, http: httpx.AsyncClient, received: list[UserMessage]) -> None:
        self.http = http
        self.received = received

    @property
    def texts(self) -> list[str]:
        return [m.text or "" for m in self.received]

    async def post(self, params: dict[str, str], signature: str | None = "sign") -> httpx.Response:
        headers = {"X-Twilio-Signature": sign(params) if signature == "sign" else signature} if signature else {}
        return await self.http.post(WEBHOOK_PATH, data=params, headers=headers)


@asynccontextmanager
async def started(app: Sanic) -> AsyncIterator[None]:
    """Sanic's ASGI lifespan (what uvicorn would send), so its router is ready for httpx's ASGI transport."""
    inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    done, _ = await asyncio.wait({task, asyncio.ensure_future(outbox.get())}, timeout=10,
                                 return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()
    assert done, "Sanic did not start"
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        task.cancel()  # Sanic 21.12 fails after a complete lifespan; nothing to see there
        await asyncio.gather(task, return_exceptions=True)


@asynccontextmanager
async def serving(channel: TwilioWhatsAppInput, handle: Any = None) -> AsyncIterator[Webhook]:
    received: list[UserMessage] = []

    async def thank(message: UserMessage) -> None:
        received.append(message)
        await message.output_channel.send_response(message.sender_id, {"text": "Thanks!"})  # as Rasa does

    app = Sanic(f"twilio_test_{uuid.uuid4().hex}")
    app.blueprint(channel.blueprint(handle or thank), url_prefix="/webhooks/" + channel.url_prefix())
    async with started(app):
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://rasa.internal:5005") as http:
            yield Webhook(http, received)


@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sanic 21.12 rewrites its request handler at each start; in test mode it keeps the original to rewrite again."""
    monkeypatch.setattr(Sanic, "test_mode", True)


@pytest.fixture
def twilio() -> Any:
    with ProviderStandIn({MESSAGES: CREATED}) as standin:
        yield standin


@pytest.fixture
def media_settings(tmp_path: Path) -> MediaSettings:
    return MediaSettings(media_dir=tmp_path / "media", public_url="https://city.example.org")


@pytest.fixture
def channel(twilio: ProviderStandIn, media_settings: MediaSettings) -> TwilioWhatsAppInput:
    return TwilioWhatsAppInput(settings_for(twilio.url), media_settings=media_settings)


def sent(standin: ProviderStandIn) -> list[dict[str, list[str]]]:
    return [parse_qs(r.body.decode(), keep_blank_values=True) for r in standin.requests if r.path == MESSAGES]


def bodies(standin: ProviderStandIn) -> list[str]:
    return [form["Body"][0] for form in sent(standin) if "Body" in form]


# --- incoming --------------------------------------------------------------------------------------------------


async def test_a_text_message_reaches_rasa_as_typed_and_the_reply_goes_back_through_twilio(channel, twilio):
    async with serving(channel) as webhook:
        answer = await webhook.post(TEXT)
    assert answer.status_code == 200
    assert answer.text == "<Response/>" and answer.headers["content-type"].startswith("text/xml")
    [message] = webhook.received
    assert (message.text, message.sender_id, message.input_channel) == (TEXT["Body"], SENDER_ID, "twilio_whatsapp")
    assert message.metadata == {"provider_message_id": TEXT["MessageSid"]}
    [reply] = [r for r in twilio.requests if r.path == MESSAGES]
    assert reply.method == "POST" and reply.headers["authorization"] == basic_auth()
    assert parse_qs(reply.body.decode()) == {"To": [CITIZEN], "From": [OURS], "Body": ["Thanks!"]}


async def test_a_quick_reply_press_reaches_rasa_as_its_payload(channel):
    async with serving(channel) as webhook:
        assert (await webhook.post(BUTTON)).status_code == 200
    assert webhook.texts == ['/report_street_issue{"issue_type": "pothole"}']


async def test_a_shared_location_becomes_an_inform_with_its_coordinates(channel):
    async with serving(channel) as webhook:
        assert (await webhook.post(LOCATION)).status_code == 200
    assert webhook.texts == ['/share_location{"latitude": 40.712776, "longitude": -74.005974}']


async def test_a_photo_is_fetched_with_the_account_credentials_kept_and_followed_by_its_caption(
        channel, twilio, media_settings):
    with ProviderStandIn({"/ME0a1b2c.jpg": Canned(body=JPEG, content_type="image/jpeg")}) as cdn:
        # Twilio's media URL answers with a redirect to its CDN, another host.
        twilio.responses[MEDIA] = Canned(status=307, headers={"location": f"{cdn.url}/ME0a1b2c.jpg"})
        async with serving(channel) as webhook:
            assert (await webhook.post(PHOTO)).status_code == 200
    [downloaded] = cdn.requests
    assert "authorization" not in downloaded.headers  # the account's credentials stay with Twilio's API
    kept, caption = webhook.texts
    assert kept.startswith('/share_photo{"photo_url": "https://city.example.org/media/') and kept.endswith('.jpg"}')
    assert caption == PHOTO["Body"]
    [stored] = list(media_settings.media_dir.iterdir())
    assert stored.read_bytes() == JPEG and stored.name in kept
    [fetched] = [r for r in twilio.requests if r.path == MEDIA]  # from api_url, although MediaUrl0 names api.twilio.com
    assert fetched.headers["authorization"] == basic_auth()
    assert {m.metadata["provider_message_id"] for m in webhook.received} == {PHOTO["MessageSid"]}


@pytest.mark.parametrize("media", [Canned(status=404, json={"code": 20404, "status": 404}),
                                   Canned(body=b"%PDF-1.7", content_type="application/pdf"),
                                   Canned(body=b"\xff" * (10 * 1024 * 1024 + 1), content_type="image/jpeg")],
                         ids=["gone", "not-an-image", "over-10-MB"])
async def test_a_photo_that_cannot_be_received_lets_the_bot_ask_again(channel, twilio, media_settings, media):
    twilio.responses[MEDIA] = media
    async with serving(channel) as webhook:
        assert (await webhook.post({**PHOTO, "Body": ""})).status_code == 200
    assert webhook.texts == [PHOTO_FAILED]
    assert not media_settings.media_dir.exists() or not list(media_settings.media_dir.iterdir())


async def test_a_media_url_outside_our_account_is_not_fetched_with_our_credentials(channel, twilio):
    elsewhere = {**PHOTO, "MediaUrl0": "https://evil.example/2010-04-01/Accounts/ACother/Media/ME1", "Body": ""}
    async with serving(channel) as webhook:
        assert (await webhook.post(elsewhere)).status_code == 200
    assert webhook.texts == [PHOTO_FAILED]
    assert [r.path for r in twilio.requests if r.method == "GET"] == []


async def test_a_voice_note_without_a_caption_is_answered_please_type_without_a_turn(channel, twilio):
    async with serving(channel) as webhook:
        answer = await webhook.post(VOICE_NOTE)
    assert answer.status_code == 200 and answer.text == "<Response/>"
    assert webhook.received == []  # nothing for Rasa: a form in progress is not disturbed
    [said] = sent(twilio)
    assert said["To"] == [CITIZEN] and "can't listen to voice messages" in said["Body"][0]


@pytest.mark.parametrize("params", [STICKER, STATUS_CALLBACK, {**TEXT, "Body": ""},
                                    {**LOCATION, "Latitude": "north"}, {**TEXT, "From": "+15005550006"}],
                         ids=["sticker", "status-callback", "empty", "bad-location", "sms"])
async def test_what_the_bot_does_not_read_is_acknowledged_and_ignored(channel, twilio, params, caplog):
    caplog.set_level(logging.INFO, logger="bot.connectors.twilio")
    async with serving(channel) as webhook:
        answer = await webhook.post(params)
    assert answer.status_code == 200 and answer.text == "<Response/>"
    assert webhook.received == [] and sent(twilio) == []
    assert any(r.levelno == logging.INFO and "ignored" in r.getMessage() for r in caplog.records)


async def test_a_number_typed_back_picks_the_numbered_button_once(channel, twilio):
    buttons = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
    await channel.get_output_channel().send_text_with_buttons(SENDER_ID, "Is it dangerous?", buttons)
    assert bodies(twilio) == ["Is it dangerous?\n\n1. Yes\n2. No"]
    async with serving(channel) as webhook:
        await webhook.post({**TEXT, "Body": "2"})
        await webhook.post({**TEXT, "Body": "2", "MessageSid": "SM9b1a2c3d4e5f60718293a4b5c6d7e8f9"})
    assert webhook.texts == ["/deny", "2"]  # the choice answers the next message only


async def test_a_number_from_another_citizen_is_just_a_number(channel):
    await channel.get_output_channel().send_text_with_buttons("tw-+15005550001", "Sure?", [{"title": "Yes",
                                                                                              "payload": "/affirm"}])
    async with serving(channel) as webhook:
        await webhook.post({**TEXT, "Body": "1"})
    assert webhook.texts == ["1"]


async def test_a_failing_turn_still_gets_an_answer_and_twilio_a_200(channel, twilio):
    async def crash(message: UserMessage) -> None:
        raise RuntimeError("the action server is down")

    async with serving(channel, crash) as webhook:
        answer = await webhook.post(TEXT)
    assert answer.status_code == 200
    assert bodies(twilio) == [apology()]


# --- security and malformed requests ---------------------------------------------------------------------------


@pytest.mark.parametrize("signature", [None, "", sign(TEXT, token="someone-elses-token"),
                                       sign(TEXT, url="https://bot.city.example/elsewhere"),
                                       sign({**TEXT, "Body": "something else"}), "not base64 at all"],
                         ids=["missing", "empty", "wrong-token", "other-url", "tampered", "garbage"])
async def test_an_unsigned_or_forged_request_is_refused_and_logged(channel, twilio, signature, caplog):
    async with serving(channel) as webhook:
        answer = await webhook.post(TEXT, signature=signature)
    assert answer.status_code == 403 and "detail" in answer.json()
    assert webhook.received == [] and twilio.requests == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and not any(TEXT["Body"] in w or TOKEN in w or "15005550006" in w for w in warnings)


async def test_a_repeated_message_gets_a_200_but_no_second_turn(channel, twilio):
    async with serving(channel) as webhook:
        first, again = await webhook.post(TEXT), await webhook.post(TEXT)
    assert (first.status_code, again.status_code) == (200, 200) and again.text == "<Response/>"
    assert webhook.texts == [TEXT["Body"]] and bodies(twilio) == ["Thanks!"]


async def test_the_signature_may_name_the_default_port(channel):
    async with serving(channel) as webhook:
        url = WEBHOOK_URL.replace("bot.city.example", "bot.city.example:443")
        assert (await webhook.post(TEXT, signature=sign(TEXT, url=url))).status_code == 200
    assert webhook.texts == [TEXT["Body"]]


@pytest.mark.parametrize("content, content_type", [
    (b'{"Body": "hi", "From": "whatsapp:+15005550006"}', "application/json"),
    (b"Body=caf\xe9&From=whatsapp%3A%2B15005550006", "application/x-www-form-urlencoded"),
    (b"Body=" + b"a" * (1024 * 1024 + 1), "application/x-www-form-urlencoded"),
    (b"&".join(b"f%d=1" % i for i in range(500)), "application/x-www-form-urlencoded"),
], ids=["json", "not-utf8", "over-1-MB", "too-many-fields"])
async def test_a_body_that_is_not_a_reasonable_form_is_a_400(channel, content, content_type):
    async with serving(channel) as webhook:
        answer = await webhook.http.post(WEBHOOK_PATH, content=content, headers={
            "content-type": content_type, "X-Twilio-Signature": "whatever"})
    assert answer.status_code == 400 and answer.json()["detail"]
    assert webhook.received == []


@pytest.mark.parametrize("missing", ["MessageSid", "From"])
async def test_a_signed_message_without_its_id_or_sender_is_a_400(channel, missing):
    params = {k: v for k, v in TEXT.items() if k != missing}
    async with serving(channel) as webhook:
        answer = await webhook.post(params)
    assert answer.status_code == 400 and missing in answer.json()["detail"]
    assert webhook.received == []


async def test_an_unconfigured_channel_loads_and_answers_503():
    nothing = TwilioSettings(account_sid="", auth_token=SecretStr(""), whatsapp_number="", webhook_url="")
    channel = TwilioWhatsAppInput(nothing)
    async with serving(channel) as webhook:
        answer = await webhook.post(TEXT)
        health = await webhook.http.get("/webhooks/twilio_whatsapp/")
    assert answer.status_code == 503 and answer.json() == {"detail": "twilio_whatsapp is not configured"}
    assert health.json() == {"status": "not configured"}
    with pytest.raises(TwilioNotConfigured):
        channel.get_output_channel()


def test_settings_come_from_the_environment_not_credentials_yml(monkeypatch):
    monkeypatch.setenv("CITYBOT_TWILIO_ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("CITYBOT_TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("CITYBOT_TWILIO_WHATSAPP_NUMBER", "+14155238886")
    monkeypatch.setenv("CITYBOT_TWILIO_WEBHOOK_URL", WEBHOOK_URL)
    channel = TwilioWhatsAppInput.from_credentials({"ignored": "yes"})
    assert isinstance(channel, TwilioWhatsAppInput) and channel.settings.configured
    assert channel.settings.whatsapp_number == OURS and channel.settings.api_url == "https://api.twilio.com"
    assert TOKEN not in repr(channel.settings)
    assert channel.name() == "twilio_whatsapp" and channel.url_prefix() == "twilio_whatsapp"


def test_the_signature_is_twilios_published_example_and_agrees_with_its_sdk():
    from twilio.request_validator import RequestValidator

    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234",
              "From": "+12349013030", "To": "+18005551212"}
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio_signature(url, {k: [v] for k, v in params.items()}, "12345") == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert twilio_signature(WEBHOOK_URL, {k: [v] for k, v in PHOTO.items()}, TOKEN) == \
        RequestValidator(TOKEN).compute_signature(WEBHOOK_URL, PHOTO) == sign(PHOTO)


# --- outgoing, against a real stand-in server --------------------------------------------------------------------


async def test_the_output_sends_text_numbered_buttons_images_and_templates_to_twilio(twilio):
    output = TwilioWhatsAppInput(settings_for(twilio.url)).get_output_channel()  # no request needed (handoff relay)
    await output.send_response(SENDER_ID, {"text": "Which problem?", "buttons": [
        {"title": "Pothole", "payload": '/report_street_issue{"issue_type": "pothole"}'},
        {"title": "Streetlight out", "payload": '/report_street_issue{"issue_type": "streetlight"}'}]})
    await output.send_image_url(SENDER_ID, "https://city.example.org/media/map.png")
    await output.send_custom_json(SENDER_ID, {"ContentSid": "HX0a1b2c3d4e5f60718293a4b5c6d7e8f9",
                                              "ContentVariables": {"1": "Main Street"}})
    first, image, template = sent(twilio)
    assert first == {"To": [CITIZEN], "From": [OURS], "Body": ["Which problem?\n\n1. Pothole\n2. Streetlight out"]}
    assert image == {"To": [CITIZEN], "From": [OURS], "MediaUrl": ["https://city.example.org/media/map.png"]}
    assert template == {"To": [CITIZEN], "From": [OURS], "ContentSid": ["HX0a1b2c3d4e5f60718293a4b5c6d7e8f9"],
                        "ContentVariables": ['{"1": "Main Street"}']}
    assert {r.headers["authorization"] for r in twilio.requests} == {basic_auth()}


async def test_a_long_text_goes_out_in_pieces_twilio_accepts(twilio):
    paragraph = " ".join(f"Sentence number {i} explains one more step of the process." for i in range(20))
    text = "\n\n".join([paragraph] * 3)  # each paragraph ~1200 chars, 3 together over 1600
    await TwilioWhatsAppOutput(settings_for(twilio.url)).send_text_message(SENDER_ID, text)
    pieces = bodies(twilio)
    assert len(pieces) == 3 and all(len(p) <= 1600 for p in pieces)
    assert pieces == [paragraph] * 3  # cut between paragraphs, not inside them
    assert [f["To"] for f in sent(twilio)] == [[CITIZEN]] * 3


async def test_a_refused_message_raises_with_twilios_error_code_but_not_its_words():
    refusal = {"code": 63016, "message": "Failed to send freeform message to +15005550006 outside the window",
               "more_info": "https://www.twilio.com/docs/errors/63016", "status": 400}
    with ProviderStandIn({MESSAGES: Canned(status=400, json=refusal)}) as twilio:
        with pytest.raises(TwilioApiError) as refused:
            await TwilioWhatsAppOutput(settings_for(twilio.url)).send_text_message(SENDER_ID, "Hello")
    assert (refused.value.status, refused.value.code) == (400, 63016)
    assert "63016" in str(refused.value) and "15005550006" not in str(refused.value)


async def test_an_unreachable_twilio_raises_a_clear_error():
    with ProviderStandIn() as gone:
        url = gone.url
    with pytest.raises(TwilioApiError, match="could not be reached"):
        await TwilioWhatsAppOutput(settings_for(url)).send_text_message(SENDER_ID, "Hello")
