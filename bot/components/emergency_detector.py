"""Gives a message that describes an emergency the intent ``emergency``, whatever else NLU thought.

Runs last in the NLU pipeline. The rules are the city's (bot/data/content/triage.yml,
triage/): a gas smell, a sparking wire, a fire, a flood, an injury, someone in danger,
thoughts of self-harm, in any supported language. The message keeps its parse data
otherwise, and carries ``emergency: {kind, department, evidence}`` for the actions.
A rule, not a model, decides, so recall is what ``make bench-triage`` measures and
cannot drift with a retrained classifier.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from triage import detect_emergency
from triage.errors import TriageError

logger = logging.getLogger(__name__)

EMERGENCY_INTENT = "emergency"
EMERGENCY_KEY = "emergency"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class EmergencyDetector(GraphComponent):
    """Overrides the predicted intent with ``emergency`` when the triage rules find one."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EmergencyDetector:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or text.startswith(INTENT_MESSAGE_PREFIX):
                continue  # a button payload
            try:
                emergency = detect_emergency(text)
            except (TriageError, OSError):
                logger.error("the triage rules cannot be read; emergencies are not detected", exc_info=True)
                continue
            if emergency is None:
                continue
            prediction = {INTENT_NAME_KEY: EMERGENCY_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
            message.set(INTENT, prediction, add_to_output=True)
            message.set("intent_ranking", [prediction], add_to_output=True)
            message.set(
                EMERGENCY_KEY,
                {"kind": emergency.kind, "department": emergency.department, "evidence": emergency.evidence},
                add_to_output=True,
            )
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
