from __future__ import annotations

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.intent_classifier import SentenceIntentClassifier


def message(vector, intent=None) -> Message:
    m = Message(data={TEXT: "x", **({"intent": intent} if intent else {})})
    m.add_features(Features(np.array([vector], dtype=np.float32), FEATURE_TYPE_SENTENCE, TEXT, "test"))
    return m


def test_trained_classifier_ranks_intents_and_survives_persist_and_load(tmp_path):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("clf")
    context = ExecutionContext(GraphSchema({}), "model-id")
    classifier = SentenceIntentClassifier.create({}, storage, resource, context)
    rng = np.random.default_rng(0)
    examples = [message([1, 0, 0] + rng.normal(0, 0.05, 3), "greet") for _ in range(20)]
    examples += [message([0, 1, 0] + rng.normal(0, 0.05, 3), "goodbye") for _ in range(20)]
    examples += [message([0, 0, 1] + rng.normal(0, 0.05, 3), "thanks") for _ in range(20)]
    classifier.train(TrainingData(examples))

    loaded = SentenceIntentClassifier.load({}, storage, resource, context)
    [parsed] = loaded.process([message([0.05, 0.95, 0.0])])
    assert parsed.get("intent")["name"] == "goodbye"
    ranking = parsed.get("intent_ranking")
    assert [r["name"] for r in ranking][0] == "goodbye" and len(ranking) == 3
    assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-5


def test_untrained_classifier_leaves_messages_alone(tmp_path):
    classifier = SentenceIntentClassifier.load(
        {}, LocalModelStorage(tmp_path), Resource("none"), ExecutionContext(GraphSchema({}), "m")
    )
    [parsed] = classifier.process([message([1.0, 0.0, 0.0])])
    assert parsed.get("intent") is None
