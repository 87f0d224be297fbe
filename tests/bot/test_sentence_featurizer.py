from __future__ import annotations

import numpy as np
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.sentence_featurizer import SentenceEmbeddingFeaturizer


class CountingEmbedder:
    """A deterministic test embedder that remembers what it was asked to embed."""

    name = "counting"
    dimension = 4

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.seen += texts
        return np.array([[len(t), 1.0, 0.0, 0.0] for t in texts], dtype=np.float32)


def featurizer(embedder: CountingEmbedder) -> SentenceEmbeddingFeaturizer:
    config = {**SentenceEmbeddingFeaturizer.get_default_config(), "max_chars": 10}
    return SentenceEmbeddingFeaturizer(config, "featurizer", embedder)


def test_messages_get_one_sentence_vector_from_cleaned_and_cut_text():
    embedder = CountingEmbedder()
    [message] = featurizer(embedder).process([Message(data={TEXT: "hello\x00 there, this is long"})])
    assert embedder.seen == ["hello ther"]
    sequence, sentence = message.get_dense_features(TEXT)
    assert sequence is None and sentence is not None
    assert sentence.features.shape == (1, 4)


def test_button_payloads_are_not_embedded():
    embedder = CountingEmbedder()
    messages = featurizer(embedder).process([Message(data={TEXT: "/affirm"}), Message(data={TEXT: "yes"})])
    assert embedder.seen == ["yes"]
    payload_vector = messages[0].get_dense_features(TEXT)[1]
    assert payload_vector is not None and not payload_vector.features.any()

