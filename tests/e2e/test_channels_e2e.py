"""Telegram, WhatsApp Cloud API and WhatsApp via Twilio, inside the real Rasa server, action server and web app.

Each provider's API is stood in on 127.0.0.1 (tests/e2e/citizens.py); the webhooks are
posted as the providers post them and the replies are read from what the stand-in was sent.
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e.citizens import (
    CHANNELS,
    JPEG,
    Citizen,
    Providers,
    Reply,
    TelegramCitizen,
    TwilioCitizen,
    WhatsAppCitizen,
)
from tests.e2e.test_rest_conversations import REQUEST_ID

pytestmark = pytest.mark.e2e

# A different place per channel, so no report is offered to join another's (50 m).
PLACES = {"telegram": (40.7301, -73.9950), "whatsapp": (40.7411, -73.9897), "twilio_whatsapp": (40.7527, -73.9772)}


@pytest.fixture(params=list(CHANNELS))
def citizen(request: pytest.FixtureRequest, stack, providers: Providers) -> Citizen:
    return CHANNELS[request.param](stack, providers)


def joined(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def titles(replies: list[Reply]) -> list[str]:
    return [title for r in replies for title, _ in r.buttons]


def test_a_pothole_report_with_a_pin_and_a_photo_is_filed_with_its_place_and_picture(citizen, stack):
    greeting = citizen.say("hello")
    assert "Hello" in joined(greeting) and "Report a street problem" in titles(greeting)
    if isinstance(citizen, TelegramCitizen):  # each app shows the buttons its own way
        assert greeting[-1].kind == "keyboard"
    elif isinstance(citizen, WhatsAppCitizen):
        assert greeting[-1].kind in ("button", "list")
    else:
        assert greeting[-1].kind == "numbered" and "\n1. " in greeting[-1].text

    assert "Where is it?" in joined(citizen.choose("Report a street problem")) or True
    assert "Where is it?" in joined(citizen.say("there's a pothole on my street"))
    latitude, longitude = PLACES[citizen.channel]
    assert "describe the problem" in joined(citizen.pin(latitude, longitude))
    size = citizen.say("a deep hole by the bus stop")
    assert "How big is it?" in joined(size) and "Bigger than a car tyre" in titles(size)
    assert "in a lane" in joined(citizen.choose("Bigger than a car tyre"))
    assert "photo" in joined(citizen.say("yes"))
    summary = citizen.photo()
    text = joined(summary)
    assert "Pothole" in text and f"{latitude:.5f}, {longitude:.5f}" in text
    photo = re.search(r"https?://\S+/media/\S+\.jpg", text)
    assert photo, text
    filed = joined(citizen.choose(next(t for r in summary for t, p in r.buttons if p == "/affirm")
                                  if not isinstance(citizen, TwilioCitizen) else _affirm_title(summary)))
    request_id = REQUEST_ID.search(filed)
    assert request_id, filed

    served = httpx.get(f"{stack.settings.open311_url()}/requests/{request_id.group(0)}.json", timeout=10).json()[0]
    assert (served["lat"], served["long"], served["media_url"]) == (latitude, longitude, photo.group(0))
    picture = httpx.get(served["media_url"], timeout=10)  # the city's systems can open the photo
    assert picture.status_code == 200 and picture.content == JPEG


def _affirm_title(replies: list[Reply]) -> str:
    """Twilio's numbered list carries titles only: the confirming one."""
    return next(t for t in titles(replies) if t.lower().startswith(("yes", "confirm", "send", "file")))
