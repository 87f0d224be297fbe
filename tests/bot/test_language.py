from __future__ import annotations

import pytest

from bot.language import Guess, LanguageConfig, decide_language, load_backend, requested_language, words_of

CONFIG = LanguageConfig.from_file()


class FixedBackend:
    """Always guesses the same language with the same confidence."""

    name = "fixed"

    def __init__(self, language: str | None, confidence: float) -> None:
        self.result = Guess(language, confidence)

    def guess(self, text: str) -> Guess:
        return self.result


def test_the_configured_languages_are_english_spanish_and_french():
    assert CONFIG.codes == ["en", "es", "fr"] and CONFIG.default == "en"


@pytest.mark.parametrize(
    "text, expected",
    [("en español por favor", "es"), ("In English please", "en"), ("vous parlez francais ?", "fr"),
     ("hablas ingles", "en"), ("when is bin day", None), ("espanola street pothole", None)],
)
def test_explicit_requests_are_recognised(text, expected):
    assert requested_language(text, CONFIG) == expected


def test_numbers_ids_links_and_emoji_are_not_words():
    assert words_of("SR-7K3M9Q2X 94110 👍 https://x.example/a") == []
    assert words_of("status of SR-7K3M9Q2X") == ["status", "of"]


def test_an_explicit_request_wins_over_detection():
    decision = decide_language("in english please", "es", FixedBackend("es", 0.99), CONFIG)
    assert (decision.language, decision.reason) == ("en", "requested")


def test_ids_and_emoji_never_switch_the_language():
    decision = decide_language("SR-7K3M9Q2X 👍", "fr", FixedBackend("en", 0.99), CONFIG)
    assert (decision.language, decision.reason) == ("fr", "kept")


def test_a_short_message_keeps_the_conversation_language():
    decision = decide_language("ok merci", "es", FixedBackend("fr", 0.95), CONFIG)
    assert (decision.language, decision.reason) == ("es", "kept")


def test_a_confident_full_sentence_switches_the_language():
    decision = decide_language("je voudrais signaler un nid de poule", "en", FixedBackend("fr", 0.97), CONFIG)
    assert (decision.language, decision.reason) == ("fr", "detected")


def test_an_uncertain_first_message_gets_the_default():
    assert decide_language("taxi", None, FixedBackend("es", 0.4), CONFIG).language == "en"
    assert decide_language("hola buenos dias", None, FixedBackend("es", 0.95), CONFIG).language == "es"


SENTENCES = [("hay un bache enorme en mi calle", "es"), ("il y a un nid de poule dans ma rue", "fr"),
             ("there is a huge pothole on my street", "en")]


@pytest.mark.parametrize("text, expected", SENTENCES)
def test_lingua_recognises_full_sentences(text, expected):
    guess = load_backend("lingua", tuple(CONFIG.codes)).guess(text)
    assert guess.language == expected and 0 < guess.confidence <= 1


@pytest.mark.parametrize("text, expected", SENTENCES)
def test_langdetect_answers_with_a_configured_language(text, expected):
    # langdetect calls the French sentence Spanish: why the backends must be measured (issue 4).
    guess = load_backend("langdetect", tuple(CONFIG.codes)).guess(text)
    assert guess.language in CONFIG.codes and 0 < guess.confidence <= 1
