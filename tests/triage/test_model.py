from __future__ import annotations

import numpy as np
import pytest

from triage.errors import TriageConfigError
from triage.model import EmergencyModel, load_examples


def clusters(seed: int = 0) -> tuple[np.ndarray, list[str | None]]:
    """Gas messages near one direction, fire near another, routine ones near a third (8 dimensions)."""
    rng = np.random.default_rng(seed)
    centres = {"gas": np.eye(8)[0], "fire": np.eye(8)[1], None: np.eye(8)[2]}
    kinds: list[str | None] = ["gas"] * 20 + ["fire"] * 20 + [None] * 60
    vectors = np.vstack([centres[kind] + 0.1 * rng.standard_normal(8) for kind in kinds]).astype(np.float32)
    return vectors, kinds


def test_the_model_flags_emergencies_with_their_kind_and_lets_routine_messages_pass():
    vectors, kinds = clusters()
    model = EmergencyModel.fit(vectors, kinds)
    assert model.predict(np.eye(8, dtype=np.float32)[0] * 1.1)[0] == "gas"
    assert model.predict(np.eye(8, dtype=np.float32)[1])[0] == "fire"
    kind, probability = model.predict(np.eye(8, dtype=np.float32)[2])
    assert kind is None and probability < model.threshold


def test_the_threshold_keeps_cross_validated_false_alarms_low():
    vectors, kinds = clusters(1)
    model = EmergencyModel.fit(vectors, kinds)
    routine = vectors[[i for i, kind in enumerate(kinds) if kind is None]]
    assert 0.5 <= model.threshold < 1.0
    assert (model.probability(routine) >= model.threshold).mean() <= 0.02


def test_a_saved_model_loads_and_predicts_the_same(tmp_path):
    vectors, kinds = clusters()
    model = EmergencyModel.fit(vectors, kinds)
    model.save(tmp_path)
    loaded = EmergencyModel.load(tmp_path)
    assert loaded.threshold == pytest.approx(model.threshold)
    np.testing.assert_allclose(loaded.probability(vectors), model.probability(vectors), rtol=1e-5)
    assert loaded.kinds == model.kinds


def test_too_few_examples_is_a_clear_error():
    with pytest.raises(TriageConfigError):
        EmergencyModel.fit(np.eye(4, dtype=np.float32), ["gas", None, None, None])


def test_the_shipped_examples_hold_every_kind_and_routine_messages():
    texts, kinds = load_examples()
    assert len(texts) == len(kinds) > 500
    assert {k for k in kinds if k} == {"gas", "power_line", "fire", "flood", "injury", "danger", "self_harm"}
    assert kinds.count(None) > 300
