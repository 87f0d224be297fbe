"""How well a trained model understands messages it never saw: intent accuracy and macro-F1 per language.

The held-out messages are ``benchmarks/data/nlu_heldout/<language>.yml``, written blind
(never trained on). Each message goes through the model's whole NLU pipeline, as the Rasa
server runs it (language detection, the emergency rules, the fallback threshold), so a
message the deployed bot would not understand counts as wrong.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml
from sklearn.metrics import f1_score
from tqdm import tqdm

from learning.errors import LearningError

ROOT = Path(__file__).resolve().parents[1]
HELDOUT = ROOT / "benchmarks" / "data" / "nlu_heldout"


class EvaluationError(LearningError):
    """The held-out data or a model cannot be used."""


@dataclass(frozen=True)
class LanguageScore:
    accuracy: float  # percent
    macro_f1: float  # percent
    messages: int


def heldout(directory: Path = HELDOUT) -> dict[str, list[tuple[str, str]]]:
    """(text, intent) pairs per language."""
    found: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        pairs = [(str(e["text"]), str(e["intent"])) for e in data.get("examples") or []]
        if pairs:
            found[str(data.get("language") or path.stem)] = pairs
    if not found:
        raise EvaluationError(f"no held-out examples in {directory}")
    return found


def score(expected: list[str], predicted: list[str]) -> LanguageScore:
    right = sum(e == p for e, p in zip(expected, predicted, strict=True))
    f1 = f1_score(expected, predicted, labels=sorted(set(expected)), average="macro", zero_division=0)
    return LanguageScore(round(100 * right / len(expected), 2), round(100 * float(f1), 2), len(expected))


@dataclass(frozen=True)
class Prediction:
    text: str
    expected: str
    predicted: str
    confidence: float


def evaluate_model(model: Path, data: dict[str, list[tuple[str, str]]], progress: bool = True
                   ) -> dict[str, LanguageScore]:
    """Scores per language of one model file (loaded here, in this process)."""
    predictions = predict(model, data, progress)
    return {language: score([p.expected for p in found], [p.predicted for p in found])
            for language, found in predictions.items()}


def predict(model: Path, data: dict[str, list[tuple[str, str]]], progress: bool = True
            ) -> dict[str, list[Prediction]]:
    """What one model file (loaded here, in this process) makes of every held-out message, per language."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if not model.exists():
        raise EvaluationError(f"no model at {model}")
    logging.getLogger("rasa").setLevel(logging.WARNING)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # Rasa logs every parse at debug level
    return asyncio.run(_evaluate(model, data, progress))


async def _evaluate(model: Path, data: dict[str, list[tuple[str, str]]], progress: bool
                    ) -> dict[str, list[Prediction]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    predicted: dict[str, list[Prediction]] = defaultdict(list)
    total = sum(len(pairs) for pairs in data.values())
    with tqdm(total=total, desc=f"evaluating {model.name}", unit=" msg", disable=not progress) as bar:
        for language, pairs in data.items():
            for text, expected in pairs:
                parsed: dict[str, Any] = await agent.parse_message(text)
                intent = parsed.get("intent") or {}
                predicted[language].append(Prediction(text, expected, str(intent.get("name") or ""),
                                                      float(intent.get("confidence") or 0.0)))
                bar.update()
    return dict(predicted)


def as_dict(scores: dict[str, LanguageScore]) -> dict[str, dict[str, Any]]:
    return {language: asdict(s) for language, s in scores.items()}
