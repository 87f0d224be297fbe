from __future__ import annotations

import pytest

from bot.language import (
    CombinedBackend,
    Detection,
    Guess,
    LanguageConfig,
    NgramBackend,
    decide_language,
    detect,
    load_backend,
    requested_language,
    words_of,
)

CONFIG = LanguageConfig.from_file()


class FixedBackend:
    """Always guesses the same language with the same confidence."""

    name = "fixed"

    def __init__(self, language: str | None, confidence: float) -> None:
        self.result = Guess(language, confidence)

    def scores(self, text: str) -> dict[str, float]:
        return {self.result.language: self.result.confidence} if self.result.language else {}

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


MIXED = [
    ("la banqueta frente al 45 de Elm Road está rota", "es"),  # English street names in Spanish
    ("le feu de circulation sur Main Street ne marche plus", "fr"),
    ("the bus stop on Calle Ocho has no light", "en"),
]


@pytest.mark.parametrize("text, expected", SENTENCES + MIXED)
def test_the_ngram_model_trained_on_the_bots_data_handles_mixed_sentences(text, expected):
    guess = load_backend("ngram", tuple(CONFIG.codes)).guess(" ".join(words_of(text)))
    assert guess.language == expected and guess.confidence > 0.5


def test_the_ngram_model_saves_and_loads_without_pickle(tmp_path):
    backend = NgramBackend.train({"en": ["hello there", "good morning"], "es": ["hola amigo", "buenos días"]})
    backend.save(tmp_path)
    assert not list(tmp_path.glob("*.pkl"))
    again = NgramBackend.load(tmp_path)
    assert again.scores("hola") == pytest.approx(backend.scores("hola"))


def test_combined_backends_average_their_scores():
    combined = CombinedBackend([FixedBackend("es", 0.9), FixedBackend("fr", 0.7)])
    assert combined.guess("x") == Guess("es", pytest.approx(0.45))


def test_a_detection_survives_the_round_trip_through_parse_data():
    detection = detect("en español por favor", FixedBackend("es", 0.93), CONFIG)
    assert Detection.from_dict(detection.as_dict()) == Detection("es", 0.93, 4, "es")
    assert Detection.from_dict({"language": 3, "confidence": "x"}) == Detection(None, 0.0, 0, None)
