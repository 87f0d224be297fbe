"""Dense sentence features from an offline sentence-embedding model.

Adds one sentence-level feature vector per message (no token-level sequence
features: the pipeline's classifier works on whole sentences). The embedder
comes from :mod:`retrieval.embedders`, so NLU and FAQ search share one model
per process.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.text import clean_text
from retrieval.embedders import Embedder, load_embedder


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False
)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Featurizes each message's text with a sentence-embedding model."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            # A registered name, a local sentence-transformers directory, or
            # several joined with "+" (their vectors are concatenated).
            "embedder": "minilm+use-multilingual",
            # Longer texts are cut before embedding; models truncate anyway and
            # a 100 kB message must not cost seconds.
            "max_chars": 1000,
        }

    def __init__(self, config: dict[str, Any], name: str, embedder: Embedder) -> None:
        super().__init__(name, config)
        self._embedder = embedder
        self._max_chars = int(self._config["max_chars"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEmbeddingFeaturizer:
        return cls(config, execution_context.node_name, load_embedder(config["embedder"]))

    @staticmethod
    def required_packages() -> list[str]:
        # Importable module names that are also distribution names (Rasa checks both).
        return ["sentence_transformers"]

    def _embed(self, messages: list[Message]) -> None:
        if not messages:
            return
        texts = [clean_text(message.get(TEXT) or "")[: self._max_chars] for message in messages]
        for message, vector in zip(messages, self._embedder.embed(texts), strict=True):
            self._add(message, vector)

    def _add(self, message: Message, vector: np.ndarray) -> None:
        message.add_features(
            Features(
                np.asarray(vector, dtype=np.float32).reshape(1, -1),
                FEATURE_TYPE_SENTENCE,
                TEXT,
                self._identifier,
            )
        )

    def process(self, messages: list[Message]) -> list[Message]:
        # Button payloads ("/affirm") get their intent from Rasa's RegexMessageHandler at the
        # end of the pipeline; embedding them would only cost time, so they get a zero vector
        # (the components in between still need a sentence feature).
        typed = []
        for message in messages:
            if str(message.get(TEXT) or "").startswith(INTENT_MESSAGE_PREFIX):
                self._add(message, np.zeros(self._embedder.dimension, dtype=np.float32))
            else:
                typed.append(message)
        self._embed(typed)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        examples = [m for m in training_data.training_examples if m.get(TEXT) is not None]
        self._embed(examples)
        return training_data

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if not str(config.get("embedder", "")).strip():
            raise ValueError("SentenceEmbeddingFeaturizer needs an 'embedder'")
