"""Intent classification by multinomial logistic regression over sentence features.

Trains in seconds on dense sentence embeddings (see
:mod:`bot.components.sentence_featurizer`) and persists plain weight arrays
(``.npz`` + JSON), so loading a model never unpickles anything.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)


def _sentence_vector(message: Message) -> np.ndarray | None:
    _, sentence = message.get_dense_features(TEXT)
    if sentence is None:
        return None
    return np.asarray(sentence.features, dtype=np.float32).reshape(-1)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, numerically stable."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class SentenceIntentClassifier(IntentClassifier, GraphComponent):
    """Logistic regression on the message's dense sentence features."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Featurizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # Inverse regularisation strength; larger gives sharper confidences.
            "C": 20.0,
            "max_iter": 300,
            "ranking_length": 10,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        weights: np.ndarray | None = None,
        bias: np.ndarray | None = None,
        labels: list[str] | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.weights = weights
        self.bias = bias
        self.labels = labels or []

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceIntentClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.linear_model import LogisticRegression

        rows, labels = [], []
        for example in training_data.intent_examples:
            vector = _sentence_vector(example)
            if vector is not None and example.get(INTENT):
                rows.append(vector)
                labels.append(example.get(INTENT))
        if len(set(labels)) < 2:
            logger.warning("SentenceIntentClassifier needs at least two intents; not trained.")
            return self._resource
        clf = LogisticRegression(C=float(self.config["C"]), max_iter=int(self.config["max_iter"]))
        clf.fit(np.vstack(rows), labels)
        self.weights = clf.coef_.astype(np.float32)
        self.bias = clf.intercept_.astype(np.float32)
        self.labels = [str(label) for label in clf.classes_]
        self.persist()
        return self._resource

    def predict(self, vectors: np.ndarray) -> np.ndarray:
        """Probabilities of shape (n, len(labels)) for sentence vectors of shape (n, d)."""
        assert self.weights is not None and self.bias is not None
        return softmax(vectors @ self.weights.T + self.bias)

    def process(self, messages: list[Message]) -> list[Message]:
        if self.weights is None:
            return messages
        todo = [(m, v) for m in messages if (v := _sentence_vector(m)) is not None]
        if not todo:
            return messages
        probabilities = self.predict(np.vstack([v for _, v in todo]))
        length = int(self.config["ranking_length"])
        for (message, _), row in zip(todo, probabilities, strict=False):
            order = np.argsort(-row)
            ranking = [
                {INTENT_NAME_KEY: self.labels[i], PREDICTED_CONFIDENCE_KEY: float(row[i])}
                for i in order[: length if length > 0 else len(order)]
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages

    def persist(self) -> None:
        assert self.weights is not None and self.bias is not None
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / "weights.npz", weights=self.weights, bias=self.bias)
            (directory / "labels.json").write_text(json.dumps(self.labels), encoding="utf-8")

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SentenceIntentClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                arrays = np.load(directory / "weights.npz", allow_pickle=False)
                labels = json.loads((directory / "labels.json").read_text(encoding="utf-8"))
                return cls(config, model_storage, resource, arrays["weights"], arrays["bias"], labels)
        except (ValueError, FileNotFoundError):
            logger.warning("No trained intent classifier in the model; predicting nothing.")
            return cls(config, model_storage, resource)
