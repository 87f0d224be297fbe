"""Benchmark the project's NLU pipeline on the CLINC150 intent benchmark.

Trains the ``pipeline:`` of ``config.yml`` (as-is, NLU only) on CLINC150's
``train`` + ``oos_train`` splits, parses every ``val`` and ``test`` query and
scores them as in Larson et al. 2019 ("An Evaluation Dataset for Intent
Classification and Out-of-Scope Prediction"):

* in-scope accuracy: in-scope queries whose final prediction equals the gold label;
* out-of-scope recall: out-of-scope queries whose final prediction is ``oos``.

With a threshold ``t`` the final prediction is ``oos`` when the top
non-fallback intent is ``oos`` or its confidence is below ``t``. The threshold
is chosen on the validation split and reported on the test split.

Run with ``python -m benchmarks.nlu_clinc``; results go to
``benchmarks/results/nlu_clinc150.{json,md}``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import platform
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG_PATH = ROOT / "config.yml"
DATA_PATH = Path("/work/shared/data/clinc150/data_full.json")
RESULTS_DIR = ROOT / "benchmarks" / "results"
WORK_DIR = RESULTS_DIR / "work"
JSON_OUT = RESULTS_DIR / "nlu_clinc150.json"
MD_OUT = RESULTS_DIR / "nlu_clinc150.md"
MODEL_NAME = "nlu-clinc150"

OOS = "oos"
FALLBACK = "nlu_fallback"
INPUT_GUARD_INTENTS = ("empty_message", "no_words", "message_too_long")
SWEEP = [round(0.10 + 0.05 * i, 2) for i in range(13)]  # 0.10 .. 0.70

# Larson et al. 2019, Table 2 (full data set): in-scope accuracy / out-of-scope recall, in %.
PUBLISHED: list[tuple[str, float, float]] = [
    ("BERT (Larson et al. 2019)", 96.2, 52.3),
    ("MLP on USE (Larson et al. 2019)", 93.4, 49.1),
    ("Rasa 2019 pipeline (Larson et al. 2019)", 90.9, 31.2),
    ("DialogFlow (Larson et al. 2019)", 90.8, 26.7),
]
TARGET_IN_SCOPE = 93.0
TARGET_OOS_RECALL = 50.0
TARGET_TRAIN_MINUTES = 15.0


@dataclass
class Prediction:
    """One parsed query."""

    text: str
    gold: str
    intent: str  # the pipeline's final intent (may be nlu_fallback)
    confidence: float
    top_intent: str  # first non-fallback entry of intent_ranking
    top_confidence: float
    parse_ms: float


@dataclass
class Scores:
    """Larson et al. metrics for one split and one decision rule."""

    in_scope_accuracy: float
    oos_recall: float
    in_scope_count: int
    oos_count: int

    @property
    def total(self) -> float:
        return self.in_scope_accuracy + self.oos_recall


def quiet_logging() -> None:
    """Warnings and errors only: Rasa's structlog otherwise prints a debug line per parse."""
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)


def log(message: str) -> None:
    print(f"[nlu_clinc] {message}", flush=True)


# --------------------------------------------------------------------------- data


def load_clinc(path: Path = DATA_PATH) -> dict[str, list[tuple[str, str]]]:
    """CLINC150 splits as lists of (text, label)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {split: [(str(text), str(label)) for text, label in rows] for split, rows in raw.items()}


def read_project_config(path: Path = CONFIG_PATH) -> dict[str, Any]:
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(config, dict) or not config.get("pipeline"):
        raise SystemExit(f"{path} has no pipeline")
    return config


def fallback_threshold(pipeline: list[dict[str, Any]]) -> float | None:
    """The FallbackClassifier's configured threshold, if the pipeline has one."""
    for component in pipeline:
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", 0.3))  # Rasa's default
    return None


def write_nlu_data(rows: list[tuple[str, str]], path: Path) -> int:
    """Write (text, intent) rows as Rasa YAML; returns the number of examples read back."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    messages = [Message.build(text=text, intent=label) for text, label in rows]
    RasaYAMLWriter().dump(str(path), TrainingData(training_examples=messages))
    read_back = load_data(str(path))
    texts = {(m.get("text"), m.get("intent")) for m in read_back.intent_examples}
    missing = set(rows) - texts
    if missing:
        example = next(iter(missing))
        raise SystemExit(f"{len(missing)} examples did not survive the YAML round trip, e.g. {example}")
    return len(read_back.intent_examples)


def write_config(project: dict[str, Any], path: Path) -> None:
    """An NLU-only config: the project's recipe, language and pipeline, no policies."""
    config: dict[str, Any] = {key: project[key] for key in ("recipe", "language") if key in project}
    if "assistant_id" in project:  # avoids Rasa's "no assistant_id" warning; no effect on NLU
        config["assistant_id"] = project["assistant_id"]
    config["pipeline"] = project["pipeline"]
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")


def write_domain(intents: list[str], path: Path) -> None:
    path.write_text(
        yaml.safe_dump({"version": "3.1", "intents": sorted(intents)}, sort_keys=False), encoding="utf-8"
    )


# ----------------------------------------------------------------------- training


def train(config: Path, nlu_data: Path, domain: Path, output: Path) -> tuple[str, float]:
    """Train NLU only; returns the model path and the wall-clock training seconds."""
    from rasa.model_training import train_nlu

    # A private, empty graph cache: the timing must not profit from earlier runs,
    # and the shared .rasa/cache of the checkout stays untouched.
    cache = WORK_DIR / "rasa-cache"
    shutil.rmtree(cache, ignore_errors=True)
    os.environ["RASA_CACHE_DIRECTORY"] = str(cache)
    start = time.perf_counter()
    model = train_nlu(
        config=str(config),
        nlu_data=str(nlu_data),
        output=str(output),
        fixed_model_name=MODEL_NAME,
        domain=str(domain),
    )
    seconds = time.perf_counter() - start
    if not model:
        raise SystemExit("training failed: train_nlu returned no model")
    return str(model), seconds


# ------------------------------------------------------------------------ parsing


def top_non_fallback(parse: dict[str, Any]) -> tuple[str, float]:
    """First intent_ranking entry that is not nlu_fallback (falls back to the intent)."""
    for entry in parse.get("intent_ranking") or []:
        if entry.get("name") and entry.get("name") != FALLBACK:
            return str(entry["name"]), float(entry.get("confidence") or 0.0)
    intent = parse.get("intent") or {}
    return str(intent.get("name")), float(intent.get("confidence") or 0.0)


async def _parse_all(processor: Any, rows: list[tuple[str, str]], desc: str) -> list[Prediction]:
    from rasa.core.channels.channel import UserMessage
    from tqdm import tqdm

    predictions = []
    for text, gold in tqdm(rows, desc=desc, unit="msg", mininterval=2.0):
        start = time.perf_counter()
        parse = await processor.parse_message(UserMessage(text))
        elapsed_ms = (time.perf_counter() - start) * 1000.0
        intent = parse.get("intent") or {}
        top, top_conf = top_non_fallback(parse)
        predictions.append(
            Prediction(
                text=text,
                gold=gold,
                intent=str(intent.get("name")),
                confidence=float(intent.get("confidence") or 0.0),
                top_intent=top,
                top_confidence=top_conf,
                parse_ms=elapsed_ms,
            )
        )
    return predictions


async def _parse_splits(model_path: str, splits: dict[str, list[tuple[str, str]]]) -> dict[str, Any]:
    from rasa.core.agent import Agent

    start = time.perf_counter()
    agent = Agent.load(model_path)
    load_seconds = time.perf_counter() - start
    if agent.processor is None:
        raise SystemExit(f"could not load a processor from {model_path}")
    parsed = {name: await _parse_all(agent.processor, rows, name) for name, rows in splits.items()}
    return {"load_seconds": load_seconds, "predictions": parsed}


def parse_splits(model_path: str, splits: dict[str, list[tuple[str, str]]]) -> dict[str, Any]:
    """Load the model once and parse every split in one event loop."""
    return asyncio.run(_parse_splits(model_path, splits))


# ------------------------------------------------------------------------ metrics


def deployed_prediction(p: Prediction) -> str:
    """The pipeline's own decision (FallbackClassifier incl. its ambiguity rule)."""
    return OOS if p.intent in (FALLBACK, OOS) else p.intent


def thresholded_prediction(p: Prediction, threshold: float) -> str:
    """Top non-fallback intent, or oos when it is oos or below the threshold."""
    if p.top_intent in (FALLBACK, OOS) or p.top_confidence < threshold:
        return OOS
    return p.top_intent


def score(predictions: list[Prediction], decide: Callable[[Prediction], str]) -> Scores:
    in_scope = [p for p in predictions if p.gold != OOS]
    oos = [p for p in predictions if p.gold == OOS]
    correct = sum(decide(p) == p.gold for p in in_scope)
    caught = sum(decide(p) == OOS for p in oos)
    return Scores(
        in_scope_accuracy=100.0 * correct / len(in_scope) if in_scope else 0.0,
        oos_recall=100.0 * caught / len(oos) if oos else 0.0,
        in_scope_count=len(in_scope),
        oos_count=len(oos),
    )


def at_threshold(predictions: list[Prediction], threshold: float) -> Scores:
    return score(predictions, lambda p: thresholded_prediction(p, threshold))


def sweep(predictions: list[Prediction]) -> list[dict[str, Any]]:
    return [{"threshold": t, **asdict(at_threshold(predictions, t))} for t in SWEEP]


def best_threshold(val_sweep: list[dict[str, Any]]) -> float:
    """Threshold maximising in-scope accuracy + oos recall on val (lowest wins ties)."""
    best = max(val_sweep, key=lambda row: (row["in_scope_accuracy"] + row["oos_recall"], -row["threshold"]))
    return float(best["threshold"])


def latency(predictions: list[Prediction]) -> dict[str, float]:
    times = sorted(p.parse_ms for p in predictions)
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    return {
        "mean_ms": statistics.fmean(times),
        "median_ms": statistics.median(times),
        "p95_ms": p95,
        "max_ms": times[-1],
        "count": len(times),
    }


# ------------------------------------------------------------------------ reports


def fmt(value: float) -> str:
    return f"{value:.1f}"


def markdown(results: dict[str, Any]) -> str:
    test = results["test"]
    conf_t = results["fallback_threshold"]
    best_t = results["selected_threshold"]
    train_min = results["training_seconds"] / 60.0
    lat = results["parse_latency"]
    rows = [
        (f"**This pipeline, deployed (FallbackClassifier t={conf_t})**",
         test["deployed"]["in_scope_accuracy"], test["deployed"]["oos_recall"]),
        (f"This pipeline, threshold only t={conf_t}",
         test["at_config_threshold"]["in_scope_accuracy"], test["at_config_threshold"]["oos_recall"]),
        ("This pipeline, no threshold (t=0)",
         test["no_threshold"]["in_scope_accuracy"], test["no_threshold"]["oos_recall"]),
        (f"This pipeline, t={best_t} chosen on val",
         test["at_selected_threshold"]["in_scope_accuracy"], test["at_selected_threshold"]["oos_recall"]),
        *PUBLISHED,
        ("Target (issue)", TARGET_IN_SCOPE, TARGET_OOS_RECALL),
    ]
    lines = [
        "# CLINC150 NLU benchmark",
        "",
        f"Date {results['date']}, {results['nproc']} CPU cores, config `config.yml` pipeline as-is. "
        "Test split (full data set): "
        f"{test['deployed']['in_scope_count']} in-scope, "
        f"{test['deployed']['oos_count']} out-of-scope queries.",
        "",
        "| System | In-scope accuracy (%) | OOS recall (%) |",
        "|---|---:|---:|",
        *[f"| {name} | {fmt(acc)} | {fmt(rec)} |" for name, acc, rec in rows],
        "",
        f"Training time: {results['training_seconds']:.1f} s ({train_min:.1f} min; target < "
        f"{TARGET_TRAIN_MINUTES:.0f} min). Model load: {results['model_load_seconds']:.1f} s. "
        f"Parse latency per message: mean {lat['mean_ms']:.1f} ms, p95 {lat['p95_ms']:.1f} ms "
        f"(n={lat['count']}).",
        "",
        "## Threshold sweep (top non-fallback intent; oos if below t)",
        "",
        "| t | val in-scope | val OOS recall | test in-scope | test OOS recall |",
        "|---:|---:|---:|---:|---:|",
    ]
    for v, t in zip(results["val"]["sweep"], test["sweep"], strict=True):
        mark = " (selected on val)" if v["threshold"] == best_t else ""
        lines.append(
            f"| {v['threshold']:.2f}{mark} | {fmt(v['in_scope_accuracy'])} | {fmt(v['oos_recall'])} | "
            f"{fmt(t['in_scope_accuracy'])} | {fmt(t['oos_recall'])} |"
        )
    lines += [
        "",
        "Metrics as in Larson et al. 2019: in-scope accuracy over in-scope queries, OOS recall over "
        "out-of-scope queries. Published rows are the paper's full-data-set figures. Note the val "
        f"split has only {results['val']['no_threshold']['oos_count']} out-of-scope queries.",
        "",
    ]
    return "\n".join(lines)


def evaluate_split(predictions: list[Prediction], conf_t: float | None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "deployed": asdict(score(predictions, deployed_prediction)),
        "no_threshold": asdict(at_threshold(predictions, 0.0)),
        "sweep": sweep(predictions),
        "latency": latency(predictions),
        "input_guard_predictions": sum(p.top_intent in INPUT_GUARD_INTENTS for p in predictions),
    }
    if conf_t is not None:
        result["at_config_threshold"] = asdict(at_threshold(predictions, conf_t))
    return result


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # no TensorFlow CUDA/CPU banners
    quiet_logging()
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    log(f"phase 1/5: reading {CONFIG_PATH.name} and {DATA_PATH}")
    project = read_project_config()
    pipeline = project["pipeline"]
    conf_t = fallback_threshold(pipeline)
    data = load_clinc()
    train_rows = data["train"] + data["oos_train"]
    intents = sorted({label for _, label in train_rows})
    log(f"  {len(train_rows)} training examples, {len(intents)} intents, FallbackClassifier t={conf_t}")

    log("phase 2/5: writing Rasa training data, domain and NLU-only config")
    nlu_path = WORK_DIR / "nlu.yml"
    config_path = WORK_DIR / "config.yml"
    domain_path = WORK_DIR / "domain.yml"
    n_written = write_nlu_data(train_rows, nlu_path)
    write_config(project, config_path)
    write_domain(intents, domain_path)
    log(f"  {n_written} examples written to {nlu_path.relative_to(ROOT)}")

    log("phase 3/5: training NLU (this is the timed 'training time')")
    model_path, train_seconds = train(config_path, nlu_path, domain_path, WORK_DIR / "models")
    log(f"  trained in {train_seconds:.1f} s -> {Path(model_path).relative_to(ROOT)}")

    log("phase 4/5: loading the model and parsing val and test")
    splits = {
        "val": data["val"] + data["oos_val"],
        "test": data["test"] + data["oos_test"],
    }
    parsed = parse_splits(model_path, splits)
    predictions: dict[str, list[Prediction]] = parsed["predictions"]

    log("phase 5/5: scoring and writing results")
    results: dict[str, Any] = {
        "benchmark": "CLINC150 (Larson et al. 2019), full data set",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "nproc": len(os.sched_getaffinity(0)),
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
        "config_pipeline": pipeline,
        "fallback_threshold": conf_t,
        "counts": {
            "train": len(data["train"]),
            "oos_train": len(data["oos_train"]),
            "intents": len(intents),
            "val_in_scope": len(data["val"]),
            "val_oos": len(data["oos_val"]),
            "test_in_scope": len(data["test"]),
            "test_oos": len(data["oos_test"]),
        },
        "training_seconds": train_seconds,
        "model_load_seconds": parsed["load_seconds"],
        "parse_latency": latency(predictions["val"] + predictions["test"]),
    }
    for name, preds in predictions.items():
        results[name] = evaluate_split(preds, conf_t)
    selected = best_threshold(results["val"]["sweep"])
    results["selected_threshold"] = selected
    results["selection"] = "argmax of in-scope accuracy + oos recall on val (test never used)"
    results["test"]["at_selected_threshold"] = asdict(at_threshold(predictions["test"], selected))
    results["val"]["at_selected_threshold"] = asdict(at_threshold(predictions["val"], selected))
    results["published"] = [
        {"system": name, "in_scope_accuracy": acc, "oos_recall": rec} for name, acc, rec in PUBLISHED
    ]
    results["target"] = {
        "in_scope_accuracy": TARGET_IN_SCOPE,
        "oos_recall": TARGET_OOS_RECALL,
        "training_minutes": TARGET_TRAIN_MINUTES,
    }

    JSON_OUT.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    table = markdown(results)
    MD_OUT.write_text(table, encoding="utf-8")
    log(f"  wrote {JSON_OUT.relative_to(ROOT)} and {MD_OUT.relative_to(ROOT)}")
    print()
    print(table)


if __name__ == "__main__":
    main()
