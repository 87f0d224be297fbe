"""The Telegram channel: Updates shaped as Telegram's Bot API documents them, Telegram stood in locally."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from rasa.core.channels.channel import UserMessage
from rasa.core.run import _create_single_channel, configure_app
from sanic import Sanic

from bot.connectors.media import MediaSettings
from bot.connectors.telegram import (
    MAX_TEXT,
    PHOTO_FAILED,
    TelegramError,
    TelegramInput,
    TelegramOutput,
    TelegramSettings,
    main,
)
from tests.provider_standin import Canned, ProviderStandIn

pytestmark = pytest.mark.filterwarnings("ignore:You have set a listener:UserWarning")  # Sanic under ASGI

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = "city-webhook_secret-0123456789"
WEBHOOK = "/webhooks/telegram/webhook"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 64
LONG_PAYLOAD = '/report_street_issue{"issue_type": "streetlight_out", "place": "Avenida de la Constitución"}'

ANA = {"id": 1111111, "is_bot": False, "first_name": "Ana", "last_name": "López", "username": "ana_l",
       "language_code": "es"}
ANA_CHAT = {"id": 1111111, "first_name": "Ana", "last_name": "López", "username": "ana_l", "type": "private"}
BOT = {"id": 7000000001, "is_bot": True, "first_name": "City Help", "username": "city_help_bot"}


def text_update(text: str, update_id: int = 10000, chat: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {"message_id": 1365, "from": ANA, "chat": chat or ANA_CHAT, "date": 1441645532, "text": text},
    }


BUTTON_PRESS = {
    "update_id": 10001,
    "callback_query": {
        "id": "4382bfdwdsb323b2d9",
        "from": ANA,
        "message": {
            "message_id": 1366, "from": BOT, "chat": ANA_CHAT, "date": 1441645540,
            "text": "Is this the right address?",
            "reply_markup": {"inline_keyboard": [[{"text": "Yes", "callback_data": "/affirm"}],
                                                 [{"text": "No", "callback_data": "/deny"}]]},
        },
        "chat_instance": "-4735272913487123456",
        "data": "/affirm",
    },
}

LOCATION = {
    "update_id": 10002,
    "message": {"message_id": 1367, "from": ANA, "chat": ANA_CHAT, "date": 1441645550,
                "location": {"latitude": 40.416775, "longitude": -3.70379}},
}

PHOTO = {
    "update_id": 10003,
    "message": {
        "message_id": 1368, "from": ANA, "chat": ANA_CHAT, "date": 1441645560,
        "photo": [
            {"file_id": "AgACAgQAAxkBAAIBX2small", "file_unique_id": "AQADsmall", "file_size": 1432,
             "width": 90, "height": 67},
            {"file_id": "AgACAgQAAxkBAAIBX2medium", "file_unique_id": "AQADmedium", "file_size": 18530,
             "width": 320, "height": 240},
            {"file_id": "AgACAgQAAxkBAAIBX2large", "file_unique_id": "AQADlarge", "file_size": 81244,
             "width": 1280, "height": 960},
        ],
        "caption": "Next to the school gate",
    },
}

GET_FILE = {"ok": True, "result": {"file_id": "AgACAgQAAxkBAAIBX2large", "file_unique_id": "AQADlarge",
                                   "file_size": 81244, "file_path": "photos/file_7.jpg"}}

VOICE = {"update_id": 10011, "message": {
    "message_id": 1371, "from": ANA, "chat": ANA_CHAT, "date": 1441645571,
    "voice": {"file_id": "AwACAgQAAxkBAAIB", "file_unique_id": "AgADvoice", "duration": 3,
              "mime_type": "audio/ogg", "file_size": 8200}}}
DOCUMENT = {"update_id": 10015, "message": {
    "message_id": 1372, "from": ANA, "chat": ANA_CHAT, "date": 1441645572,
    "document": {"file_name": "form.pdf", "mime_type": "application/pdf", "file_id": "BQACAgQAAxkBAAIB",
                 "file_unique_id": "AgADdoc", "file_size": 120000}}}
IGNORED = {
    "sticker": {"update_id": 10010, "message": {
        "message_id": 1370, "from": ANA, "chat": ANA_CHAT, "date": 1441645570,
        "sticker": {"file_id": "CAACAgIAAxkBAAIB", "file_unique_id": "AgADsticker", "type": "regular",
                    "width": 512, "height": 512, "is_animated": False, "is_video": False, "emoji": "👍"}}},
    "edited_message": {"update_id": 10012, "edited_message": {
        "message_id": 1365, "from": ANA, "chat": ANA_CHAT, "date": 1441645532, "edit_date": 1441645600,
        "text": "There is a pothole on Main Street, near number 12"}},
    "my_chat_member": {"update_id": 10013, "my_chat_member": {
        "chat": ANA_CHAT, "from": ANA, "date": 1441645610,
        "old_chat_member": {"user": BOT, "status": "member"},
        "new_chat_member": {"user": BOT, "status": "kicked", "until_date": 0}}},
    "group chat": text_update("hello bot", 10014, {"id": -1001234567890, "title": "Neighbours", "type": "supergroup"}),
}


def settings(**changes: Any) -> TelegramSettings:
    values: dict[str, Any] = {"token": TOKEN, "secret_token": SECRET, "api_url": "https://api.telegram.org",
                              "webhook_url": "https://bot.city.example.org/webhooks/telegram/webhook"}
    values.update(changes)
    return TelegramSettings(**values)


class FakeTelegram:
    """Telegram's Bot API and file server, as an httpx MockTransport handler."""

    def __init__(self, files: dict[str, bytes] | None = None, answers: dict[str, tuple[int, Any]] | None = None):
        self.files = files if files is not None else {"photos/file_7.jpg": JPEG}
        self.answers = answers or {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.downloads: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.startswith(f"/file/bot{TOKEN}/"):
            name = path[len(f"/file/bot{TOKEN}/"):]
            self.downloads.append(name)
            if name not in self.files:
                return httpx.Response(404, json={"ok": False, "error_code": 404, "description": "Not Found"})
            return httpx.Response(200, content=self.files[name], headers={"content-type": "application/octet-stream"})
        assert path.startswith(f"/bot{TOKEN}/"), path
        method = path.rsplit("/", 1)[1]
        params = json.loads(request.content or b"{}")
        self.calls.append((method, params))
        default = (200, GET_FILE) if method == "getFile" else (200, {"ok": True, "result": True})
        status, body = self.answers.get(method, default)
        return httpx.Response(status, json=body)

    def sent(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]


class Rasa:
    """Stands in for Rasa's agent: records what the channel passes on and answers every message."""

    def __init__(self) -> None:
        self.messages: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        await message.output_channel.send_response(message.sender_id, {"text": "Thanks, noted."})

    @property
    def texts(self) -> list[str]:
        return [m.text or "" for m in self.messages]


@pytest.fixture
def telegram() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
def media(tmp_path: Path) -> MediaSettings:
    return MediaSettings(media_dir=tmp_path / "media", public_url="https://city.example.org")


@pytest.fixture
def channel(telegram: FakeTelegram, media: MediaSettings) -> TelegramInput:
    return TelegramInput(settings(), transport=httpx.MockTransport(telegram), media_settings=media)


@pytest.fixture
def rasa() -> Rasa:
    return Rasa()


async def webhook_client(channel: TelegramInput, rasa: Rasa) -> httpx.AsyncClient:
    """Rasa's server as far as the channel can tell: a Sanic app with its blueprint where Rasa mounts it."""
    Sanic.test_mode = True
    app = Sanic(f"telegram_{uuid.uuid4().hex}")
    app.blueprint(channel.blueprint(rasa), url_prefix="/webhooks/telegram")
    await app._startup()  # what the ASGI lifespan would do: finalise the routes
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rasa")


async def post(channel: TelegramInput, rasa: Rasa, update: Any, secret: str | None = SECRET,
               content: bytes | None = None) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    async with await webhook_client(channel, rasa) as client:
        body = content if content is not None else json.dumps(update).encode()
        return await client.post(WEBHOOK, content=body, headers=headers)


# ------------------------------------------------------------------------------------------------ incoming


@pytest.mark.anyio
async def test_typed_text_reaches_rasa_as_typed_and_the_answer_goes_back_to_the_chat(channel, rasa, telegram):
    answer = await post(channel, rasa, text_update("There is a pothole on Main Street"))
    assert answer.status_code == 200
    [message] = rasa.messages
    assert message.text == "There is a pothole on Main Street"
    assert message.sender_id == "tg-1111111"
    assert message.input_channel == "telegram"
    assert message.metadata["provider_message_id"] == 1365
    assert message.metadata["update_id"] == 10000 and message.metadata["language_code"] == "es"
    assert telegram.sent("sendMessage") == [{"chat_id": 1111111, "text": "Thanks, noted."}]


@pytest.mark.anyio
async def test_the_start_button_greets_the_bot(channel, rasa):
    await post(channel, rasa, text_update("/start"))
    await post(channel, rasa, text_update("/start campaign-42", update_id=10099))
    assert rasa.texts == ["/greet", "/greet"]


@pytest.mark.anyio
async def test_a_button_press_sends_its_payload_and_stops_the_spinner(channel, rasa, telegram):
    answer = await post(channel, rasa, BUTTON_PRESS)
    assert answer.status_code == 200
    assert rasa.texts == ["/affirm"]
    assert rasa.messages[0].sender_id == "tg-1111111"
    assert rasa.messages[0].metadata["provider_message_id"] == "4382bfdwdsb323b2d9"
    assert telegram.sent("answerCallbackQuery") == [{"callback_query_id": "4382bfdwdsb323b2d9"}]


@pytest.mark.anyio
async def test_a_press_still_counts_when_the_spinner_cannot_be_stopped(channel, rasa, telegram):
    telegram.answers["answerCallbackQuery"] = (400, {"ok": False, "error_code": 400,
                                                     "description": "Bad Request: query is too old"})
    assert (await post(channel, rasa, BUTTON_PRESS)).status_code == 200
    assert rasa.texts == ["/affirm"]


@pytest.mark.anyio
async def test_a_shared_location_becomes_an_inform_with_coordinates(channel, rasa):
    await post(channel, rasa, LOCATION)
    assert rasa.texts == ['/share_location{"latitude": 40.416775, "longitude": -3.70379}']
    assert json.loads(rasa.texts[0][len("/share_location"):]) == {"latitude": 40.416775, "longitude": -3.70379}


@pytest.mark.anyio
async def test_a_photo_is_downloaded_kept_and_followed_by_its_caption(channel, rasa, telegram, media, caplog):
    caplog.set_level(logging.DEBUG)
    answer = await post(channel, rasa, PHOTO)
    assert answer.status_code == 200
    assert telegram.sent("getFile") == [{"file_id": "AgACAgQAAxkBAAIBX2large"}]  # the largest size
    assert telegram.downloads == ["photos/file_7.jpg"]
    photo, caption = rasa.texts
    url = json.loads(photo[len("/share_photo"):])["photo_url"]
    assert photo.startswith("/share_photo")
    assert url.startswith("https://city.example.org/media/") and url.endswith(".jpg")
    assert (media.media_dir / url.rsplit("/", 1)[1]).read_bytes() == JPEG
    assert caption == "Next to the school gate"
    assert TOKEN not in caplog.text and TOKEN.split(":")[1] not in caplog.text
    assert "HTTP Request" in caplog.text  # httpx did log the calls, with the token blanked


@pytest.mark.anyio
@pytest.mark.parametrize("telegram", [
    FakeTelegram(answers={"getFile": (400, {"ok": False, "error_code": 400,
                                            "description": "Bad Request: file is too big"})}),
    FakeTelegram(files={}),  # the file server has lost it
    FakeTelegram(files={"photos/file_7.jpg": b"<html>not an image</html>"}),
    FakeTelegram(files={"photos/file_7.jpg": b"\xff\xd8\xff" + b"x" * (10 * 1024 * 1024)}),  # over 10 MB
])
async def test_a_photo_that_cannot_be_received_lets_the_bot_ask_again(channel, rasa, telegram, caplog):
    answer = await post(channel, rasa, PHOTO)
    assert answer.status_code == 200
    assert rasa.texts == [PHOTO_FAILED, "Next to the school gate"]
    assert "could not be received" in caplog.text and TOKEN not in caplog.text


@pytest.mark.anyio
async def test_an_image_sent_as_a_file_is_kept_like_a_photo(channel, rasa, telegram, media):
    update = {"update_id": 10004, "message": {
        "message_id": 1369, "from": ANA, "chat": ANA_CHAT, "date": 1441645565,
        "document": {"file_id": "BQACAgQAAxkBAAIBdoc", "file_unique_id": "AgADdoc", "file_name": "IMG_2041.jpg",
                     "mime_type": "image/jpeg", "file_size": 81244}}}
    await post(channel, rasa, update)
    assert telegram.sent("getFile") == [{"file_id": "BQACAgQAAxkBAAIBdoc"}]
    [photo] = rasa.texts
    assert json.loads(photo[len("/share_photo"):])["photo_url"].startswith("https://city.example.org/media/")


@pytest.mark.anyio
async def test_a_photo_listed_only_in_sizes_over_the_cap_is_not_downloaded(channel, rasa, telegram):
    update = json.loads(json.dumps(PHOTO))
    update["message"]["photo"] = [{"file_id": "huge", "file_unique_id": "h", "file_size": 11 * 1024 * 1024,
                                   "width": 9000, "height": 9000}]
    del update["message"]["caption"]
    await post(channel, rasa, update)
    assert rasa.texts == [PHOTO_FAILED]
    assert telegram.sent("getFile") == []


@pytest.mark.anyio
@pytest.mark.parametrize("kind", sorted(IGNORED))
async def test_other_kinds_of_update_are_acknowledged_and_ignored(channel, rasa, telegram, kind, caplog):
    caplog.set_level(logging.INFO)
    answer = await post(channel, rasa, IGNORED[kind])
    assert answer.status_code == 200 and answer.json() == {"status": "ignored"}
    assert rasa.messages == [] and telegram.sent("sendMessage") == []
    assert "ignored" in caplog.text


@pytest.mark.anyio
@pytest.mark.parametrize("update", [VOICE, DOCUMENT], ids=["voice", "document"])
async def test_a_voice_note_or_a_document_is_answered_please_type_without_a_turn(channel, rasa, telegram, update):
    answer = await post(channel, rasa, update)
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}
    assert rasa.messages == []  # nothing for Rasa: a form in progress is not disturbed
    [said] = telegram.sent("sendMessage")
    assert said["chat_id"] == 1111111 and "can't listen to voice messages" in said["text"]


@pytest.mark.anyio
async def test_a_numbered_choice_typed_back_means_that_button(channel, rasa, telegram):
    output = channel.get_output_channel()
    assert output is not None
    await output.send_text_with_buttons("tg-1111111", "Which problem?", [
        {"title": "Streetlight out", "payload": LONG_PAYLOAD}, {"title": "Something else", "payload": "/deny"}])
    await post(channel, rasa, text_update(" 1 ", update_id=10100))
    await post(channel, rasa, text_update("1", update_id=10101))  # the list was answered: a plain "1" now
    assert rasa.texts == [LONG_PAYLOAD, "1"]


@pytest.mark.anyio
async def test_a_number_outside_the_list_stays_as_typed_and_the_list_answers_only_the_next_message(channel, rasa):
    output = channel.get_output_channel()
    assert output is not None
    await output.send_text_with_buttons("tg-1111111", "Which problem?", [
        {"title": "Streetlight out", "payload": LONG_PAYLOAD}, {"title": "Something else", "payload": "/deny"}])
    await post(channel, rasa, text_update("3", update_id=10102))
    await post(channel, rasa, text_update("2", update_id=10103))
    assert rasa.texts == ["3", "2"]  # "2" later may be a house number


# ----------------------------------------------------------------------------------------------- security


@pytest.mark.anyio
async def test_an_update_without_the_secret_is_refused(channel, rasa, caplog):
    answer = await post(channel, rasa, text_update("hi"), secret=None)
    assert answer.status_code == 401 and rasa.messages == []
    assert "refused" in caplog.text


@pytest.mark.anyio
async def test_a_forged_update_is_refused_and_the_secret_never_logged(channel, rasa, caplog):
    answer = await post(channel, rasa, text_update("hi"), secret="guessed-" + SECRET)
    assert answer.status_code == 403 and rasa.messages == []
    assert "refused" in caplog.text and SECRET not in caplog.text and "hi" not in caplog.messages


@pytest.mark.anyio
async def test_a_replayed_update_gets_200_but_no_second_turn(channel, rasa, telegram):
    first = await post(channel, rasa, text_update("hello", update_id=555))
    again = await post(channel, rasa, text_update("hello", update_id=555))
    assert first.status_code == again.status_code == 200
    assert again.json() == {"status": "duplicate"}
    assert rasa.texts == ["hello"] and len(telegram.sent("sendMessage")) == 1


def test_only_the_last_ten_thousand_updates_are_remembered(channel):
    assert not any(channel.seen.seen_before(i) for i in range(10_001))
    assert channel.seen.seen_before(10_000) and not channel.seen.seen_before(0)


# -------------------------------------------------------------------------------------------- malformed


@pytest.mark.anyio
@pytest.mark.parametrize("body", [
    b"not json", b"", b"[1, 2]", b'"text"', b'{"message": {"text": "hi"}}', b'{"update_id": "1"}',
    json.dumps({"update_id": 1, "message": "hi"}).encode(),
    json.dumps({"update_id": 1, "message": {"message_id": 1, "text": "hi"}}).encode(),
    json.dumps({"update_id": 1, "message": {"message_id": 1, "chat": {"id": "x"}, "text": "hi"}}).encode(),
    json.dumps({"update_id": 1, "message": {"message_id": 1, "chat": ANA_CHAT, "text": 7}}).encode(),
    json.dumps({"update_id": 1, "message": {"message_id": 1, "chat": ANA_CHAT,
                                            "location": {"latitude": "north", "longitude": 0}}}).encode(),
    json.dumps({"update_id": 1, "message": {"message_id": 1, "chat": ANA_CHAT,
                                            "location": {"latitude": 123.0, "longitude": 0}}}).encode(),
    json.dumps({"update_id": 1, "message": {"message_id": 1, "chat": ANA_CHAT, "photo": []}}).encode(),
    json.dumps({"update_id": 1, "callback_query": {"data": "/affirm"}}).encode(),
    json.dumps({"update_id": 1, "callback_query": {"id": "q", "data": "/affirm", "message": {"text": "x"}}}).encode(),
    b'{"update_id": 1, "message": {"message_id": 1, "chat": {"id": 1, "type": "private"}, "text": "'
    + b"a" * (1024 * 1024) + b'"}}',
])
async def test_a_malformed_body_gets_a_400_with_a_reason(channel, rasa, body):
    answer = await post(channel, rasa, None, content=body)
    assert answer.status_code == 400
    assert answer.json()["detail"]
    assert rasa.messages == []


@pytest.mark.anyio
async def test_a_failing_turn_is_acknowledged_so_telegram_does_not_retry(channel, caplog):
    async def broken(message: UserMessage) -> None:
        raise RuntimeError("the agent fell over")

    telegram_down = TelegramInput(settings(), transport=httpx.MockTransport(
        lambda request: httpx.Response(502, text="Bad Gateway")))
    async with await webhook_client(telegram_down, broken) as client:  # type: ignore[arg-type]
        answer = await client.post(WEBHOOK, json=text_update("hi"),
                                   headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert answer.status_code == 200 and answer.json() == {"status": "failed"}
    assert "could not be handled" in caplog.text and TOKEN not in caplog.text


# ---------------------------------------------------------------------------------------- configuration


@pytest.mark.anyio
async def test_an_unconfigured_channel_loads_and_answers_503(rasa):
    channel = TelegramInput(settings(token="", secret_token=""))
    answer = await post(channel, rasa, text_update("hi"))
    assert answer.status_code == 503 and answer.json() == {"detail": "telegram is not configured"}
    assert channel.get_output_channel() is None and rasa.messages == []


@pytest.mark.anyio
async def test_rasas_server_mounts_the_webhook_where_telegram_is_told_to_post():
    Sanic.test_mode = True
    app = configure_app([TelegramInput(settings(token="", secret_token=""))], enable_api=False)
    await app._startup()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rasa") as client:
        answer = await client.post(WEBHOOK, json=text_update("hi"))
    assert answer.status_code == 503  # found, and honest that it has no token yet


def test_rasa_loads_the_channel_from_credentials_and_the_environment(monkeypatch):
    monkeypatch.setenv("CITYBOT_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("CITYBOT_TELEGRAM_SECRET_TOKEN", SECRET)
    monkeypatch.setenv("CITYBOT_TELEGRAM_API_URL", "http://127.0.0.1:9")
    channel = _create_single_channel("bot.connectors.telegram.TelegramInput", {})
    assert isinstance(channel, TelegramInput) and channel.name() == "telegram"
    assert channel.settings.configured and channel.settings.api_url == "http://127.0.0.1:9"
    output = channel.get_output_channel()  # as the handoff relay asks: no request at hand
    assert isinstance(output, TelegramOutput) and output.name() == "telegram"
    assert TOKEN not in repr(channel.settings) and SECRET not in repr(channel.settings)


# ----------------------------------------------------------------------------- output, against a real server


def standin_settings(standin: ProviderStandIn) -> TelegramSettings:
    return settings(api_url=standin.url, timeout_seconds=5)


def ok(result: Any = True) -> Canned:
    return Canned(json={"ok": True, "result": result})


@pytest.fixture
def standin():
    with ProviderStandIn(default=ok({"message_id": 1})) as server:
        yield server


def bot_api_calls(standin: ProviderStandIn) -> list[tuple[str, dict[str, Any]]]:
    return [(r.path.rsplit("/", 1)[1], r.json()) for r in standin.requests]


@pytest.mark.anyio
async def test_the_output_sends_text_and_native_buttons_to_the_chat(standin):
    output = TelegramOutput(standin_settings(standin))
    pothole = '/report_street_issue{"issue_type": "pothole"}'
    await output.send_response("tg-1111111", {"text": "Is this the right address?", "buttons": [
        {"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"},
        {"title": "Pothole", "payload": pothole}]})
    await output.send_response("tg-1111111", {"image": "https://city.example.org/media/map.png"})
    assert all(r.path.startswith(f"/bot{TOKEN}/") and r.method == "POST" for r in standin.requests)
    assert bot_api_calls(standin) == [
        ("sendMessage", {"chat_id": 1111111, "text": "Is this the right address?", "reply_markup": {
            "inline_keyboard": [[{"text": "Yes", "callback_data": "/affirm"}],
                                [{"text": "No", "callback_data": "/deny"}],
                                [{"text": "Pothole", "callback_data": pothole}]]}}),
        ("sendPhoto", {"chat_id": 1111111, "photo": "https://city.example.org/media/map.png"}),
    ]


@pytest.mark.anyio
async def test_a_custom_response_is_one_bot_api_call_to_the_recipient(standin):
    output = TelegramOutput(standin_settings(standin))
    pin = {"method": "sendLocation", "latitude": 40.4, "longitude": -3.7}
    await output.send_response("tg-1111111", {"custom": pin})
    await output.send_response("tg-1111111", {"custom": {"text": "Plain", "chat_id": 999}})
    assert bot_api_calls(standin) == [
        ("sendLocation", {"latitude": 40.4, "longitude": -3.7, "chat_id": 1111111}),
        ("sendMessage", {"text": "Plain", "chat_id": 1111111}),
    ]


@pytest.mark.anyio
async def test_buttons_whose_payload_is_over_64_bytes_become_a_numbered_list(standin):
    output = TelegramOutput(standin_settings(standin))
    await output.send_text_with_buttons("tg-1111111", "What is the problem?", [
        {"title": "Streetlight out", "payload": LONG_PAYLOAD}, {"title": "Pothole", "payload": "/affirm"}])
    assert len(LONG_PAYLOAD.encode()) > 64
    assert bot_api_calls(standin) == [
        ("sendMessage", {"chat_id": 1111111, "text": "What is the problem?\n\n1. Streetlight out\n2. Pothole"})]
    assert output.choices.resolve("1111111", "1") == LONG_PAYLOAD


@pytest.mark.anyio
async def test_a_long_text_is_split_at_paragraphs_within_telegrams_limit(standin):
    paragraphs = [f"Paragraph {i}. " + "word " * 600 for i in range(4)]
    await TelegramOutput(standin_settings(standin)).send_text_message("tg-1111111", "\n\n".join(p.strip()
                                                                                              for p in paragraphs))
    texts = [params["text"] for _, params in bot_api_calls(standin)]
    assert len(texts) == 4 and all(len(t) <= MAX_TEXT for t in texts)
    assert [t.split(".")[0] for t in texts] == ["Paragraph 0", "Paragraph 1", "Paragraph 2", "Paragraph 3"]


@pytest.mark.anyio
async def test_a_refusal_by_telegram_raises_a_clear_error_without_the_token(standin):
    standin.responses[f"/bot{TOKEN}/sendMessage"] = Canned(status=400, json={
        "ok": False, "error_code": 400, "description": "Bad Request: chat not found"})
    with pytest.raises(TelegramError, match="sendMessage failed: HTTP 400: Bad Request: chat not found") as error:
        await TelegramOutput(standin_settings(standin)).send_text_message("tg-42", "Hello")
    assert TOKEN not in str(error.value)


@pytest.mark.anyio
async def test_an_unreachable_telegram_raises_a_clear_error():
    from stack.processes import free_port

    output = TelegramOutput(settings(api_url=f"http://127.0.0.1:{free_port()}", timeout_seconds=2))
    with pytest.raises(TelegramError, match="cannot reach") as error:
        await output.send_text_message("tg-42", "Hello")
    assert TOKEN not in str(error.value)


@pytest.mark.anyio
async def test_the_webhook_downloads_a_photo_from_a_real_file_server(standin, media, rasa):
    standin.responses[f"/bot{TOKEN}/getFile"] = Canned(json=GET_FILE)
    standin.responses[f"/file/bot{TOKEN}/photos/file_7.jpg"] = Canned(body=JPEG, content_type="image/jpeg")
    channel = TelegramInput(standin_settings(standin), media_settings=media)
    assert (await post(channel, rasa, PHOTO)).status_code == 200
    url = json.loads(rasa.texts[0][len("/share_photo"):])["photo_url"]
    assert (media.media_dir / url.rsplit("/", 1)[1]).read_bytes() == JPEG and TOKEN not in url
    assert standin.paths()[:2] == [f"/bot{TOKEN}/getFile", f"/file/bot{TOKEN}/photos/file_7.jpg"]
    replies = [r.json() for r in standin.requests if r.path.endswith("/sendMessage")]
    assert replies == [{"chat_id": 1111111, "text": "Thanks, noted."}] * 2


# ------------------------------------------------------------------------------------- webhook command


def test_set_webhook_registers_the_url_and_secret_and_prints_telegrams_answer(standin, capsys):
    standin.responses[f"/bot{TOKEN}/setWebhook"] = Canned(json={"ok": True, "result": True,
                                                                "description": "Webhook was set"})
    assert main(["set-webhook"], settings=standin_settings(standin)) == 0
    assert bot_api_calls(standin) == [("setWebhook", {
        "url": "https://bot.city.example.org/webhooks/telegram/webhook", "secret_token": SECRET,
        "allowed_updates": ["message", "callback_query"], "drop_pending_updates": False})]
    assert json.loads(capsys.readouterr().out)["description"] == "Webhook was set"


def test_webhook_info_and_delete_webhook_print_telegrams_answer(standin, capsys):
    info = {"url": "https://bot.city.example.org/webhooks/telegram/webhook", "has_custom_certificate": False,
            "pending_update_count": 2, "last_error_date": 1441645600, "last_error_message": "Connection refused",
            "max_connections": 40, "allowed_updates": ["message", "callback_query"]}
    standin.responses[f"/bot{TOKEN}/getWebhookInfo"] = Canned(json={"ok": True, "result": info})
    assert main(["webhook-info"], settings=standin_settings(standin)) == 0
    assert json.loads(capsys.readouterr().out)["result"]["pending_update_count"] == 2
    assert main(["delete-webhook"], settings=standin_settings(standin)) == 0
    assert bot_api_calls(standin)[-1] == ("deleteWebhook", {"drop_pending_updates": False})


def test_set_webhook_fails_with_a_clear_message_when_telegram_refuses(standin, capsys):
    standin.responses[f"/bot{TOKEN}/setWebhook"] = Canned(status=400, json={
        "ok": False, "error_code": 400, "description": "Bad Request: bad webhook: HTTPS url must be provided"})
    assert main(["set-webhook"], settings=standin_settings(standin)) == 1
    err = capsys.readouterr().err
    assert "setWebhook failed" in err and "HTTPS url must be provided" in err and TOKEN not in err


@pytest.mark.parametrize("changes, message", [
    ({"token": ""}, "CITYBOT_TELEGRAM_TOKEN"),
    ({"secret_token": "has spaces and !"}, "CITYBOT_TELEGRAM_SECRET_TOKEN"),
    ({"webhook_url": ""}, "CITYBOT_TELEGRAM_WEBHOOK_URL"),
    ({"webhook_url": "http://bot.city.example.org/webhooks/telegram/webhook"}, "https"),
])
def test_set_webhook_explains_a_missing_setting(changes, message, capsys):
    assert main(["set-webhook"], settings=settings(**changes)) == 1
    assert message in capsys.readouterr().err
