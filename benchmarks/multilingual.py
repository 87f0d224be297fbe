"""Does the bot serve Spanish and French as well as English? Intent accuracy and FAQ recall per language.

1. Intents. Every example of ``bot/data/training/nlu_<code>.yml`` (languages from
   ``bot/data/languages.yml``) is read as Rasa reads it, duplicate (text, intent) pairs dropped as
   Rasa's TrainingData drops them, cleaned and cut as the featurizer does, and embedded once with
   the embedder of ``config.yml``. The classifier is the pipeline's logistic regression with
   ``config.yml``'s settings.

   - As deployed: stratified 5-fold cross-validation over the pooled examples of all languages
     (strata: intent + language, ``random_state=0``); each fold's model is trained on every
     language together, as ``rasa train`` does, and scored on the held-out examples of each
     language separately: accuracy (mean over folds, and pooled correct / total), macro-F1 over
     the pooled held-out predictions, the gap to English in points, the 5 intents with the lowest
     recall. Target (issue): Spanish and French within 3 points of English (no more than 3 points
     below it).
   - Zero-shot (informative only): trained on all English examples, tested on all Spanish and
     French examples.

2. FAQ. The index is built from ``bot/data/faq`` with the configured FAQ embedder
   (``retrieval.settings``), saved to a temporary directory and searched through
   ``retrieval.search.FaqSearcher``, one question at a time, as the action server does.
   Held-apart questions: English ``benchmarks/data/faq_eval/*.yml`` (answerable ones), Spanish
   and French ``benchmarks/data/faq_eval_multilingual/<code>.yml``. Recall@1 and recall@3 per
   language, the gap to English, and English recall restricted to the entries the other
   languages' questions cover (like for like).

Results: ``benchmarks/results/multilingual.{json,md}``. Run with

    .venv/bin/python -m benchmarks.multilingual      (make bench-lang)
"""

from __future__ import annotations

import json
import platform
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from bot.language import LanguageConfig
from bot.text import clean_text
from retrieval.embedders import Embedder, load_embedder
from retrieval.faq import load_faq
from retrieval.index import build_index, save_index
from retrieval.search import FaqSearcher
from retrieval.settings import get_faq_settings
from stack.settings import ROOT

TRAINING_DIR = ROOT / "bot" / "data" / "training"
CONFIG = ROOT / "config.yml"
FAQ_EVAL_DIR = ROOT / "benchmarks" / "data" / "faq_eval"
FAQ_EVAL_MULTILINGUAL_DIR = ROOT / "benchmarks" / "data" / "faq_eval_multilingual"
RESULTS = ROOT / "benchmarks" / "results"
REFERENCE = "en"
FOLDS = 5
SEED = 0
TARGET_POINTS = 3.0  # Spanish and French may be at most this many points below English
WORST = 5
DEPTH = 3  # FAQ hits per question, as recall@3 needs


def log(message: str) -> None:
    print(f"[multilingual] {message}", flush=True)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Example:
    """One NLU training example and the language file it came from."""

    text: str
    intent: str
    language: str


def read_nlu(path: Path) -> list[tuple[str, str]]:
    """(intent, text) of every example of a Rasa 3.x NLU yaml file, text stripped as Rasa strips it."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    pairs = []
    for block in data.get("nlu") or []:
        if "intent" not in block:  # synonyms, lookups, regexes: no intent examples
            continue
        for line in str(block.get("examples") or "").splitlines():
            if line.startswith("-"):  # Rasa skips (with a warning) lines that do not
                pairs.append((str(block["intent"]).strip(), line[1:].strip("\n\r ")))
    return pairs


def load_examples(codes: Sequence[str], directory: Path = TRAINING_DIR) -> tuple[list[Example], dict[str, Any]]:
    """The pooled examples of every language, and how many duplicates were dropped.

    Rasa's TrainingData keeps one copy of each (text, intent) pair, also across language files;
    a pair in two files is kept in the first language of ``codes``.
    """
    seen: set[tuple[str, str]] = set()
    examples: list[Example] = []
    dropped: Counter[str] = Counter()
    for code in codes:
        for intent, text in read_nlu(directory / f"nlu_{code}.yml"):
            if (text, intent) in seen:
                dropped[code] += 1
                continue
            seen.add((text, intent))
            examples.append(Example(text, intent, code))
    labels: dict[str, set[str]] = {}
    for example in examples:
        labels.setdefault(example.text.casefold(), set()).add(example.intent)
    conflicting = sorted(text for text, intents in labels.items() if len(intents) > 1)
    stats = {"duplicates_dropped": dict(dropped), "texts_with_conflicting_intents": conflicting}
    return examples, stats


def read_asked(path: Path, known: set[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """(question, entry id) of an eval file's answerable questions, and its ids that are not in the FAQ."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    asked, unknown = [], []
    for item in data.get("questions") or []:
        if item["id"] not in known:
            unknown.append(f"{path.name}: {item['id']}")
            continue
        asked += [(str(text), str(item["id"])) for text in item["asked"]]
    return asked, unknown


# ------------------------------------------------------------------- scoring


def language_scores(gold: Sequence[str], predicted: Sequence[str], languages: Sequence[str]) -> dict[str, Any]:
    """Accuracy (and correct / total) and macro-F1 over the gold intents, per language."""
    scores: dict[str, Any] = {}
    for code in dict.fromkeys(languages):
        rows = [i for i, language in enumerate(languages) if language == code]
        g, p = [gold[i] for i in rows], [predicted[i] for i in rows]
        correct = sum(a == b for a, b in zip(g, p, strict=True))
        scores[code] = {
            "accuracy": round(correct / len(rows), 4),
            "correct": correct,
            "total": len(rows),
            "macro_f1": round(float(f1_score(g, p, labels=sorted(set(g)), average="macro", zero_division=0)), 4),
        }
    return scores


def gaps(values: dict[str, float], reference: str = REFERENCE) -> dict[str, float]:
    """Points (x100) each other language is above (+) or below (-) the reference language."""
    return {code: round(100 * (value - values[reference]), 1) for code, value in values.items() if code != reference}


def meets_target(gap_points: float) -> bool:
    return gap_points >= -TARGET_POINTS


def worst_intents(gold: Sequence[str], predicted: Sequence[str], n: int = WORST) -> list[dict[str, Any]]:
    """The ``n`` intents with the lowest recall (ties: more examples first), with their commonest confusion."""
    rows: list[dict[str, Any]] = []
    for intent in sorted(set(gold)):
        found = [p for g, p in zip(gold, predicted, strict=True) if g == intent]
        wrong = Counter(p for p in found if p != intent)
        rows.append({
            "intent": intent,
            "recall": round(sum(p == intent for p in found) / len(found), 4),
            "examples": len(found),
            "confused_with": wrong.most_common(1)[0][0] if wrong else None,
        })
    return sorted(rows, key=lambda row: (row["recall"], -row["examples"], row["intent"]))[:n]


def recall_at(ranked: Sequence[Sequence[str]], gold: Sequence[str]) -> dict[str, Any]:
    """Recall@1 and recall@3 of ranked entry ids against the gold entry of each question."""
    pairs = list(zip(ranked, gold, strict=True))
    return {
        "questions": len(pairs),
        "recall_at_1": round(sum(bool(r) and r[0] == g for r, g in pairs) / len(pairs), 4) if pairs else 0.0,
        "recall_at_3": round(sum(g in r[:3] for r, g in pairs) / len(pairs), 4) if pairs else 0.0,
    }


# ------------------------------------------------------------------- intents


def pipeline_settings() -> dict[str, Any]:
    """Embedder, max characters and classifier settings of the deployed pipeline (config.yml + defaults)."""
    # Imported here: the components pull in Rasa and TensorFlow (~20 s); the helpers above do not need them.
    from rasa.engine.graph import GraphComponent

    from bot.components.intent_classifier import SentenceIntentClassifier
    from bot.components.sentence_featurizer import SentenceEmbeddingFeaturizer

    pipeline = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))["pipeline"]

    def configured(component: type[GraphComponent]) -> dict[str, Any]:
        name = f"{component.__module__}.{component.__name__}"
        given = next((step for step in pipeline if step["name"] in (name, component.__name__)), None)
        if given is None:
            raise SystemExit(f"{name} is not in {CONFIG}: this benchmark measures that pipeline")
        return {**component.get_default_config(), **{k: v for k, v in given.items() if k != "name"}}

    featurizer, classifier = configured(SentenceEmbeddingFeaturizer), configured(SentenceIntentClassifier)
    return {"embedder": str(featurizer["embedder"]), "max_chars": int(featurizer["max_chars"]),
            "C": float(classifier["C"]), "max_iter": int(classifier["max_iter"])}


def make_classifier(settings: dict[str, Any]) -> LogisticRegression:
    # The model of SentenceIntentClassifier.train (bot/components/intent_classifier.py), which only
    # exists inside the Rasa component; it predicts argmax of softmax(W x + b), as predict() here does.
    return LogisticRegression(C=settings["C"], max_iter=settings["max_iter"])


class Fitter:
    """Fits classifiers and counts the fits that stopped at max_iter before converging."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.fits = 0
        self.not_converged = 0

    def __call__(self, vectors: np.ndarray, intents: Sequence[str]) -> LogisticRegression:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model = make_classifier(self.settings).fit(vectors, list(intents))
        self.fits += 1
        self.not_converged += any(issubclass(w.category, ConvergenceWarning) for w in caught)
        return model


def cross_validate(
    vectors: np.ndarray, examples: Sequence[Example], fit: Callable[[np.ndarray, Sequence[str]], Any]
) -> dict[str, Any]:
    """Held-out predictions of stratified k-fold CV over all languages, and per-fold scores per language."""
    intents = [e.intent for e in examples]
    languages = [e.language for e in examples]
    strata = [f"{e.intent}|{e.language}" for e in examples]
    predicted = [""] * len(examples)
    folds = []
    splitter = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    for number, (train, test) in enumerate(splitter.split(vectors, strata), start=1):
        model = fit(vectors[train], [intents[i] for i in train])
        for i, label in zip(test, model.predict(vectors[test]), strict=True):
            predicted[i] = str(label)
        folds.append(language_scores([intents[i] for i in test], [predicted[i] for i in test],
                                     [languages[i] for i in test]))
        log(f"  fold {number}/{FOLDS}: " + ", ".join(f"{c} {s['accuracy']:.3f}" for c, s in folds[-1].items()))
    pooled = language_scores(intents, predicted, languages)
    per_language: dict[str, Any] = {}
    for code, scores in pooled.items():
        accuracies = [fold[code]["accuracy"] for fold in folds]
        rows = [i for i, language in enumerate(languages) if language == code]
        per_language[code] = {
            "mean_accuracy": round(float(np.mean(accuracies)), 4),
            "fold_std": round(float(np.std(accuracies)), 4),
            "fold_accuracies": accuracies,
            "pooled_correct": scores["correct"],
            "pooled_total": scores["total"],
            "pooled_accuracy": scores["accuracy"],
            "macro_f1": scores["macro_f1"],
            "worst_intents": worst_intents([intents[i] for i in rows], [predicted[i] for i in rows]),
        }
    gap = gaps({code: s["mean_accuracy"] for code, s in per_language.items()})
    by_fold = [gaps({code: scores["accuracy"] for code, scores in fold.items()}) for fold in folds]
    return {"per_language": per_language, "gap_points": gap,
            "gap_points_by_fold": {code: [fold[code] for fold in by_fold] for code in gap},
            "target_met": {code: meets_target(points) for code, points in gap.items()}}


def zero_shot(
    vectors: np.ndarray, examples: Sequence[Example], fit: Callable[[np.ndarray, Sequence[str]], Any]
) -> dict[str, Any]:
    """Trained on every reference-language example, tested on every example of the others."""
    train = [i for i, e in enumerate(examples) if e.language == REFERENCE]
    test = [i for i, e in enumerate(examples) if e.language != REFERENCE]
    model = fit(vectors[train], [examples[i].intent for i in train])
    predicted = [str(label) for label in model.predict(vectors[test])]
    return language_scores([examples[i].intent for i in test], predicted, [examples[i].language for i in test])


# ----------------------------------------------------------------------- FAQ


def faq_recall(codes: Sequence[str]) -> dict[str, Any]:
    """Recall of the deployed FAQ search per language, on the held-apart questions."""
    settings = get_faq_settings()
    collection = load_faq(settings.dir, settings.languages, settings.default_language)
    known = set(collection.by_id)
    asked: dict[str, list[tuple[str, str]]] = {}
    unknown: list[str] = []
    for code in codes:
        paths = sorted(FAQ_EVAL_DIR.glob("*.yml")) if code == REFERENCE else [FAQ_EVAL_MULTILINGUAL_DIR / f"{code}.yml"]
        asked[code] = []
        for path in paths:
            if path.exists():
                found, missing = read_asked(path, known)
                asked[code] += found
                unknown += missing
    embedder = load_embedder(settings.embedder)
    started = time.perf_counter()
    index = build_index(collection, embedder, settings.approximate_above, embedder_spec=settings.embedder)
    build_seconds = time.perf_counter() - started
    log(f"  index: {len(collection.entries)} entries, {len(index.rows)} questions, {build_seconds:.0f} s")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="faq-index-") as directory:
        save_index(index, Path(directory))
        searcher = FaqSearcher(embedder, Path(directory))

        def ranked(questions: Iterable[tuple[str, str]]) -> list[list[str]]:
            return [[hit.entry_id for hit in searcher.search(text.strip(), DEPTH).hits] for text, _ in questions]

        rankings = {code: ranked(questions) for code, questions in asked.items()}
    for code, questions in asked.items():
        if questions:
            results[code] = {**recall_at(rankings[code], [gold for _, gold in questions]),
                             "entries": len({gold for _, gold in questions})}
    others = {gold for code, questions in asked.items() if code != REFERENCE for _, gold in questions}
    like = [(r, gold) for r, (_, gold) in zip(rankings[REFERENCE], asked[REFERENCE], strict=True) if gold in others]
    like_for_like = {**recall_at([r for r, _ in like], [g for _, g in like]), "entries": len({g for _, g in like})}
    recall_1 = {code: r["recall_at_1"] for code, r in results.items()}
    gap_all = gaps(recall_1)
    gap_like = gaps({**recall_1, REFERENCE: like_for_like["recall_at_1"]})
    return {
        "embedder": settings.embedder,
        "faq_entries": len(collection.entries),
        "faq_questions": len(index.rows),
        "build_seconds": round(build_seconds, 1),
        "unknown_eval_ids": unknown,
        "per_language": results,
        "reference_like_for_like": like_for_like,
        "gap_points": gap_all,
        "gap_points_like_for_like": gap_like,
        "within_target_like_for_like": {code: meets_target(points) for code, points in gap_like.items()},
    }


# ------------------------------------------------------------------- report


def pct(value: float) -> str:
    return f"{100 * value:.1f}"


def signed(points: float | None) -> str:
    return "-" if points is None else f"{points:+.1f}"


def markdown(r: dict[str, Any]) -> str:
    nlu, faq = r["intents"], r["faq"]
    cv = nlu["cross_validation"]
    verdict = {True: "met", False: "**NOT met**"}
    lines = [
        "# Multilingual quality: intents and FAQ per language",
        "",
        f"{r['date']}, Python {r['python']}, {r['total_seconds'] / 60:.1f} min ("
        + ", ".join(f"{name.replace('_', ' ')} {value:.0f} s" for name, value in r["seconds_by_section"].items())
        + "). Command:",
        "",
        "    .venv/bin/python -m benchmarks.multilingual   (make bench-lang)",
        "",
        "## Intent accuracy (held out, as deployed)",
        "",
        f"Pipeline of `config.yml`: `{nlu['settings']['embedder']}` sentence embeddings (text cleaned as the "
        f"featurizer does, cut at {nlu['settings']['max_chars']} chars), logistic regression C="
        f"{nlu['settings']['C']:g}, max_iter {nlu['settings']['max_iter']}. Stratified {FOLDS}-fold "
        f"cross-validation over the pooled {nlu['examples']} examples of {len(r['languages'])} languages (strata "
        f"intent + language, random_state {SEED}), each fold trained on all languages together. Accuracy is the "
        "mean over folds (± std); correct / total and macro-F1 pool the held-out predictions.",
        "",
        "| language | examples | intents | accuracy | ± fold std | correct / total | macro-F1 | gap to en (points) "
        f"| target (≥ -{TARGET_POINTS:g}) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for code, s in cv["per_language"].items():
        gap = cv["gap_points"].get(code)
        target = "reference" if code == REFERENCE else verdict[cv["target_met"][code]]
        lines.append(
            f"| {code} | {s['pooled_total']} | {nlu['intents_per_language'][code]} | {pct(s['mean_accuracy'])} | "
            f"{pct(s['fold_std'])} | {s['pooled_correct']} / {s['pooled_total']} | {pct(s['macro_f1'])} | "
            f"{signed(gap)} | {target} |"
        )
    lines += [
        "",
        "Zero-shot cross-lingual (informative only; trained on every English example, tested on every example "
        "of the language):",
        "",
        "| language | accuracy | correct / total | macro-F1 | vs. trained with it (points) |",
        "|---|---:|---:|---:|---:|",
    ]
    for code, s in nlu["zero_shot_from_english"].items():
        lines.append(f"| {code} | {pct(s['accuracy'])} | {s['correct']} / {s['total']} | {pct(s['macro_f1'])} | "
                     f"{100 * (s['accuracy'] - cv['per_language'][code]['mean_accuracy']):+.1f} |")
    lines += ["", f"Worst {WORST} intents by held-out recall (commonest wrong prediction in brackets):", "",
              "| language | intents |", "|---|---|"]
    for code, s in cv["per_language"].items():
        worst = ", ".join(f"{w['intent']} {pct(w['recall'])} % of {w['examples']}"
                          + (f" (→ {w['confused_with']})" if w["confused_with"] else "") for w in s["worst_intents"])
        lines.append(f"| {code} | {worst} |")
    like = faq["reference_like_for_like"]
    lines += [
        "",
        "## FAQ recall (deployed search, held-apart questions)",
        "",
        f"Index built from `bot/data/faq` ({faq['faq_entries']} entries, {faq['faq_questions']} question variants "
        f"in all languages) with `{faq['embedder']}`, searched through `FaqSearcher` one question at a time.",
        "",
        "| language | questions | entries covered | recall@1 | recall@3 | recall@1 gap to en (points) "
        "| gap to en on the same entries |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for code, s in faq["per_language"].items():
        lines.append(
            f"| {code} | {s['questions']} | {s['entries']} | {pct(s['recall_at_1'])} | {pct(s['recall_at_3'])} | "
            f"{signed(faq['gap_points'].get(code))} | {signed(faq['gap_points_like_for_like'].get(code))} |"
        )
    lines.append(f"| en, same entries as es/fr | {like['questions']} | {like['entries']} | "
                 f"{pct(like['recall_at_1'])} | {pct(like['recall_at_3'])} | - | - |")
    faq_within = ", ".join(f"{code} {'within' if ok else 'NOT within'}"
                           for code, ok in faq["within_target_like_for_like"].items())
    intent_verdict = ", ".join(f"{code} {verdict[ok]}" for code, ok in cv["target_met"].items())
    dropped = nlu["data"]["duplicates_dropped"]
    conflicting = nlu["data"]["texts_with_conflicting_intents"]
    lines += [
        "",
        "## Verdict and notes",
        "",
        f"- Target (issue): Spanish and French intent accuracy within {TARGET_POINTS:g} points of English, read "
        f"as no more than {TARGET_POINTS:g} points below it: {intent_verdict}. The same bar on FAQ recall@1 "
        f"(like for like, not part of the target): {faq_within}.",
        "- The gap moves a lot from fold to fold (English has ~86 held-out examples per fold): "
        + "; ".join(f"{code} - en per fold {', '.join(signed(g) for g in by_fold)} (std {np.std(by_fold):.1f})"
                    for code, by_fold in cv["gap_points_by_fold"].items())
        + ". A miss or a pass by a point or two is within that noise.",
        "- Nothing is tuned here: C and the embedder are config.yml's, the FAQ embedder and scoring are "
        "`retrieval`'s. The FAQ embedder and the entry scoring were chosen (`make bench-faq`) on these same "
        "English, Spanish and French eval questions, so the FAQ numbers are in-sample for those choices.",
        "- The NLU examples are the bot's own training data: short, and many are small variants of one another "
        "(\"hola\", \"hola!\", \"holaa\"), so held-out accuracy is optimistic for real citizens' messages. "
        "Exact (text, intent) duplicates are dropped as Rasa drops them ("
        + (", ".join(f"{c}: {n}" for c, n in dropped.items()) or "none") + "); "
        + (f"{len(conflicting)} text(s) carry two intents ({', '.join(conflicting[:8])})." if conflicting
           else "no text carries two intents."),
        f"- The Spanish and French FAQ questions cover {faq['per_language'].get('es', {}).get('entries', 0)} "
        f"entries, the English ones all {faq['per_language'][REFERENCE]['entries']} answerable entries, so the "
        "plain gap compares different entries; the last column compares with English on the same entries.",
        f"- Classifier fits that stopped at max_iter before converging: {nlu['not_converged']} of {nlu['fits']} "
        "(same settings as the deployed training).",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    started = time.perf_counter()
    codes = LanguageConfig.from_file().codes
    seconds: dict[str, float] = {}

    def lap(name: str) -> None:
        seconds[name] = round(time.perf_counter() - started - sum(seconds.values()), 1)

    log(f"languages {', '.join(codes)}; reading the pipeline settings (imports Rasa)")
    settings = pipeline_settings()
    examples, data_stats = load_examples(codes)
    log(f"  {len(examples)} NLU examples; embedding them with {settings['embedder']}")
    embedder: Embedder = load_embedder(settings["embedder"])
    lap("settings_and_models")
    vectors = embedder.embed([clean_text(e.text)[: settings["max_chars"]] for e in examples])
    lap("nlu_embedding")
    log(f"  embedded in {seconds['nlu_embedding']:.0f} s")

    log(f"intents: {FOLDS}-fold cross-validation over all languages")
    fit = Fitter(settings)
    cv = cross_validate(vectors, examples, fit)
    log("intents: zero-shot from English")
    shot = zero_shot(vectors, examples, fit)
    lap("nlu_fits")
    log("FAQ: building the index and searching the held-apart questions")
    faq = faq_recall(codes)
    lap("faq")

    report: dict[str, Any] = {
        "benchmark": "multilingual intents and FAQ",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "languages": codes,
        "target_points": TARGET_POINTS,
        "intents": {
            "settings": settings,
            "examples": len(examples),
            "intents_per_language": {code: len({e.intent for e in examples if e.language == code}) for code in codes},
            "data": data_stats,
            "fits": fit.fits,
            "not_converged": fit.not_converged,
            "cross_validation": cv,
            "zero_shot_from_english": shot,
        },
        "faq": faq,
    }
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    report["seconds_by_section"] = seconds
    RESULTS.mkdir(parents=True, exist_ok=True)
    table = markdown(report)
    (RESULTS / "multilingual.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n",
                                               encoding="utf-8")
    (RESULTS / "multilingual.md").write_text(table, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
