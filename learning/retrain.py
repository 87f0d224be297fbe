"""`make retrain`: train a candidate, compare it with the model in production on held-out data, promote or refuse.

The candidate is promoted only if, on every language of the held-out data, neither its
accuracy nor its macro-F1 is lower than the current model's by more than ``tolerance``
points. Both models are scored on the same messages in the same run.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from learning.evaluation import LanguageScore, as_dict, evaluate_model, heldout
from learning.registry import Record, Registry
from stack.processes import base_env
from stack.settings import ROOT, StackSettings
from stack.train import TRAINING_DATA, fingerprint

METRICS = ("accuracy", "macro_f1")


@dataclass
class Comparison:
    promote: bool
    lines: list[str]  # the table, then the verdict
    reasons: list[str]  # why not, when refused


def data_hash(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*.yml")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def train_candidate(models_dir: Path, data: Path = TRAINING_DATA) -> Path:
    """A new model from ``data`` in models/candidates/ (the running server is not touched)."""
    name = f"citybot-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"
    out = models_dir / "candidates"
    out.mkdir(parents=True, exist_ok=True)
    command = [str(Path(sys.executable).parent / "rasa"), "train", "--config", str(ROOT / "config.yml"),
               "--domain", str(ROOT / "domain.yml"), "--data", str(data), "--out", str(out),
               "--fixed-model-name", name, "--force"]
    print(f"Training the candidate model {name} (a few minutes)...", flush=True)
    subprocess.run(command, cwd=ROOT, env=base_env(StackSettings()), check=True)
    return out / f"{name}.tar.gz"


def compare(current: dict[str, LanguageScore], candidate: dict[str, LanguageScore], tolerance: float) -> Comparison:
    lines = [f"{'language':<9} {'messages':>8}  {'accuracy: current':>17} {'candidate':>9} {'change':>7}  "
             f"{'macro-F1: current':>17} {'candidate':>9} {'change':>7}"]
    reasons = []
    for language in sorted(candidate):
        old, new = current.get(language), candidate[language]
        row = f"{language:<9} {new.messages:>8}"
        for metric in METRICS:
            after = getattr(new, metric)
            before = getattr(old, metric) if old else None
            change = "" if before is None else f"{after - before:+.1f}"
            row += f"  {'' if before is None else f'{before:.1f}':>17} {after:>9.1f} {change:>7}"
            if before is not None and after < before - tolerance:
                reasons.append(f"{language}: {metric.replace('_', '-')} {before:.1f} -> {after:.1f} "
                               f"({after - before:+.1f} points; tolerance {tolerance:g})")
        lines.append(row)
    return Comparison(not reasons, lines, reasons)


def scores_of(record: Record | None, model: Path, data: dict[str, list[tuple[str, str]]], data_key: str,
              progress: bool) -> dict[str, LanguageScore]:
    """A model's held-out scores: remembered in the manifest for this held-out data, else computed."""
    if record is not None and record.scores.get("heldout") == data_key:
        return {language: LanguageScore(**s) for language, s in record.scores["languages"].items()}
    scores = evaluate_model(model, data, progress)
    if record is not None:
        record.scores = {"heldout": data_key, "languages": as_dict(scores)}
    return scores


def retrain(registry: Registry, candidate: Path | None, tolerance: float, heldout_dir: Path,
            data: Path = TRAINING_DATA, progress: bool = True) -> Comparison:
    """Train (unless ``candidate`` is given), compare, and promote or refuse; the comparison is returned."""
    examples = heldout(heldout_dir)
    heldout_key = data_hash(heldout_dir)
    current_record = registry.current()
    if candidate is None:
        candidate = train_candidate(registry.dir, data)
    if current_record is not None and registry.record_for(candidate) is current_record:
        return Comparison(False, [f"{candidate.name} is the model in production already: nothing to do."], [])
    record = registry.record_for(candidate) or registry.add_candidate(
        candidate, data_hash(data), hashlib.sha256((ROOT / "config.yml").read_bytes()).hexdigest()[:16])
    candidate_scores = scores_of(record, candidate, examples, heldout_key, progress)
    current_scores = (scores_of(current_record, registry.current_path, examples, heldout_key, progress)
                      if current_record is not None else {})
    result = compare(current_scores, candidate_scores, tolerance)
    if result.promote:
        registry.promote(candidate, record, fingerprint() if data == TRAINING_DATA else None)
        result.lines.append(f"Promoted {record.name}: it is models/citybot.tar.gz now "
                            "(restart the Rasa server, or `make run`, to serve it).")
    else:
        registry.refuse(record, "; ".join(result.reasons))
        result.lines.append(f"Refused {record.name}; the current model stays. Worse on held-out data:")
        result.lines.extend(f"  {reason}" for reason in result.reasons)
    return result
