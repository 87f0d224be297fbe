"""Telegram, WhatsApp Cloud API and WhatsApp via Twilio, inside the real Rasa server, action server and web app.

Each provider's API is stood in on 127.0.0.1 (tests/e2e/citizens.py); webhooks are posted
as the providers post them, and the bot's replies are read from what the stand-in was sent.
The same conversations over the web chat are in test_rest_conversations.py, test_handoff_e2e.py,
test_triage_e2e.py and the browser tests.
"""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest

from bot.connectors.twilio import twilio_signature
from tests.e2e.citizens import (
    CHANNELS,
    JPEG,
    TELEGRAM_SECRET,
    TWILIO_TOKEN,
    WHATSAPP_VERIFY,
    Citizen,
    Providers,
    Reply,
    TelegramCitizen,
    TwilioCitizen,
    WhatsAppCitizen,
    fresh_number,
    hub_signature,
)
from tests.e2e.conftest import Console
from tests.e2e.test_handoff_e2e import wait_until
from tests.e2e.test_rest_conversations import REQUEST_ID

pytestmark = pytest.mark.e2e

# A different place per channel, so that no report is offered to join another's (50 m).
PLACES = {"telegram": (40.7301, -73.995), "whatsapp": (40.7411, -73.9897), "twilio_whatsapp": (40.7527, -73.9772)}


@pytest.fixture(params=list(CHANNELS))
def citizen(request: pytest.FixtureRequest, stack, providers: Providers) -> Citizen:
    return CHANNELS[request.param](stack, providers)


def joined(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def titles(replies: list[Reply]) -> list[str]:
    return [title for r in replies for title, _ in r.buttons]


def rasa_log(stack) -> str:
    return (stack.settings.var_dir / "logs" / "rasa.log").read_text(errors="replace")


# --------------------------------------------------------------------------------- whole conversations


def test_a_pothole_report_with_a_pin_and_a_photo_is_filed_and_its_closing_told_on_the_same_app(citizen, stack):
    greeting = citizen.say("hello")
    assert "Hello" in joined(greeting) and "Report a street problem" in titles(greeting)
    shown = {TelegramCitizen: {"keyboard"}, WhatsAppCitizen: {"list"}, TwilioCitizen: {"numbered"}}[type(citizen)]
    assert greeting[-1].kind in shown  # each app shows the five choices its own way

    assert "What would you like to report?" in joined(citizen.choose("Report a street problem"))
    where = joined(citizen.choose("Pothole"))
    assert "Where is it?" in where and "Share your location" in where
    latitude, longitude = PLACES[citizen.channel]
    assert "describe the problem" in joined(citizen.pin(latitude, longitude))
    size = citizen.say("a deep hole by the bus stop")
    assert "How big is it?" in joined(size)
    assert titles(size) == ["Smaller than a dinner plate", "About the size of a car tyre", "Bigger than a car tyre"]
    assert "in a lane" in joined(citizen.choose("Bigger than a car tyre"))
    assert "send a photo of it here" in joined(citizen.choose("Yes"))

    summary = joined(citizen.photo())
    assert "Pothole" in summary and "Bigger than a car tyre" in summary
    assert f"{latitude:.5f}, {longitude:.5f}" in summary
    photo = re.search(rf"{re.escape(stack.settings.web_url())}/media/[\w-]+\.jpg", summary)
    assert photo, summary
    filed = joined(citizen.choose("Yes, file it"))
    request_id = REQUEST_ID.search(filed)
    assert request_id and "Keep this number" in filed, filed

    # The city's systems see the pin and the photo through Open311, and can open the photo.
    served = httpx.get(f"{stack.settings.open311_url()}/requests/{request_id.group(0)}.json", timeout=10).json()[0]
    assert (served["lat"], served["long"], served["media_url"]) == (latitude, longitude, photo.group(0))
    picture = httpx.get(served["media_url"], timeout=10)
    assert picture.status_code == 200 and picture.content == JPEG

    # The back office closes it: the citizen is told on the app they used.
    closed = httpx.post(f"{stack.settings.open311_url()}/requests/{request_id.group(0)}/status.json",
                        data={"api_key": stack.settings.open311_keys()[1], "status": "closed",
                              "status_notes": "Filled on Tuesday."}, timeout=10)
    assert closed.status_code == 200, closed.text
    told = citizen.pushed(lambda r: request_id.group(0) in r.text and "closed" in r.text)
    assert "Filled on Tuesday." in told.text


def test_a_photo_or_a_pin_sent_before_the_question_is_kept_for_the_report(citizen, stack):
    started = joined(citizen.photo("pothole"))  # a photo with its caption, the way most citizens begin
    assert "I have your photo" in started and "Where is it?" in started
    address = {"telegram": "15 Juniper Court", "whatsapp": "27 Juniper Court", "twilio_whatsapp": "39 Juniper Court"}
    assert "describe the problem" in joined(citizen.say(address[citizen.channel]))
    assert "How big is it?" in joined(citizen.say("a deep hole in the middle of the road"))
    assert "in a lane" in joined(citizen.choose("About the size of a car tyre"))
    summary = joined(citizen.choose("No, at the side or on the shoulder"))  # the photo is not asked for again
    photo = re.search(rf"{re.escape(stack.settings.web_url())}/media/[\w-]+\.jpg", summary)
    assert "Please check your report" in summary and photo, summary
    request_id = REQUEST_ID.search(joined(citizen.choose("Yes, file it")))
    assert request_id
    served = httpx.get(f"{stack.settings.open311_url()}/requests/{request_id.group(0)}.json", timeout=10).json()[0]
    assert (served["address"], served["media_url"]) == (address[citizen.channel], photo.group(0))

    pinned = type(citizen)(citizen.stack, citizen.providers)
    started = joined(pinned.pin(40.6, -73.9))
    assert "I have the location" in started and "What would you like to report?" in started
    assert "describe the problem" in joined(pinned.choose("Street light out"))  # where it is: known already


def test_the_bot_answers_in_the_citizens_language_and_an_emergency_gets_advice_at_once(citizen):
    where = joined(citizen.say("hola, quiero reportar un bache en mi calle"))
    assert "¿Dónde está el problema?" in where and "Comparta su ubicación" in where
    emergency = joined(citizen.say("hay cables de luz caídos en la calle echando chispas"))
    assert "Llame ya al 911" in emergency and "cable" in emergency  # not taken as the answer to "where?"

    other = type(citizen)(citizen.stack, citizen.providers)
    where = joined(other.say("bonjour, je voudrais signaler un nid-de-poule dans ma rue"))
    assert "Où se trouve le problème" in where and "Partagez votre position" in where


def test_a_voice_note_is_answered_in_the_citizens_language_and_the_report_goes_on(citizen):
    assert "¿Dónde está el problema?" in joined(citizen.say("hola, quiero reportar un bache en mi calle"))
    said = joined(citizen.voice())
    assert "no puedo escuchar mensajes de voz" in said and "¿Dónde está" not in said  # no turn: no re-ask
    assert "Describa el problema" in joined(citizen.say("calle Main 120, frente a la farmacia"))


def test_an_agents_replies_and_the_return_to_the_bot_reach_the_citizen_on_their_app(citizen, stack):
    queued = joined(citizen.say("I want to talk to a person"))
    assert "You are number" in queued and "city's team" in queued
    ana = Console(stack, "ana")
    handoff = wait_until(lambda: ana.handoff_of(citizen.conversation_id), what="the handoff")
    detail = ana.detail(handoff["reference"])
    assert detail["packet"]["channel"] == citizen.channel

    assert ana.post(handoff["reference"], "claim").status_code == 200
    sent = ana.post(handoff["reference"], "messages", text="Hello, this is Ana from the city. How can I help?")
    assert sent.json()["delivery"] == "sent"
    citizen.pushed(lambda r: r.text == "Ana (city team): Hello, this is Ana from the city. How can I help?")

    assert citizen.say("There is a huge pothole on Elm Street") == []  # to the agent; the bot is silent
    wait_until(lambda: any(m["text"] == "There is a huge pothole on Elm Street"
                           for m in ana.detail(handoff["reference"])["messages"]), what="the relayed message")

    assert ana.post(handoff["reference"], "resolve").json()["status"] == "resolved"
    citizen.pushed(lambda r: "You're back with the virtual assistant" in r.text)
    assert "Hello" in joined(citizen.say("hello"))  # the bot answers again


# ------------------------------------------------------------------------ refused and ignored webhooks


def test_telegram_refuses_a_missing_or_wrong_secret_and_a_replay_and_ignores_what_it_does_not_read(stack, providers):
    citizen = TelegramCitizen(stack, providers)
    update = {"update_id": fresh_number(), "message": citizen.message(text="hello")}
    assert citizen.post(update, secret=None).status_code == 401
    assert citizen.post(update, secret=TELEGRAM_SECRET[:-1] + "x").status_code == 403
    assert citizen.replies() == []  # no turn for a refused update
    assert "wrong secret token was refused" in rasa_log(stack)

    assert citizen.post(update).status_code == 200 and citizen.replies()
    replay = citizen.post(update)
    assert replay.json() == {"status": "duplicate"} and citizen.replies() == []

    for body in (b"{not json", b"[1, 2]", bytes(range(256)), json.dumps({"update_id": "x"}).encode()):
        answer = httpx.post(citizen.webhook, content=body, timeout=10,
                            headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
        assert answer.status_code == 400, (body, answer.text)
    group = {"update_id": fresh_number(), "message": {**citizen.message(text="hello"),
                                                   "chat": {"id": -100123, "title": "Street", "type": "group"}}}
    sticker = {"update_id": fresh_number(), "message": {**citizen.message(), "sticker": {"file_id": "s"}}}
    assert citizen.post(group).json() == {"status": "ignored"} and citizen.post(sticker).json() == {"status": "ignored"}
    assert citizen.replies() == []


def test_whatsapp_checks_the_handshake_and_every_signature_refuses_replays_and_ignores_receipts(stack, providers):
    citizen = WhatsAppCitizen(stack, providers)
    handshake = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": WHATSAPP_VERIFY}
    verified = httpx.get(citizen.webhook, params=handshake, timeout=10)
    assert verified.status_code == 200 and verified.text == "1158201444"
    assert httpx.get(citizen.webhook, params={**handshake, "hub.verify_token": "guess"}, timeout=10).status_code == 403

    body = citizen.message_body("text", {"body": "hello"}, message_id="wamid.e2e-replay-" + str(time.time_ns()))
    assert citizen.post(body, signature="").status_code == 401
    assert citizen.post(body, signature=hub_signature(body, "not-the-app-secret")).status_code == 403
    assert citizen.post(body, signature=hub_signature(body + b" ")).status_code == 403
    assert citizen.replies() == []
    assert "refused a webhook call with a forged X-Hub-Signature-256" in rasa_log(stack)

    assert citizen.post(body).status_code == 200 and citizen.replies()
    assert citizen.post(body).status_code == 200 and citizen.replies() == []  # Meta's retry: no second turn

    receipt = json.dumps(citizen.envelope({"statuses": [{
        "id": "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5", "status": "read", "timestamp": str(int(time.time())),
        "recipient_id": citizen.wa_id}]})).encode()
    assert citizen.post(receipt).status_code == 200 and citizen.replies() == []
    for malformed in (b"{not json", b'{"object": "page"}', b'{"object": "whatsapp_business_account", "entry": 5}'):
        assert citizen.post(malformed).status_code == 400


def test_twilio_refuses_unsigned_forged_and_replayed_messages_and_ignores_status_callbacks(stack, providers):
    citizen = TwilioCitizen(stack, providers)
    fields = citizen.fields(Body="hello")
    assert citizen.post(fields, signature="").status_code == 403
    assert citizen.post(fields, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    tampered = {**fields, "Body": "hello, and also something else"}
    signed_for_the_original = twilio_signature(citizen.webhook, {k: [v] for k, v in fields.items()}, TWILIO_TOKEN)
    assert citizen.post(tampered, signature=signed_for_the_original).status_code == 403
    assert citizen.replies() == []
    assert "refused a twilio_whatsapp webhook call with a bad signature" in rasa_log(stack)

    assert citizen.post(fields).status_code == 200 and citizen.replies()
    assert citizen.post(fields).status_code == 200 and citizen.replies() == []  # Twilio's retry: no second turn

    status = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered", "AccountSid": fields["AccountSid"],
              "From": fields["To"], "To": fields["From"], "ApiVersion": "2010-04-01"}
    assert citizen.post(status).status_code == 200 and citizen.replies() == []
    not_a_form = httpx.post(citizen.webhook, content=b'{"Body": "hi"}', timeout=10,
                            headers={"Content-Type": "application/json", "X-Twilio-Signature": "x"})
    assert not_a_form.status_code == 400
