"""Gives a message that describes an emergency the intent ``emergency``, whatever else NLU thought.

Runs last in the NLU pipeline. Two judges, in this order:

1. The city's rules (bot/data/content/triage.yml, triage/): a gas smell, a sparking
   wire, a fire, a flood, an injury, someone in danger, thoughts of self-harm, in any
   supported language. Explainable, editable without retraining.
2. The emergency model (triage/model.py), trained here with the Rasa model on
   bot/data/triage/examples.yml and the bot's NLU examples (all routine), over the
   sentence vectors the pipeline already computed: it catches emergencies the rules
   miss ("we all feel dizzy since the heater went on"), at a threshold chosen so that
   routine messages are rarely flagged.

The message keeps its parse data otherwise, and carries ``emergency: {kind,
department, evidence}`` for the actions. ``make bench-triage`` measures both.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.intent_classifier import _sentence_vector
from bot.text import clean_text
from retrieval.embedders import load_embedder
from triage import default_config, detect_emergency
from triage.errors import TriageError
from triage.model import DEFAULT_EXAMPLES, EmergencyModel, load_examples

logger = logging.getLogger(__name__)

EMERGENCY_INTENT = "emergency"
EMERGENCY_KEY = "emergency"
MAX_CHARS = 1000


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class EmergencyDetector(GraphComponent):
    """Overrides the predicted intent with ``emergency`` when the rules or the emergency model find one."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Featurizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # The featurizer's embedder: the examples are embedded the same way as messages.
            "embedder": "minilm+use-multilingual",
            "examples": str(DEFAULT_EXAMPLES),
            "C": 1.0,
        }

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 model: EmergencyModel | None = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> EmergencyDetector:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        texts, kinds = load_examples(Path(self.config["examples"]))
        vectors = load_embedder(self.config["embedder"]).embed([clean_text(t)[:MAX_CHARS] for t in texts])
        routine = [v for example in training_data.intent_examples
                   if (v := _sentence_vector(example)) is not None and example.get(INTENT) != EMERGENCY_INTENT]
        all_vectors = np.vstack([np.asarray(vectors, dtype=np.float32), *([np.vstack(routine)] if routine else [])])
        hard = np.array([True] * len(texts) + [False] * len(routine))
        self.model = EmergencyModel.fit(all_vectors, [*kinds, *([None] * len(routine))], hard, float(self.config["C"]))
        logger.info("emergency model: %d examples, %d NLU examples as routine, threshold %.3f",
                    len(texts), len(routine), self.model.threshold)
        with self._model_storage.write_to(self._resource) as directory:
            self.model.save(directory)
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> EmergencyDetector:
        try:
            with model_storage.read_from(resource) as directory:
                return cls(config, model_storage, resource, EmergencyModel.load(directory))
        except (ValueError, FileNotFoundError, KeyError):
            logger.warning("No trained emergency model; emergencies come from the rules only.")
            return cls(config, model_storage, resource)

    def _judge(self, message: Message, text: str) -> dict[str, str] | None:
        try:
            emergency = detect_emergency(text)
            config = default_config()
        except (TriageError, OSError):
            logger.error("the triage rules cannot be read; emergencies come from the model only", exc_info=True)
            emergency, config = None, None
        if emergency is not None:
            return {"kind": emergency.kind, "department": emergency.department, "evidence": emergency.evidence}
        vector = _sentence_vector(message)
        if self.model is None or vector is None or not vector.any():
            return None
        kind, probability = self.model.predict(vector)
        if kind is None:
            return None
        rule = next((r for r in config.emergencies if r.kind == kind), None) if config else None
        return {"kind": kind, "department": rule.department if rule else "Emergency Services",
                "evidence": f"emergency model ({probability:.2f})"}

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or text.startswith(INTENT_MESSAGE_PREFIX):
                continue  # a button payload
            found = self._judge(message, text)
            if found is None:
                continue
            prediction = {INTENT_NAME_KEY: EMERGENCY_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
            message.set(INTENT, prediction, add_to_output=True)
            message.set("intent_ranking", [prediction], add_to_output=True)
            message.set(EMERGENCY_KEY, found, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
