"""The conversation's language after each message, and actions answering in it."""

from __future__ import annotations

from datetime import date

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import is_skip_word
from actions.formats import format_date, format_number, language_name
from actions.language import ActionSetLanguage, current_language, language_after
from actions.reports import looks_like_location
from actions.responses import response_text
from bot.dates import find_date
from bot.language import LanguageConfig
from open311.services import ServiceCatalogue
from tests.conftest import make_tracker

pytestmark = pytest.mark.anyio

CONFIG = LanguageConfig.from_file()
TODAY = date(2026, 11, 22)


def message(language: str | None, confidence: float, words: int, requested: str | None = None) -> dict:
    detection = {"language": language, "confidence": confidence, "words": words, "requested": requested}
    return {"text": "...", "language_detection": detection, "entities": []}


@pytest.mark.parametrize(
    "parse, current, expected, reason",
    [
        (message("es", 0.95, 6), None, "es", "detected"),  # a confident first message sets it
        (message("es", 0.30, 6), None, "en", "default"),  # an unsure first message: the default
        (message("fr", 0.99, 1), "es", "es", "kept"),  # "merci" alone does not switch
        (message("fr", 0.90, 7), "es", "fr", "detected"),  # a real sentence in French does
        (message(None, 0.0, 0), "fr", "fr", "kept"),  # "SR-7K3M9Q2X", "👍", "94110"
        (message("es", 0.99, 5, requested="en"), "es", "en", "requested"),  # "in English please"
        ({"text": "/affirm", "entities": []}, "fr", "fr", "kept"),  # a button says nothing
        ({"text": "/change_language", "entities": [{"entity": "language", "value": "fr"}]}, "en", "fr", "requested"),
        ({"text": "/change_language", "entities": [{"entity": "language", "value": "xx"}]}, "es", "es", "kept"),
    ],
)
def test_language_after_a_message(parse, current, expected, reason):
    decision = language_after(parse, current, CONFIG)
    assert (decision.language, decision.reason) == (expected, reason)


async def test_the_action_records_language_and_confidence_every_turn():
    tracker = make_tracker("hola buenos días", slots={"language": "en"})
    tracker.latest_message.update(message("es", 0.97, 3))
    events = await ActionSetLanguage(CONFIG).run(CollectingDispatcher(), tracker, {})
    assert events == [SlotSet("language", "en"), SlotSet("language_confidence", 0.97)]  # 3 words: kept

    tracker.latest_message.update(message("es", 0.97, 6))
    events = await ActionSetLanguage(CONFIG).run(CollectingDispatcher(), tracker, {})
    assert events == [SlotSet("language", "es"), SlotSet("language_confidence", 0.97)]


def test_current_language_falls_back_to_the_default():
    assert current_language(make_tracker(slots={"language": "fr"})) == "fr"
    assert current_language(make_tracker(slots={"language": "xx"})) == "en"
    assert current_language(make_tracker()) == "en"


def test_response_text_picks_the_language_variant(domain):
    assert response_text(domain, "utter_intent_label_human_handoff") == "Talk to a person"
    assert response_text(domain, "utter_intent_label_human_handoff", "es") != "Talk to a person"
    assert response_text(domain, "utter_intent_label_human_handoff", "de") == "Talk to a person"
    assert response_text(domain, "utter_no_such_response", "es") is None


@pytest.mark.parametrize(
    "text, language, expected",
    [
        ("vence el 15 de marzo de 2027", "es", date(2027, 3, 15)),
        ("el 3/4/2027", "es", date(2027, 4, 3)),  # day first in Spanish
        ("dentro de 2 semanas", "es", date(2026, 12, 6)),
        ("mañana", "es", date(2026, 11, 23)),
        ("il expire le 1er mars 2027", "fr", date(2027, 3, 1)),
        ("le 15 février", "fr", date(2027, 2, 15)),
        ("le mois prochain", "fr", date(2026, 12, 22)),
        ("March 15, 2027", "fr", date(2027, 3, 15)),  # English month names work in any language
        ("quiero renovar mi licencia", "es", None),
        ("je veux renouveler mon permis", "fr", None),
    ],
)
def test_dates_are_read_in_each_language(text, language, expected):
    assert find_date(text, TODAY, CONFIG.date_orders[language], language) == expected


def test_dates_numbers_and_language_names_are_written_in_each_language():
    assert format_date(date(2027, 3, 15), "es") == "15 de marzo de 2027"
    assert format_date(date(2027, 3, 15), "fr") == "15 mars 2027"
    assert format_number(12345, "en") == "12,345"
    assert format_number(12345, "es") == "12.345"
    assert language_name("en", "es") == "inglés"
    assert language_name("en", "fr") == "anglais"


@pytest.mark.parametrize(
    "text", ["calle Main 120", "frente a la biblioteca central", "Oak Avenue y 5th Street", "devant la mairie",
             "au coin de la rue Oak", "120 Main Street", "near the school"],
)
def test_places_are_recognised_in_every_language(text):
    assert looks_like_location(text)


@pytest.mark.parametrize("text", ["aquí", "ici", "no sé", "here"])
def test_non_places_are_not(text):
    assert not looks_like_location(text)


@pytest.mark.parametrize("text", ["omitir", "No sé.", "passer", "je sais pas", "skip", "idk"])
def test_skip_words_in_every_language(text):
    assert is_skip_word(text)


def test_services_are_matched_and_named_in_each_language():
    catalogue = ServiceCatalogue.from_file()
    assert catalogue.match("hay un bache enorme").service_code == "pothole"  # type: ignore[union-attr]
    assert catalogue.match("un nid-de-poule énorme").service_code == "pothole"  # type: ignore[union-attr]
    pothole = catalogue.get("pothole")
    assert pothole.in_language("es").service_name != pothole.service_name
    assert pothole.in_language("de").service_name == pothole.service_name
