from __future__ import annotations

import numpy as np
import pytest

from retrieval.embedders import EmbedderNotAvailable, load_embedder

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name, dimension", [("minilm", 384), ("use-multilingual", 512)])
def test_packaged_models_load_offline_and_give_unit_vectors(name, dimension):
    embedder = load_embedder(name)
    vectors = embedder.embed(["there is a pothole on my street", "", "when is bin day"])
    assert vectors.shape == (3, dimension)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_paraphrases_are_closer_than_unrelated_questions():
    embedder = load_embedder("minilm+use-multilingual")
    a, b, c = embedder.embed(["my street light is broken", "the lamp post on my road doesn't work",
                              "how do I renew my driving licence"])
    assert a @ b > a @ c + 0.1
    assert embedder.dimension == 896


def test_unknown_embedder_name_is_refused_clearly():
    with pytest.raises(EmbedderNotAvailable, match="unknown embedder"):
        load_embedder("no-such-model")
