"""Whole conversations in Spanish and French, and switching language, against the real servers."""

from __future__ import annotations

import re

import httpx
import pytest

from open311.store import RequestStore
from tests.e2e.conftest import Chat

pytestmark = pytest.mark.e2e

REQUEST_ID = re.compile(r"SR-[0-9A-Z]{8}")


def tracker(stack, chat: Chat) -> dict:
    base = stack.settings.rasa_public_url()
    response = httpx.get(
        f"{base}/conversations/{chat.sender}/tracker", params={"token": stack.settings.rasa_token()}, timeout=10
    )
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def test_a_whole_pothole_report_in_spanish(chat, stack):
    assert "¿Dónde está el problema?" in chat.texts("hola, quiero reportar un bache en mi calle")
    assert "no logré ubicar ese lugar" in chat.texts("aquí")  # validated, and said, in Spanish
    assert "Describa el problema" in chat.texts("calle Main 120, frente a la farmacia")
    assert "¿De qué tamaño es?" in chat.texts("está muy hondo, ya se poncharon dos llantas ahí")
    assert "¿Está en un carril" in chat.texts("Más grande que una llanta de auto")
    assert "foto" in chat.texts("Sí")
    summary = chat.texts("omitir")
    assert "Revise su reporte" in summary and "Bache" in summary and "calle Main 120" in summary
    filed = chat.texts("/affirm")
    assert "Su reporte quedó registrado" in filed
    request_id = REQUEST_ID.search(filed).group(0)  # type: ignore[union-attr]
    stored = RequestStore.from_url(stack.settings.database_url).get(request_id)
    assert stored is not None
    assert (stored.service_code, stored.media_url) == ("pothole", None)
    assert stored.description == "está muy hondo, ya se poncharon dos llantas ahí"

    status = chat.texts(f"cuál es el estado de {request_id}")
    assert f"La solicitud {request_id}" in status and "abierta" in status and "Bache" in status


def test_a_whole_pothole_report_in_french(chat, stack):
    assert "Où se trouve le problème" in chat.texts("bonjour, je voudrais signaler un nid-de-poule dans ma rue")
    assert "Décrivez le problème" in chat.texts("devant la bibliothèque centrale")
    assert "Quelle est sa taille" in chat.texts("il est très profond, deux voitures ont déjà crevé")
    assert "Est-il sur une voie" in chat.texts("2")
    assert "photo" in chat.texts("Non, sur le côté ou l'accotement")
    summary = chat.texts("https://photos.example.org/trou.jpg")
    assert "Vérifiez votre signalement" in summary and "Nid-de-poule" in summary
    filed = chat.texts("/affirm")
    assert "Votre signalement est enregistré" in filed
    request_id = REQUEST_ID.search(filed).group(0)  # type: ignore[union-attr]
    stored = RequestStore.from_url(stack.settings.database_url).get(request_id)
    assert stored is not None and stored.service_code == "pothole"
    assert stored.address_string == "devant la bibliothèque centrale"


def test_short_messages_keep_the_language_and_each_turn_records_it(chat, stack):
    assert "¿Dónde está el problema?" in chat.texts("buenas tardes, hay un bache enorme en la avenida")
    chat.texts("/cancel")
    for short in ("ok", "SR-7K3M9Q2X", "👍", "taxi"):
        chat.say(short)
    events = tracker(stack, chat)["events"]
    turns: list[dict] = []  # per user message: the slots set before the next one
    for event in events:
        if event["event"] == "user":
            turns.append({"user": event})
        elif event["event"] == "slot" and turns and event["name"] in ("language", "language_confidence"):
            turns[-1][event["name"]] = event["value"]
    assert len(turns) == 6
    assert all(turn.get("language") == "es" for turn in turns), turns  # recorded on every turn
    assert all(0.0 <= turn["language_confidence"] <= 1.0 for turn in turns)
    assert turns[0]["language_confidence"] > 0.5
    assert turns[0]["user"]["parse_data"]["language_detection"]["language"] == "es"


def test_an_explicit_request_switches_even_inside_a_form(chat):
    assert "Where is it?" in chat.texts("I need to report a broken street light")
    switched = chat.texts("en español por favor")
    assert "seguimos en español" in switched and "¿Dónde está el problema?" in switched
    assert "Describa el problema" in chat.texts("Oak Avenue y 5th Street")
    back = chat.texts("in English please")
    assert "continue in English" in back and "describe the problem" in back


def test_a_longer_message_in_another_language_switches(chat):
    assert "Where is it?" in chat.texts("there's a pothole on my street")
    assert "Décrivez le problème" in chat.texts("il est au coin de la rue Oak et de la 5e avenue")


def test_renewal_dates_are_read_and_written_in_french(chat):
    reply = chat.texts("je dois renouveler mon permis de conduire, il expire le 15 mars 2027")
    assert "Permis de conduire" in reply and "45,00" not in reply
    assert "expire le 15 mars 2027" in reply


def test_a_renewal_date_is_asked_and_validated_in_french(chat):
    asked = chat.texts("bonjour, je voudrais renouveler mon permis de stationnement")
    assert "Quand votre document actuel expire" in asked, asked
    assert "Je n'ai pas reconnu de date" in chat.texts("bientôt je pense")
    assert "expire le 1 décembre 2026" in chat.texts("le 1er décembre 2026")


def test_faq_answer_in_spanish(chat):
    messages = chat.say("¿a qué hora abre el ayuntamiento?")
    reply = "\n".join(m.get("text", "") for m in messages)
    if "Más información" not in reply:  # close candidates: offered as buttons, titled in Spanish
        assert "¿Cuál busca?" in reply, reply
        offered = {b["payload"]: b["title"] for m in messages for b in m.get("buttons", [])}
        payload = '/faq{"faq_id": "general-city-hall-hours"}'
        assert payload in offered and "Hablar con una persona" in offered.values()
        reply = chat.texts(payload)
    assert "Más información" in reply and "City Hall" in reply, reply


def test_language_buttons_switch(chat):
    chat.say("hello")
    reply = chat.texts('/change_language{"language": "fr"}')
    assert "continuons en français" in reply
    assert "Bonjour" in chat.texts("salut")


def test_an_address_in_the_first_message_is_not_asked_again(chat, stack):
    reply = chat.texts("hay un bache enorme en la calle Main 120")
    assert "Describa el problema" in reply and "¿Dónde está" not in reply
    chat.texts("es profundo y está lleno de agua")
    chat.texts("1")
    chat.texts("No, está a un lado o en el acotamiento")
    summary = chat.texts("omitir")
    assert "calle Main 120" in summary
