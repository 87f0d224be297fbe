"""Whole conversations over the REST channel against the real servers."""

from __future__ import annotations

import re

import httpx
import pytest

from handoff.store import HandoffStore
from open311.store import RequestStore
from tests.e2e.conftest import Chat

pytestmark = pytest.mark.e2e

REQUEST_ID = re.compile(r"SR-[0-9A-Z]{8}")


def buttons(messages: list[dict]) -> list[str]:
    return [b["payload"] for m in messages for b in m.get("buttons", [])]


def file_pothole(chat: Chat, where: str = "120 Main Street") -> str:
    """Report a pothole and return its id (a place nobody reported before: no duplicate offer)."""
    assert "Where is it?" in chat.texts("there's a pothole on my street")
    assert "describe the problem" in chat.texts(where)
    size = chat.say("deep hole, about a foot wide")  # then the service definition's questions
    assert "How big is it?" in size[0]["text"] and "Bigger than a car tyre" in [b["title"] for b in size[0]["buttons"]]
    assert "in a lane" in chat.texts("Bigger than a car tyre")
    assert "photo" in chat.texts("yes")
    summary = chat.say("https://photos.example.org/hole.jpg")
    assert "Pothole" in summary[0]["text"] and where in summary[0]["text"]
    assert "/affirm" in buttons(summary)
    filed = chat.texts("/affirm")
    match = REQUEST_ID.search(filed)
    assert match, filed
    return match.group(0)


def test_pothole_report_is_filed_stored_and_its_status_answered(chat, stack):
    request_id = file_pothole(chat, where="120 Main Street")
    stored = RequestStore.from_url(stack.settings.database_url).get(request_id)
    assert stored is not None
    assert (stored.service_code, stored.address_string, stored.status) == ("pothole", "120 Main Street", "open")
    # The city's systems see it through Open311 GeoReport v2.
    open311 = httpx.get(f"{stack.settings.open311_url()}/requests.json", timeout=10).json()
    mine = [r for r in open311 if r["service_request_id"] == request_id]
    assert mine and (mine[0]["service_code"], mine[0]["address"], mine[0]["status"]) == (
        "pothole", "120 Main Street", "open")
    assert mine[0]["description"] == "deep hole, about a foot wide"
    assert stored.description == "deep hole, about a foot wide"
    assert stored.media_url == "https://photos.example.org/hole.jpg"

    status = chat.texts(f"what's the status of {request_id.lower()}?")
    assert request_id in status and "open" in status
    assert "couldn't find" in chat.texts("status of SR-ZZZZZZZZ")


def test_vague_place_is_asked_again_and_the_report_can_be_corrected(chat):
    assert "Where is it?" in chat.texts("I want to report a broken street light")
    assert "couldn't tell where" in chat.texts("here")
    chat.say("Oak Avenue and 5th Street")
    assert "What is wrong with the light?" in chat.texts("the light is completely dark at night")
    assert "pole" in chat.texts("It is out")
    chat.say("/skip")  # no pole number: optional
    summary = chat.texts("/skip")
    assert "Street light out" in summary and "Oak Avenue and 5th Street" in summary
    assert "Where is it?" in chat.texts("/deny")
    chat.say("Oak Avenue and 6th Street")
    chat.say("dark since Monday")
    chat.say("1")
    chat.say("/skip")
    assert "6th Street" in chat.texts("/skip")
    assert REQUEST_ID.search(chat.texts("/affirm"))


def test_report_can_be_cancelled(chat):
    chat.say("report a pothole")
    assert "cancelled" in chat.texts("cancel")
    assert "Hello" in chat.texts("hi")


def test_renewal_with_expiry_date_says_whether_it_can_be_renewed(chat):
    reply = chat.texts("my parking permit expires on 2026-12-01, can I renew now?")
    assert "Residential parking permit" in reply and "$35.00" in reply
    assert "expires on December 1, 2026" in reply


def test_renewal_asks_what_and_when(chat):
    assert "/renewal_info" in str(buttons(chat.say("I need to renew something")))
    assert "expire" in chat.texts('/renewal_info{"renewal_type": "vehicle_registration"}')
    reply = chat.texts("/skip")
    assert "Vehicle registration" in reply and "$68.00" in reply


def test_outage_known_and_unknown_areas(chat):
    known = chat.texts("is there a power outage in 94110")
    assert "Riverside" in known and "Estimated restoration" in known
    assert "Which neighbourhood" in chat.texts("my power is out")
    none = chat.say("Lakeside")
    assert "don't see any known power outage for Lakeside" in none[0]["text"]
    report = [p for p in buttons(none) if "power_outage" in p]
    assert report
    assert "Where is it?" in chat.texts(report[0])


def test_two_misunderstandings_hand_the_conversation_to_a_person(chat, stack):
    first = chat.say("blorp fizzle wug")
    assert "not sure I understood" in first[0]["text"]
    second = chat.texts("asdf qwerty zxcv")
    assert "still not understanding you" in second and "in the queue" in second
    reference = re.search(r"H-[0-9A-Z]{6}", second)
    assert reference
    queued = HandoffStore.from_url(stack.settings.handoff_database_url).get(reference.group(0))
    assert (queued.conversation_id, queued.reason, queued.status) == (chat.sender, "not_understood", "waiting")


def test_greeting_help_thanks_goodbye(chat):
    assert "/report_street_issue" in buttons(chat.say("hello"))
    assert "/outage_status" in buttons(chat.say("help"))
    assert "welcome" in chat.texts("thanks!")
    assert "Goodbye" in chat.texts("bye")


@pytest.mark.parametrize(
    "text, answer",
    [
        ("", "didn't receive any text"),
        ("   \n\t  ", "didn't receive any text"),
        ("👍🎉🙂", "only read words"),
        ("x" * 10_000, "too long"),
        ("\x00\x07\x1b", "didn't receive any text"),
    ],
)
def test_messages_without_words_get_a_polite_answer(chat, text, answer):
    assert answer in chat.texts(text)


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"{not json", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b'{"message": "hi"}', "application/json"),
        (b'{"sender": "", "message": "hi"}', "application/json"),
        (b'{"sender": "a", "message": {"x": 1}}', "application/json"),
        (b'{"sender": "' + b"a" * 500 + b'", "message": "hi"}', "application/json"),
        (bytes(range(256)), "application/octet-stream"),
    ],
)
def test_malformed_requests_get_a_4xx_and_the_server_keeps_serving(stack, chat, body, content_type):
    url = f"{stack.settings.rasa_public_url()}/webhooks/rest/webhook"
    response = httpx.post(url, content=body, headers={"Content-Type": content_type}, timeout=30)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert "Hello" in chat.texts("hi")


def test_rasa_http_api_needs_the_token(stack, chat):
    chat.say("hi")
    base = stack.settings.rasa_public_url()
    assert httpx.get(f"{base}/conversations/{chat.sender}/tracker", timeout=10).status_code == 401
    token = stack.settings.rasa_token()
    ok = httpx.get(f"{base}/conversations/{chat.sender}/tracker", params={"token": token}, timeout=10)
    assert ok.status_code == 200


def test_a_location_pin_and_a_photo_file_the_request_with_coordinates_and_media(chat, stack):
    """What the WhatsApp and Telegram channels send for a pin and a photo (bot/connectors/)."""
    assert "Where is it?" in chat.texts("there's a pothole on my street")
    assert "describe the problem" in chat.texts('/share_location{"latitude": 40.712776, "longitude": -74.005974}')
    chat.say("a deep hole by the bus stop")
    chat.say("1")
    chat.say("no")
    photo = f"{stack.settings.web_url()}/media/e2e-photo.jpg"
    summary = chat.texts(f'/share_photo{{"photo_url": "{photo}"}}')
    assert "40.71278, -74.00597" in summary and photo in summary
    request_id = REQUEST_ID.search(chat.texts("/affirm")).group(0)  # type: ignore[union-attr]
    served = httpx.get(f"{stack.settings.open311_url()}/requests/{request_id}.json", timeout=10).json()[0]
    assert (served["lat"], served["long"], served["media_url"]) == (40.712776, -74.005974, photo)
