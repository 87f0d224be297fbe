"""Language identification on short chat messages, per backend, with and without conversation context.

Messages: benchmarks/data/langid/messages.yml (en, es, fr, and German/Portuguese as "other").
"Without context" asks the backend alone (restricted to the configured languages, so an "other"
message can only be handled by being kept out of a switch); "with context" runs the bot's rule
(`bot.language.decide_language`) with the conversation's language so far. For each backend and a
small grid of (min_words, min_confidence) the accuracy is reported overall and on 1-3 word
messages; "other" messages count as handled when they do not move the conversation away from its
language (or the default). Results: benchmarks/results/langid.{json,md}.

    .venv/bin/python -m benchmarks.langid
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import yaml

from bot.language import (
    LanguageBackend,
    LanguageConfig,
    NgramBackend,
    build_backend,
    decide_language,
    language_examples,
    words_of,
)
from stack.settings import ROOT

DATA = ROOT / "benchmarks" / "data" / "langid" / "messages.yml"
RESULTS = ROOT / "benchmarks" / "results"
BACKENDS = ("lingua", "langdetect", "ngram", "lingua+ngram", "langdetect+ngram")
MIN_WORDS = (2, 3, 4)
MIN_CONFIDENCE = (0.3, 0.5, 0.7, 0.9)
TARGET_SHORT_IN_CONTEXT = 0.97
DEPLOYED_RULE = (4, 0.5)  # bot.language.decide's defaults


def short(text: str) -> bool:
    return len(text.split()) <= 3


def correct(expected: str, found: str | None, context: str | None, default: str) -> bool:
    if expected == "other":  # handled gracefully: the conversation keeps its language
        return found == (context or default)
    return found == expected


def held_out_backends(messages: list[dict[str, Any]], config: LanguageConfig) -> dict[str, LanguageBackend]:
    """The backends to compare; the n-gram model is trained without any text that is also a test message."""
    tested = {m["text"].casefold().strip() for m in messages}
    examples = {
        code: [text for text in texts if text.casefold().strip() not in tested]
        for code, texts in language_examples().items()
        if code in config.names
    }
    ngram = NgramBackend.train(examples)
    return {name: build_backend(name, tuple(config.codes), {"ngram": ngram}) for name in BACKENDS}


def evaluate(messages: list[dict[str, Any]], config: LanguageConfig) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, backend in held_out_backends(messages, config).items():
        started = time.perf_counter()
        alone = [backend.guess(" ".join(words_of(m["text"])) or m["text"]).language for m in messages]
        per_message_ms = (time.perf_counter() - started) * 1000 / len(messages)
        no_context = _scores(messages, alone, config, use_context=False)
        grid = []
        for min_words in MIN_WORDS:
            for min_confidence in MIN_CONFIDENCE:
                found = [
                    decide_language(m["text"], m["context"], backend, config, min_words, min_confidence).language
                    for m in messages
                ]
                grid.append({"min_words": min_words, "min_confidence": min_confidence,
                             **_scores(messages, found, config, use_context=True)})
        best = max(grid, key=lambda row: (row["short"], row["overall"]))
        deployed = next(row for row in grid if (row["min_words"], row["min_confidence"]) == DEPLOYED_RULE)
        results[name] = {"ms_per_message": round(per_message_ms, 3), "without_context": no_context,
                         "with_context_grid": grid, "with_context_best": best,
                         "with_context_deployed_rule": deployed}
    return results


def _scores(messages: list[dict[str, Any]], found: Sequence[str | None], config: LanguageConfig,
            use_context: bool) -> dict[str, Any]:
    def accuracy(selected: list[int]) -> float:
        hits = [correct(messages[i]["lang"], found[i], messages[i]["context"] if use_context else None,
                        config.default) for i in selected]
        return round(sum(hits) / len(hits), 4) if hits else 0.0

    everything = list(range(len(messages)))
    return {
        "overall": accuracy(everything),
        "short": accuracy([i for i in everything if short(messages[i]["text"])]),
        "mixed": accuracy([i for i in everything if messages[i].get("mixed")]),
        "per_language": {lang: accuracy([i for i in everything if messages[i]["lang"] == lang])
                         for lang in sorted({m["lang"] for m in messages})},
    }


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Language identification on chat messages",
        "",
        f"{report['date']}, Python {report['python']}. {report['messages']} messages "
        f"({report['short_messages']} of 1-3 words) from `benchmarks/data/langid/messages.yml`. \"other\" "
        "(German, Portuguese) counts as handled when the conversation keeps its language.",
        "",
        "The n-gram backend is trained on the bot's NLU examples and FAQ questions per language, minus any "
        "text that is also a test message (exact match, case-insensitive).",
        "",
        "| backend | context | rule (min words / min confidence) | overall | 1-3 words | mixed | en | es | fr "
        "| other | ms/msg |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in report["backends"].items():
        chosen = r["with_context_best"]
        deployed = r["with_context_deployed_rule"]
        for label, row, rule in (
            ("none", r["without_context"], "-"),
            ("yes", deployed, f"{deployed['min_words']} / {deployed['min_confidence']} (deployed)"),
            ("yes", chosen, f"{chosen['min_words']} / {chosen['min_confidence']} (best here)"),
        ):
            per = row["per_language"]
            lines.append(
                f"| {name} | {label} | {rule} | {100 * row['overall']:.1f} | {100 * row['short']:.1f} | "
                f"{100 * row['mixed']:.1f} | {100 * per.get('en', 0):.1f} | {100 * per.get('es', 0):.1f} | "
                f"{100 * per.get('fr', 0):.1f} | {100 * per.get('other', 0):.1f} | {r['ms_per_message']} |"
            )
    best = report["best"]
    lines += [
        "",
        f"Best: **{best['backend']}** with context, min words {best['min_words']}, min confidence "
        f"{best['min_confidence']}: {100 * best['short']:.1f} % on 1-3 word messages (target "
        f"{100 * TARGET_SHORT_IN_CONTEXT:.0f} %: {'met' if best['short'] >= TARGET_SHORT_IN_CONTEXT else 'NOT met'}).",
        "The rule is chosen on these same messages (in-sample, optimistic); the grid of rules per backend is "
        "in langid.json. The bot runs the backend named in config.yml (LanguageDetector) with the deployed "
        f"rule {DEPLOYED_RULE[0]} / {DEPLOYED_RULE[1]}: ngram, the best overall and on mixed messages at that rule.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    config = LanguageConfig.from_file()
    messages = yaml.safe_load(DATA.read_text(encoding="utf-8"))["messages"]
    backends = evaluate(messages, config)
    name = max(backends, key=lambda n: (backends[n]["with_context_best"]["short"],
                                        backends[n]["with_context_best"]["overall"]))
    report = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "messages": len(messages),
        "short_messages": sum(short(m["text"]) for m in messages),
        "backends": backends,
        "best": {"backend": name, **backends[name]["with_context_best"]},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "langid.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "langid.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
