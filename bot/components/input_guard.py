"""Gives messages that carry no usable words an intent of their own.

Runs after the intent classifier. Empty or white-space messages, messages of
only emoji or symbols, and messages longer than the configured limit get the
intents ``empty_message``, ``no_words`` or ``message_too_long`` with full
confidence, so the dialogue answers them plainly on every channel instead of
guessing an intent from noise.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.text import clean_text, has_words

EMPTY_MESSAGE = "empty_message"
NO_WORDS = "no_words"
MESSAGE_TOO_LONG = "message_too_long"
GUARD_INTENTS = (EMPTY_MESSAGE, NO_WORDS, MESSAGE_TOO_LONG)


def guard_intent(text: str | None, max_chars: int) -> str | None:
    """The guard intent for a raw message text, or None when the text is usable."""
    raw = text if isinstance(text, str) else ""
    if len(raw) > max_chars:
        return MESSAGE_TOO_LONG
    cleaned = clean_text(raw)
    if not cleaned:
        return EMPTY_MESSAGE
    if not has_words(cleaned):
        return NO_WORDS
    return None


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class InputGuard(GraphComponent):
    """Overrides the predicted intent for empty, word-less and over-long messages."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"max_chars": 2000}

    def __init__(self, config: dict[str, Any]) -> None:
        self._max_chars = int({**self.get_default_config(), **config}["max_chars"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> InputGuard:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str) and text.startswith(INTENT_MESSAGE_PREFIX):
                continue  # a button payload such as "/greet"
            intent = guard_intent(text, self._max_chars)
            if intent is None:
                continue
            prediction = {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: 1.0}
            message.set(INTENT, prediction, add_to_output=True)
            message.set("intent_ranking", [prediction], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
