"""Which language a citizen is writing in, decided message by message (no Rasa imports).

Chat messages are short, so detection alone is not enough: a message that is too short or too
uncertain keeps the conversation's language; numbers, request ids, links and emoji never change
it; an explicit request ("en español", "in English please") always wins; the first message sets
the language only when the detector is confident, otherwise the configured default applies.
Detection backends are swappable (lingua, langdetect) and restricted to the configured languages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

import yaml

LANGUAGES_FILE = Path(__file__).resolve().parent / "data" / "languages.yml"
# What never counts as words of a language: request ids, links, numbers, e-mail addresses.
NOT_LANGUAGE = re.compile(r"https?://\S+|\S+@\S+|\b(?:sr|h)[-\s]?[0-9a-z]{6,8}\b|\d+", re.IGNORECASE)
WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)


@dataclass(frozen=True)
class LanguageConfig:
    """The configured languages (bot/data/languages.yml)."""

    default: str
    names: dict[str, str]
    requests: dict[str, tuple[str, ...]]

    @property
    def codes(self) -> list[str]:
        return list(self.names)

    @classmethod
    def from_file(cls, path: Path = LANGUAGES_FILE) -> LanguageConfig:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        languages = data["languages"]
        config = cls(
            default=data["default"],
            names={code: spec["name"] for code, spec in languages.items()},
            requests={code: tuple(spec.get("requests") or ()) for code, spec in languages.items()},
        )
        if config.default not in config.names:
            raise ValueError(f"{path}: default language {config.default!r} is not configured")
        return config


@dataclass(frozen=True)
class Guess:
    """A backend's best configured language for a text, with its confidence (0..1)."""

    language: str | None
    confidence: float


class LanguageBackend(Protocol):
    name: str

    def guess(self, text: str) -> Guess: ...


class LinguaBackend:
    """lingua-language-detector, restricted to the configured languages."""

    name = "lingua"

    def __init__(self, codes: list[str]) -> None:
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

        languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in codes]
        self._detector = LanguageDetectorBuilder.from_languages(*languages).build()

    def guess(self, text: str) -> Guess:
        values = self._detector.compute_language_confidence_values(text)
        if not values or values[0].value <= 0:
            return Guess(None, 0.0)
        return Guess(values[0].language.iso_code_639_1.name.lower(), float(values[0].value))


class LangdetectBackend:
    """langdetect (seeded, so repeatable), its probabilities renormalised over the configured languages."""

    name = "langdetect"

    def __init__(self, codes: list[str]) -> None:
        from langdetect import DetectorFactory

        DetectorFactory.seed = 0
        self._codes = set(codes)

    def guess(self, text: str) -> Guess:
        from langdetect import LangDetectException, detect_langs

        try:
            found = [(item.lang, float(item.prob)) for item in detect_langs(text)]
        except LangDetectException:
            return Guess(None, 0.0)
        kept = [(code, prob) for code, prob in found if code in self._codes]
        if not kept:
            return Guess(None, 0.0)
        total = sum(prob for _, prob in found)
        code, prob = max(kept, key=lambda item: item[1])
        return Guess(code, prob / total if total else 0.0)


BACKENDS: dict[str, type[LinguaBackend] | type[LangdetectBackend]] = {
    "lingua": LinguaBackend,
    "langdetect": LangdetectBackend,
}


@cache
def load_backend(name: str, codes: tuple[str, ...]) -> LanguageBackend:
    if name not in BACKENDS:
        raise ValueError(f"unknown language backend {name!r}: use one of {sorted(BACKENDS)}")
    return BACKENDS[name](list(codes))


@dataclass(frozen=True)
class LanguageDecision:
    """The conversation's language after a message, and why."""

    language: str
    confidence: float
    reason: str  # "requested", "detected", "kept" or "default"


def words_of(text: str) -> list[str]:
    """The words that can tell a language apart: no ids, links, numbers, emoji or punctuation."""
    return WORD.findall(NOT_LANGUAGE.sub(" ", text))


def requested_language(text: str, config: LanguageConfig) -> str | None:
    """The language a message explicitly asks for ("en español", "in English please"), if any."""
    lowered = " ".join(text.casefold().split())
    for code, phrases in config.requests.items():
        for phrase in phrases:
            if re.search(rf"(?<!\w){re.escape(phrase.casefold())}(?!\w)", lowered):
                return code
    return None


def decide_language(
    text: str,
    current: str | None,
    backend: LanguageBackend,
    config: LanguageConfig,
    min_words: int = 4,
    min_confidence: float = 0.5,
) -> LanguageDecision:
    """The language after ``text`` in a conversation whose language so far is ``current``.

    A message switches the language only when it has at least ``min_words`` words and the
    detector is at least ``min_confidence`` sure; a first message sets it when confident.
    The defaults are the best rule `make bench-lang` found for lingua (chosen in-sample on its
    330 messages; lingua's confidences are relative and lower than langdetect's).
    """
    asked = requested_language(text, config)
    if asked is not None:
        return LanguageDecision(asked, 1.0, "requested")
    fallback = current if current in config.names else None
    words = words_of(text)
    if not words:
        return LanguageDecision(fallback or config.default, 0.0, "kept" if fallback else "default")
    guess = backend.guess(" ".join(words))
    if guess.language is None:
        return LanguageDecision(fallback or config.default, 0.0, "kept" if fallback else "default")
    if fallback is None:
        if guess.confidence >= min_confidence:
            return LanguageDecision(guess.language, guess.confidence, "detected")
        return LanguageDecision(config.default, guess.confidence, "default")
    if guess.language == fallback:
        return LanguageDecision(fallback, guess.confidence, "detected")
    if len(words) >= min_words and guess.confidence >= min_confidence:
        return LanguageDecision(guess.language, guess.confidence, "detected")
    return LanguageDecision(fallback, guess.confidence, "kept")
