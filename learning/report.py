"""`make evaluate`: one report on how good the bot is, per language, with figures, under reports/.

What it measures, with the model in production (models/citybot.tar.gz):

1. Held-out intents: the blind messages of ``benchmarks/data/nlu_heldout`` through the model's whole
   NLU pipeline: accuracy and macro-F1 per language, a confusion matrix, the confidence of right and
   wrong answers, F1 per intent.
2. NLU cross-validation: 5-fold, stratified by intent and language, over the training examples, with
   the pipeline's embedder and classifier (benchmarks/multilingual.py, as `make bench-lang` runs it).
3. Story tests: Rasa's `rasa test core` on ``tests/stories`` (the conversations in every language).
4. FAQ search: recall@k (k = 1..5) per language on the held-apart questions of
   ``benchmarks/data/faq_eval*``, through the FAQ index `make faq` built (models/faq).

Every figure is captioned with the model's hash and the data versions it came from.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.metrics import confusion_matrix, f1_score  # noqa: E402

from learning.evaluation import HELDOUT, Prediction, heldout, predict, score  # noqa: E402
from learning.registry import file_hash  # noqa: E402
from learning.retrain import data_hash  # noqa: E402
from stack.settings import ROOT  # noqa: E402
from stack.train import TRAINING_DATA  # noqa: E402

REPORTS = ROOT / "reports"
STORIES = ROOT / "tests" / "stories"
FAQ_DEPTH = 5


@dataclass
class Report:
    model: Path
    versions: dict[str, str] = field(default_factory=dict)
    heldout: dict[str, list[Prediction]] = field(default_factory=dict)
    cross_validation: dict[str, Any] = field(default_factory=dict)
    stories: dict[str, Any] = field(default_factory=dict)
    faq: dict[str, list[float]] = field(default_factory=dict)  # language -> recall@1..5
    faq_questions: dict[str, int] = field(default_factory=dict)

    @property
    def caption(self) -> str:
        return ", ".join(f"{name} {value}" for name, value in self.versions.items())


def versions(model: Path) -> dict[str, str]:
    faq_manifest = ROOT / "models" / "faq" / "manifest.json"
    faq = json.loads(faq_manifest.read_text()).get("build_key", "")[:12] if faq_manifest.exists() else "none"
    return {"model": file_hash(model), "training data": data_hash(TRAINING_DATA),
            "held-out data": data_hash(HELDOUT), "FAQ index": faq or "unknown",
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def run_story_tests(model: Path) -> dict[str, Any]:
    """`rasa test core` on the test stories: how many conversations, how many failed."""
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run([str(Path(sys.executable).parent / "rasa"), "test", "core", "--model", str(model),
                               "--stories", str(STORIES), "--out", out, "--no-plot"],
                              cwd=ROOT, capture_output=True, text=True, timeout=1800)
        failed_file = Path(out) / "failed_test_stories.yml"
        failed_text = failed_file.read_text() if failed_file.exists() else ""
    stories = sum(len(re.findall(r"^\s*- story:", p.read_text(), re.MULTILINE)) for p in STORIES.glob("*.yml"))
    failed = len(re.findall(r"^\s*- story:", failed_text, re.MULTILINE))
    return {"stories": stories, "failed": failed, "exit": done.returncode}


def run_cross_validation() -> dict[str, Any]:
    from benchmarks.multilingual import Fitter, cross_validate, load_examples, pipeline_settings
    from bot.language import LanguageConfig
    from bot.text import clean_text
    from retrieval.embedders import load_embedder

    settings = pipeline_settings()
    examples, _ = load_examples(LanguageConfig.from_file().codes)
    embedder = load_embedder(settings["embedder"])
    vectors = embedder.embed([clean_text(e.text)[: settings["max_chars"]] for e in examples])
    return cross_validate(vectors, examples, Fitter(settings))["per_language"]  # type: ignore[no-any-return]


def run_faq_recall() -> tuple[dict[str, list[float]], dict[str, int]]:
    from benchmarks.multilingual import FAQ_EVAL_DIR, FAQ_EVAL_MULTILINGUAL_DIR, REFERENCE, read_asked
    from bot.language import LanguageConfig
    from retrieval.embedders import load_embedder
    from retrieval.faq import load_faq
    from retrieval.search import FaqSearcher
    from retrieval.settings import get_faq_settings

    settings = get_faq_settings()
    known = set(load_faq(settings.dir, settings.languages, settings.default_language).by_id)
    searcher = FaqSearcher(load_embedder(settings.embedder), settings.index_dir)
    curves, counts = {}, {}
    for code in LanguageConfig.from_file().codes:
        paths = sorted(FAQ_EVAL_DIR.glob("*.yml")) if code == REFERENCE else [FAQ_EVAL_MULTILINGUAL_DIR / f"{code}.yml"]
        asked = [pair for path in paths if path.exists() for pair in read_asked(path, known)[0]]
        if not asked:
            continue
        ranks = [[hit.entry_id for hit in searcher.search(text.strip(), FAQ_DEPTH).hits] for text, _ in asked]
        curves[code] = [round(100 * sum(gold in r[:k] for r, (_, gold) in zip(ranks, asked, strict=True))
                              / len(asked), 1) for k in range(1, FAQ_DEPTH + 1)]
        counts[code] = len(asked)
    return curves, counts


# ---------------------------------------------------------------------------------------------- figures


def _save(figure: Any, path: Path, caption: str) -> str:
    figure.text(0.01, 0.005, caption, fontsize=6, color="#555555")
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path.name


def figures(report: Report, out: Path) -> dict[str, str]:
    """PNG files: confusion matrices, confidence histograms, per-intent F1, FAQ recall curves."""
    made = {}
    languages = sorted(report.heldout)
    for language in languages:
        found = report.heldout[language]
        labels = sorted({p.expected for p in found} | {p.predicted for p in found})
        matrix = confusion_matrix([p.expected for p in found], [p.predicted for p in found], labels=labels)
        figure, axes = plt.subplots(figsize=(9, 8))
        axes.imshow(matrix, cmap="Blues")
        axes.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
        axes.set_yticks(range(len(labels)), labels, fontsize=7)
        for (row, column), value in zip(((r, c) for r in range(len(labels)) for c in range(len(labels))),
                                        matrix.flatten(), strict=True):
            if value:
                axes.text(column, row, str(value), ha="center", va="center", fontsize=6,
                          color="white" if value > matrix.max() / 2 else "black")
        axes.set_xlabel("predicted")
        axes.set_ylabel("expected")
        axes.set_title(f"Held-out intents, {language}: confusion matrix")
        made[f"confusion_{language}"] = _save(figure, out / f"confusion_{language}.png", report.caption)

    figure, axes = plt.subplots(1, len(languages), figsize=(4 * len(languages), 3.2), squeeze=False)
    for axis, language in zip(axes[0], languages, strict=True):
        found = report.heldout[language]
        axis.hist([p.confidence for p in found if p.expected == p.predicted], bins=20, range=(0, 1), alpha=0.7,
                  label="right")
        axis.hist([p.confidence for p in found if p.expected != p.predicted], bins=20, range=(0, 1), alpha=0.7,
                  label="wrong")
        axis.set_title(f"{language}: intent confidence")
        axis.legend(fontsize=7)
    made["confidence"] = _save(figure, out / "confidence.png", report.caption)

    intents = sorted({p.expected for found in report.heldout.values() for p in found})
    figure, axis = plt.subplots(figsize=(9, 0.32 * len(intents) + 1.5))
    height = 0.8 / max(len(languages), 1)
    for number, language in enumerate(languages):
        found = report.heldout[language]
        scores = f1_score([p.expected for p in found], [p.predicted for p in found], labels=intents, average=None,
                          zero_division=0)
        axis.barh([i + number * height for i in range(len(intents))], 100 * scores, height=height, label=language)
    axis.set_yticks([i + 0.4 - height / 2 for i in range(len(intents))], intents, fontsize=7)
    axis.set_xlabel("F1 (%)")
    axis.set_xlim(0, 100)
    axis.legend(fontsize=7)
    axis.set_title("Held-out intents: F1 per intent")
    made["f1"] = _save(figure, out / "f1_per_intent.png", report.caption)

    if report.faq:
        figure, axis = plt.subplots(figsize=(5, 3.2))
        for language, curve in sorted(report.faq.items()):
            label = f"{language} ({report.faq_questions[language]} questions)"
            axis.plot(range(1, len(curve) + 1), curve, marker="o", label=label)
        axis.set_xlabel("k (answers looked at)")
        axis.set_ylabel("recall@k (%)")
        axis.set_title("FAQ search: recall@k")
        axis.legend(fontsize=7)
        made["faq"] = _save(figure, out / "faq_recall.png", report.caption)
    return made


# ----------------------------------------------------------------------------------------------- report


def summary(report: Report) -> list[str]:
    lines = [f"Evaluation of {report.model.name} ({report.caption})", "",
             f"{'language':<9} {'held-out acc':>12} {'macro-F1':>9} {'CV acc':>7} {'FAQ r@1':>8} {'FAQ r@3':>8}"]
    for language in sorted(report.heldout):
        held = score([p.expected for p in report.heldout[language]], [p.predicted for p in report.heldout[language]])
        cv = report.cross_validation.get(language, {})
        faq = report.faq.get(language, [])
        lines.append(f"{language:<9} {held.accuracy:>11.1f}% {held.macro_f1:>8.1f}% "
                     f"{100 * cv.get('mean_accuracy', 0):>6.1f}% "
                     f"{(f'{faq[0]:.1f}%' if faq else '-'):>8} {(f'{faq[2]:.1f}%' if len(faq) > 2 else '-'):>8}")
    if report.stories:
        lines.append(f"story tests: {report.stories['stories'] - report.stories['failed']}/"
                     f"{report.stories['stories']} conversations predicted without a mistake")
    return lines


def confusions(found: list[Prediction], top: int = 5) -> list[str]:
    pairs = Counter((p.expected, p.predicted) for p in found if p.expected != p.predicted)
    return [f"{expected} → {predicted} ({count})" for (expected, predicted), count in pairs.most_common(top)]


def write(report: Report, out: Path) -> Path:
    made = figures(report, out)
    lines = ["# Evaluation report", "", f"Model `{report.model.name}`; {report.caption}.", "", "## Summary", "",
             "```", *summary(report), "```", "", "## Held-out intents (written blind, never trained on)", ""]
    for language in sorted(report.heldout):
        found = report.heldout[language]
        lines += [f"- **{language}**: most frequent confusions: " + (", ".join(confusions(found)) or "none")]
    lines += ["", *(f"![confusion matrix {language}]({made[f'confusion_{language}']})" for language in
                    sorted(report.heldout)),
              f"![confidence]({made['confidence']})", f"![F1 per intent]({made['f1']})", ""]
    if report.cross_validation:
        lines += ["## NLU cross-validation (5 folds over the training examples)", "",
                  "| language | mean accuracy | fold spread | macro-F1 |", "|---|---:|---:|---:|"]
        for language, cv in sorted(report.cross_validation.items()):
            lines.append(f"| {language} | {100 * cv['mean_accuracy']:.1f}% | ±{100 * cv['fold_std']:.1f} | "
                         f"{100 * cv['macro_f1']:.1f}% |")
        lines.append("")
    if report.stories:
        lines += ["## Story tests (`rasa test core`, tests/stories)", "",
                  f"{report.stories['stories'] - report.stories['failed']} of {report.stories['stories']} "
                  "conversations predicted without a mistake.", ""]
    if report.faq:
        lines += ["## FAQ search", "", f"![FAQ recall]({made['faq']})", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    held = {language: asdict(score([p.expected for p in found], [p.predicted for p in found]))
            for language, found in report.heldout.items()}
    (out / "report.json").write_text(json.dumps({
        "versions": report.versions, "heldout": held, "cross_validation": report.cross_validation,
        "stories": report.stories, "faq_recall_at_k": report.faq}, indent=2) + "\n")
    return path


def evaluate(model: Path, quick: bool = False, progress: bool = True) -> tuple[Report, Path]:
    """Measure everything (``quick``: the held-out intents only) and write reports/evaluation-<date>/."""
    report = Report(model, versions(model))
    report.heldout = predict(model, heldout(), progress)
    if not quick:
        print("Cross-validation of the NLU classifier (a few minutes)...", flush=True)
        report.cross_validation = run_cross_validation()
        print("Story tests...", flush=True)
        report.stories = run_story_tests(model)
        print("FAQ search...", flush=True)
        report.faq, report.faq_questions = run_faq_recall()
    out = REPORTS / f"evaluation-{datetime.now():%Y%m%d-%H%M%S}"
    out.mkdir(parents=True, exist_ok=True)
    return report, write(report, out)
