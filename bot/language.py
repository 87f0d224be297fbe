"""Which language a citizen is writing in, decided message by message (no Rasa imports).

Chat messages are short, so detection alone is not enough: a message that is too short or too
uncertain keeps the conversation's language; numbers, request ids, links and emoji never change
it; an explicit request ("en español", "in English please") always wins; the first message sets
the language only when the detector is confident, otherwise the configured default applies.
Detection backends are swappable (lingua, langdetect) and restricted to the configured languages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import yaml

from bot.text import fold

DATA_DIR = Path(__file__).resolve().parent / "data"
LANGUAGES_FILE = DATA_DIR / "languages.yml"
TRAINING_DIR = DATA_DIR / "training"
FAQ_DIR = DATA_DIR / "faq"
# The key under which the NLU pipeline adds a message's Detection to its parse data.
LANGUAGE_DETECTION = "language_detection"
# What never counts as words of a language: request ids, links, numbers, e-mail addresses.
NOT_LANGUAGE = re.compile(r"https?://\S+|\S+@\S+|\b(?:sr|h)[-\s]?[0-9a-z]{6,8}\b|\S*\d\S*", re.IGNORECASE)
WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one per languages.yml version
class LanguageConfig:
    """The configured languages (bot/data/languages.yml)."""

    default: str
    names: dict[str, str]
    requests: dict[str, tuple[str, ...]]
    date_orders: dict[str, str]  # how numeric dates are read: "MDY" or "DMY"
    spacy_models: dict[str, str]  # spaCy pipeline package per language
    # Per language, per kind ("skip", "street", "place", "landmark", "intersection"): words the forms know.
    words: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    # Per kind, the words of every language folded, longest first (computed from ``words``).
    _kinds: dict[str, tuple[str, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        kinds: dict[str, set[str]] = {}
        for words in self.words.values():
            for kind, listed in words.items():
                kinds.setdefault(kind, set()).update(fold(str(word)) for word in listed)
        longest_first = {kind: tuple(sorted(found, key=lambda w: (-len(w), w))) for kind, found in kinds.items()}
        object.__setattr__(self, "_kinds", longest_first)

    @property
    def codes(self) -> list[str]:
        return list(self.names)

    def words_of_kind(self, kind: str) -> tuple[str, ...]:
        """The words of one kind in every language, folded (lower case, no accents), longest first."""
        return self._kinds.get(kind, ())

    @classmethod
    def from_file(cls, path: Path = LANGUAGES_FILE) -> LanguageConfig:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        languages = data["languages"]
        config = cls(
            default=data["default"],
            names={code: spec["name"] for code, spec in languages.items()},
            requests={code: tuple(spec.get("requests") or ()) for code, spec in languages.items()},
            date_orders={code: str(spec.get("date_order") or "DMY") for code, spec in languages.items()},
            spacy_models={code: str(spec["spacy"]) for code, spec in languages.items() if spec.get("spacy")},
            words={
                code: {kind: tuple(str(w) for w in words or ()) for kind, words in (spec.get("words") or {}).items()}
                for code, spec in languages.items()
            },
        )
        if config.default not in config.names:
            raise ValueError(f"{path}: default language {config.default!r} is not configured")
        for code, order in config.date_orders.items():
            if order not in ("MDY", "DMY", "YMD"):
                raise ValueError(f"{path}: {code}: date_order must be MDY, DMY or YMD, not {order!r}")
        return config


@dataclass(frozen=True)
class Guess:
    """A backend's best configured language for a text, with its confidence (0..1)."""

    language: str | None
    confidence: float


class LanguageBackend(Protocol):
    name: str

    def scores(self, text: str) -> dict[str, float]:
        """How likely the text is in each configured language (summing to 1; empty if no idea)."""
        ...

    def guess(self, text: str) -> Guess: ...


class ScoringBackend:
    """A backend that scores every language; its guess is the best score."""

    name = "scoring"

    def scores(self, text: str) -> dict[str, float]:
        raise NotImplementedError

    def guess(self, text: str) -> Guess:
        return best_of(self.scores(text))


def best_of(scores: dict[str, float]) -> Guess:
    if not scores:
        return Guess(None, 0.0)
    code = max(scores, key=lambda key: scores[key])
    return Guess(code, scores[code]) if scores[code] > 0 else Guess(None, 0.0)


class LinguaBackend(ScoringBackend):
    """lingua-language-detector, restricted to the configured languages."""

    name = "lingua"

    def __init__(self, codes: list[str]) -> None:
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

        languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in codes]
        self._detector = LanguageDetectorBuilder.from_languages(*languages).build()

    def scores(self, text: str) -> dict[str, float]:
        values = self._detector.compute_language_confidence_values(text)
        return {value.language.iso_code_639_1.name.lower(): float(value.value) for value in values}


class LangdetectBackend(ScoringBackend):
    """langdetect (seeded, so repeatable), its probabilities renormalised over the configured languages."""

    name = "langdetect"

    def __init__(self, codes: list[str]) -> None:
        from langdetect import DetectorFactory

        DetectorFactory.seed = 0
        self._codes = set(codes)

    def scores(self, text: str) -> dict[str, float]:
        from langdetect import LangDetectException, detect_langs

        try:
            found = [(item.lang, float(item.prob)) for item in detect_langs(text)]
        except LangDetectException:
            return {}
        total = sum(prob for _, prob in found)
        return {code: prob / total for code, prob in found if code in self._codes and total}


class NgramBackend(ScoringBackend):
    """Character n-grams (1-4, TF-IDF) and logistic regression, trained on the bot's own data per language.

    It knows the city's words ("bache", "nid-de-poule") and is not thrown by English street
    names inside a Spanish sentence the way general-purpose detectors are. Saved as plain
    arrays and JSON (no pickle).
    """

    name = "ngram"
    NGRAMS = (1, 4)

    def __init__(self, vectorizer: Any, weights: np.ndarray, bias: np.ndarray, labels: list[str]) -> None:
        self._vectorizer = vectorizer
        self._weights = weights
        self._bias = bias
        self._labels = labels

    @classmethod
    def _vectorizer_for(cls, vocabulary: dict[str, int] | None = None) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer

        return TfidfVectorizer(analyzer="char_wb", ngram_range=cls.NGRAMS, sublinear_tf=True, vocabulary=vocabulary)

    @classmethod
    def train(cls, examples: dict[str, list[str]]) -> NgramBackend:
        from sklearn.linear_model import LogisticRegression

        texts = [" ".join(words_of(text)) for texts in examples.values() for text in texts]
        labels = [code for code, texts in examples.items() for _ in texts]
        vectorizer = cls._vectorizer_for()
        model = LogisticRegression(C=10.0, max_iter=2000).fit(vectorizer.fit_transform(texts), labels)
        weights, bias = model.coef_, model.intercept_
        if len(model.classes_) == 2:  # sklearn keeps one row for two classes
            weights, bias = np.vstack([-weights, weights]), np.concatenate([-bias, bias])
        return cls(vectorizer, weights.astype(np.float32), bias.astype(np.float32), [str(c) for c in model.classes_])

    @classmethod
    def from_data(cls, codes: list[str]) -> NgramBackend:
        examples = language_examples()
        return cls.train({code: examples.get(code, []) for code in codes})

    def save(self, directory: Path) -> None:
        vocabulary = {str(gram): int(index) for gram, index in self._vectorizer.vocabulary_.items()}
        (directory / "ngram_vocabulary.json").write_text(json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8")
        (directory / "ngram_labels.json").write_text(json.dumps(self._labels), encoding="utf-8")
        np.savez(directory / "ngram.npz", idf=self._vectorizer.idf_, weights=self._weights, bias=self._bias)

    @classmethod
    def load(cls, directory: Path) -> NgramBackend:
        vocabulary = json.loads((directory / "ngram_vocabulary.json").read_text(encoding="utf-8"))
        labels = json.loads((directory / "ngram_labels.json").read_text(encoding="utf-8"))
        arrays = np.load(directory / "ngram.npz", allow_pickle=False)
        vectorizer = cls._vectorizer_for(vocabulary)
        vectorizer.idf_ = arrays["idf"]
        return cls(vectorizer, arrays["weights"], arrays["bias"], labels)

    def scores(self, text: str) -> dict[str, float]:
        logits = self._vectorizer.transform([text]) @ self._weights.T + self._bias
        row = np.asarray(logits).ravel()
        probabilities = np.exp(row - row.max())
        probabilities /= probabilities.sum()
        return {code: float(p) for code, p in zip(self._labels, probabilities, strict=True)}


class CombinedBackend(ScoringBackend):
    """The mean of several backends' scores ("lingua+ngram")."""

    def __init__(self, backends: list[LanguageBackend]) -> None:
        self._backends = backends
        self.name = "+".join(backend.name for backend in backends)

    def scores(self, text: str) -> dict[str, float]:
        total: dict[str, float] = {}
        for backend in self._backends:
            for code, score in backend.scores(text).items():
                total[code] = total.get(code, 0.0) + score / len(self._backends)
        return total


BACKENDS: dict[str, Callable[[list[str]], LanguageBackend]] = {
    "lingua": LinguaBackend,
    "langdetect": LangdetectBackend,
    "ngram": NgramBackend.from_data,
}


def build_backend(
    name: str, codes: tuple[str, ...], given: Mapping[str, LanguageBackend] | None = None
) -> LanguageBackend:
    """A backend by name; several joined with "+" are combined (mean of their scores).

    ``given`` supplies ready backends by name (a trained or held-out n-gram model); the others
    are loaded with :func:`load_backend`.
    """
    parts = name.split("+")
    unknown = [part for part in parts if part not in BACKENDS]
    if unknown:
        raise ValueError(f"unknown language backend {unknown[0]!r}: use one of {sorted(BACKENDS)}, joined by +")
    built = [(given or {}).get(part) or load_backend(part, codes) for part in parts]
    return built[0] if len(built) == 1 else CombinedBackend(built)


@cache
def load_backend(name: str, codes: tuple[str, ...]) -> LanguageBackend:
    """A backend by name (or several joined with "+"), built once per process."""
    if name in BACKENDS:
        return BACKENDS[name](list(codes))
    return build_backend(name, codes)


def language_examples(
    training_dir: Path = TRAINING_DIR, faq_dir: Path = FAQ_DIR
) -> dict[str, list[str]]:
    """Texts known to be in each language: NLU examples (nlu_<code>.yml) and FAQ questions."""
    examples: dict[str, list[str]] = {}
    for path in sorted(training_dir.glob("nlu_*.yml")):
        code = path.stem.removeprefix("nlu_")
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                text = line.strip().removeprefix("- ").strip()
                if text:
                    examples.setdefault(code, []).append(text)
    for path in sorted(faq_dir.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in data.get("entries") or []:
            for code, questions in (entry.get("questions") or {}).items():
                examples.setdefault(str(code), []).extend(str(q) for q in questions or [])
    return examples


@dataclass(frozen=True)
class Detection:
    """What one message says about its language, before the conversation is taken into account."""

    language: str | None  # the detector's best configured language; None if it has no guess
    confidence: float
    words: int  # words that can tell a language apart (no ids, numbers, links or emoji)
    requested: str | None = None  # a language the message explicitly asks for

    def as_dict(self) -> dict[str, object]:
        return {
            "language": self.language,
            "confidence": round(self.confidence, 4),
            "words": self.words,
            "requested": self.requested,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Detection:
        language = data.get("language")
        requested = data.get("requested")
        confidence = data.get("confidence")
        words = data.get("words")
        return cls(
            language=language if isinstance(language, str) else None,
            confidence=float(confidence) if isinstance(confidence, (int, float)) else 0.0,
            words=int(words) if isinstance(words, int) else 0,
            requested=requested if isinstance(requested, str) else None,
        )


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


def detect(text: str, backend: LanguageBackend, config: LanguageConfig) -> Detection:
    """The language of one message on its own, and any language it asks for."""
    words = words_of(text)
    requested = requested_language(text, config)
    if not words:
        return Detection(None, 0.0, 0, requested)
    guess = backend.guess(" ".join(words))
    return Detection(guess.language, guess.confidence, len(words), requested)


def decide(
    detection: Detection,
    current: str | None,
    config: LanguageConfig,
    min_words: int = 4,
    min_confidence: float = 0.5,
) -> LanguageDecision:
    """The language after a message in a conversation whose language so far is ``current``.

    A message switches the language only when it has at least ``min_words`` words and the
    detector is at least ``min_confidence`` sure; a first message sets it when confident.
    The defaults are the best rule `make bench-lang` found for lingua (chosen in-sample on its
    330 messages; lingua's confidences are relative and lower than langdetect's).
    """
    if detection.requested in config.names:
        return LanguageDecision(detection.requested, 1.0, "requested")
    fallback = current if current in config.names else None
    guessed = detection.language if detection.language in config.names else None
    if guessed is None:
        return LanguageDecision(fallback or config.default, 0.0, "kept" if fallback else "default")
    if fallback is None:
        if detection.confidence >= min_confidence:
            return LanguageDecision(guessed, detection.confidence, "detected")
        return LanguageDecision(config.default, detection.confidence, "default")
    if guessed == fallback:
        return LanguageDecision(fallback, detection.confidence, "detected")
    if detection.words >= min_words and detection.confidence >= min_confidence:
        return LanguageDecision(guessed, detection.confidence, "detected")
    return LanguageDecision(fallback, detection.confidence, "kept")


def decide_language(
    text: str,
    current: str | None,
    backend: LanguageBackend,
    config: LanguageConfig,
    min_words: int = 4,
    min_confidence: float = 0.5,
) -> LanguageDecision:
    """:func:`detect` then :func:`decide`, for one message in one step (tests, benchmarks)."""
    return decide(detect(text, backend, config), current, config, min_words, min_confidence)
