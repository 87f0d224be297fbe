"""Detects each message's language, for the dialogue to keep or switch the conversation's language.

Runs first in the NLU pipeline. It only looks at the message itself and adds to the parse data
``language_detection``: the detector's best configured language, its confidence, how many words
could tell a language apart, and any language the message explicitly asks for ("en español").
Whether the conversation switches is decided with its history by ``action_set_language``
(:mod:`actions.language`), so short or uncertain messages keep the current language.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.language import (
    BACKENDS,
    LANGUAGE_DETECTION,
    LANGUAGES_FILE,
    LanguageBackend,
    LanguageConfig,
    NgramBackend,
    build_backend,
    detect,
)

logger = logging.getLogger(__name__)
MAX_CHARS = 500  # enough to tell a language apart; a 2,000-character message must not cost more


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True
)
class LanguageDetector(GraphComponent):
    """Adds ``language_detection`` (language, confidence, words, requested) to every typed message.

    ``backend`` names a detector from :data:`bot.language.BACKENDS`, or several joined by "+"
    (their scores averaged). The "ngram" backend is trained with the model, from the bot's
    examples in each language (bot/data/training/nlu_<code>.yml and the FAQ questions).
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # The best measured by `make bench-lang` (benchmarks/results/langid.md).
        return {"backend": "ngram", "languages_file": str(LANGUAGES_FILE)}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        ngram: NgramBackend | None = None,
    ) -> None:
        self._settings = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._languages = LanguageConfig.from_file(Path(self._settings["languages_file"]))
        self._parts = str(self._settings["backend"]).split("+")
        self._backend: LanguageBackend | None = None
        if ngram is not None or "ngram" not in self._parts:
            self._backend = self._combine(ngram)

    def _combine(self, ngram: NgramBackend | None) -> LanguageBackend:
        given = {"ngram": ngram} if ngram is not None else {}
        backend = build_backend("+".join(self._parts), tuple(self._languages.codes), given)
        backend.guess("warm up the detector's models")  # lingua loads its models lazily (~1 s)
        return backend

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        return cls(config, model_storage, resource)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        for name in str(config.get("backend", "ngram")).split("+"):
            if name not in BACKENDS:
                raise ValueError(f"LanguageDetector: unknown backend {name!r}, use one of {sorted(BACKENDS)}")

    def train(self, training_data: TrainingData) -> Resource:
        if "ngram" in self._parts:
            ngram = NgramBackend.from_data(self._languages.codes)  # the configured languages only
            with self._model_storage.write_to(self._resource) as directory:
                ngram.save(directory)
            self._backend = self._combine(ngram)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LanguageDetector:
        try:
            with model_storage.read_from(resource) as directory:
                return cls(config, model_storage, resource, NgramBackend.load(directory))
        except (ValueError, FileNotFoundError):
            detector = cls(config, model_storage, resource)
            if detector._backend is None:  # configured with "ngram" but the model has none
                logger.warning("No trained n-gram language model in the model; detecting without it.")
                detector._parts = [name for name in detector._parts if name != "ngram"] or ["lingua"]
                detector._backend = detector._combine(None)
            return detector

    def process(self, messages: list[Message]) -> list[Message]:
        if self._backend is None:
            return messages
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or text.startswith(INTENT_MESSAGE_PREFIX):
                continue  # a button payload says nothing about the citizen's language
            detection = detect(text[:MAX_CHARS], self._backend, self._languages)
            message.set(LANGUAGE_DETECTION, detection.as_dict(), add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
