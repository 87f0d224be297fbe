"""The emergency model: catches emergencies the rules miss, from sentence embeddings.

Logistic regression (emergency or not) over the same sentence vectors the NLU
pipeline already computes, plus the nearest emergency examples for the kind. The
rules (triage.yml) decide first; the model only adds emergencies they missed, at a
threshold chosen by cross-validation so that routine messages are rarely flagged.
Trained with the Rasa model (bot.components.emergency_detector); stored as arrays
and JSON, not pickle.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from triage.errors import TriageConfigError

DEFAULT_EXAMPLES = Path(__file__).resolve().parent.parent / "bot" / "data" / "triage" / "examples.yml"
NEIGHBOURS = 5
MAX_FALSE_ALARMS = 0.02  # cross-validated share of the hard routine examples the model may flag
FOLDS = 5


def load_examples(path: Path = DEFAULT_EXAMPLES) -> tuple[list[str], list[str | None]]:
    """(texts, kinds): the kind of emergency, or None for a routine message."""
    try:
        rows = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("examples") or []
    except (OSError, yaml.YAMLError) as exc:
        raise TriageConfigError(f"cannot read the emergency examples {path}: {exc}") from exc
    texts = [str(row["text"]) for row in rows if isinstance(row, dict) and row.get("text")]
    kinds = [row.get("emergency") or None for row in rows if isinstance(row, dict) and row.get("text")]
    return texts, kinds


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def _fit_logistic(vectors: np.ndarray, flags: np.ndarray, c: float) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    clf.fit(vectors, flags)
    return clf.coef_[0].astype(np.float32), float(clf.intercept_[0])


@dataclass
class EmergencyModel:
    weights: np.ndarray  # (d,)
    bias: float
    threshold: float
    examples: np.ndarray  # (n, d) unit vectors of the emergency examples
    kinds: list[str]

    def probability(self, vectors: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(vectors @ self.weights + self.bias)))

    def kind_of(self, vector: np.ndarray) -> str:
        """The most common kind among the nearest emergency examples."""
        similarity = self.examples @ _unit(vector.reshape(1, -1))[0]
        nearest = np.argsort(-similarity)[:NEIGHBOURS]
        return Counter(self.kinds[i] for i in nearest).most_common(1)[0][0]

    def predict(self, vector: np.ndarray) -> tuple[str | None, float]:
        """(kind, probability) when the model calls it an emergency; (None, probability) otherwise."""
        probability = float(self.probability(vector.reshape(1, -1))[0])
        return (self.kind_of(vector) if probability >= self.threshold else None), probability

    @classmethod
    def fit(cls, vectors: np.ndarray, kinds: list[str | None], hard: np.ndarray | None = None,
            c: float = 1.0) -> EmergencyModel:
        """Fit on vectors of emergencies (a kind) and routine messages (None); pick the threshold by CV.

        ``hard``: which routine messages look alarming (the examples file's, not the NLU
        examples): the threshold keeps the cross-validated false alarms among them under
        MAX_FALSE_ALARMS, since easy ones ("hello") would make any threshold look safe.
        """
        flags = np.array([kind is not None for kind in kinds])
        hard = np.ones(len(kinds), dtype=bool) if hard is None else np.asarray(hard, dtype=bool)
        if flags.sum() < FOLDS or (~flags).sum() < FOLDS:
            raise TriageConfigError("the emergency model needs at least 5 emergencies and 5 routine examples")
        scores = np.zeros(len(kinds))
        order = np.random.default_rng(0).permutation(len(kinds))
        for fold in range(FOLDS):
            test = order[fold::FOLDS]
            train = np.setdiff1d(order, test)
            weights, bias = _fit_logistic(vectors[train], flags[train], c)
            scores[test] = 1.0 / (1.0 + np.exp(-(vectors[test] @ weights + bias)))
        routine = np.sort(scores[~flags & hard])
        allowed = int(MAX_FALSE_ALARMS * len(routine))
        threshold = float(max(0.5, routine[-(allowed + 1)] + 1e-6))
        weights, bias = _fit_logistic(vectors, flags, c)
        emergencies = [i for i, kind in enumerate(kinds) if kind is not None]
        return cls(weights, bias, threshold, _unit(vectors[emergencies]).astype(np.float32),
                   [str(kinds[i]) for i in emergencies])

    def save(self, directory: Path) -> None:
        np.savez(directory / "emergency_model.npz", weights=self.weights, examples=self.examples)
        (directory / "emergency_model.json").write_text(
            json.dumps({"bias": self.bias, "threshold": self.threshold, "kinds": self.kinds}), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> EmergencyModel:
        arrays = np.load(directory / "emergency_model.npz", allow_pickle=False)
        meta = json.loads((directory / "emergency_model.json").read_text(encoding="utf-8"))
        return cls(arrays["weights"], float(meta["bias"]), float(meta["threshold"]), arrays["examples"],
                   [str(k) for k in meta["kinds"]])
