"""``python -m learning export|merge``: see learning/__init__.py and the README."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml
from tqdm import tqdm

from learning.conversations import read_conversations
from learning.errors import LearningError
from learning.export import candidates, write_review
from learning.merge import ROOT, merge

DOMAIN = ROOT / "domain.yml"


def _export(args: argparse.Namespace) -> int:
    from open311.store import make_engine
    from retrieval.gaps import GapLog, GapLogUnavailable
    from stack.settings import StackSettings

    settings = StackSettings()
    since = datetime.now(timezone.utc) - timedelta(days=args.days)
    tracker_url = args.tracker_url or f"sqlite:///{settings.tracker_db}"
    conversations = tqdm(read_conversations(tracker_url, since), desc="conversations", unit=" conv",
                         disable=args.quiet)
    misses: list[tuple[str, str]] = []
    try:
        gaps = GapLog(make_engine(settings.database_url)).most_frequent(limit=10_000, days=args.days)
        misses = [(gap.question, gap.language or "en") for gap in gaps]
    except GapLogUnavailable as exc:
        print(f"warning: the FAQ gap log cannot be read ({exc}); FAQ misses are left out", file=sys.stderr)
    found = candidates(conversations, args.threshold, misses)
    out = args.out or settings.var_dir / "reviews" / f"review-{datetime.now():%Y-%m-%d-%H%M}.yml"
    write_review(out, found, since, args.threshold)
    print(f"{len(found)} candidate examples from the last {args.days} days written to {out}")
    print(f"Review it (accept / relabel / drop), then: make merge REVIEW={out}")
    return 0


def _merge(args: argparse.Namespace) -> int:
    intents = {str(i) for i in yaml.safe_load(DOMAIN.read_text(encoding="utf-8")).get("intents") or []}
    result = merge(args.review, args.training_dir, args.faq_dir, intents, dry_run=args.dry_run)
    for where, target, text in result.added:
        print(f"added to {where} ({target}): {text}")
    for text, target, already in result.conflicts:
        print(f"conflict, not added: {text!r} is already an example of {already}, not {target}")
    verb = "would add" if args.dry_run else "added"
    print(f"{verb} {len(result.added)}; duplicates skipped {result.duplicates}; conflicts {len(result.conflicts)}; "
          f"dropped {result.dropped}; undecided {result.undecided}")
    if result.added and not args.dry_run:
        print("Next: make retrain (trains a candidate model and compares it with the current one)")
    return 0


def _retrain(args: argparse.Namespace) -> int:
    from learning.registry import Registry
    from learning.retrain import retrain

    registry = Registry(args.models_dir, keep=args.keep)
    result = retrain(registry, args.candidate, args.tolerance, args.heldout, args.data, progress=not args.quiet)
    print("\n".join(result.lines))
    return 0 if result.promote else 3


def _evaluate(args: argparse.Namespace) -> int:
    from learning.report import evaluate, summary

    report, path = evaluate(args.model, quick=args.quick, progress=not args.quiet)
    print("\n".join(summary(report)))
    print(f"Report with figures: {path}")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from learning.registry import Registry
    from stack.train import fingerprint

    restored = Registry(args.models_dir).rollback(fingerprint())
    print(f"Rolled back: {restored.name} is models/citybot.tar.gz again (restart the Rasa server, or `make run`). "
          "The training data on disk is newer than it: revert the merge, or `make retrain` when fixed.")
    return 0


def _models(args: argparse.Namespace) -> int:
    from learning.registry import Registry

    registry = Registry(args.models_dir)
    registry.current()
    for record in registry.records:
        accuracy = ", ".join(f"{language} {s['accuracy']:.1f}%"
                             for language, s in (record.scores.get("languages") or {}).items())
        print(f"{record.status:<11} {record.name:<36} {record.trained_at:<26} {accuracy}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m learning", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="recent conversations -> a review file of candidate examples")
    export.add_argument("--days", type=int, default=7, help="how far back (default 7 days)")
    export.add_argument("--threshold", type=float, default=0.7,
                        help="a message whose intent confidence is under this is a candidate (default 0.7)")
    export.add_argument("--tracker-url", help="the tracker store (default: the stack's SQLite tracker.db); "
                                              "any SQLAlchemy URL, e.g. postgresql://...")
    export.add_argument("--out", type=Path, help="the review file (default var/reviews/review-<date>.yml)")
    export.add_argument("--quiet", action="store_true", help="no progress bar")
    merged = commands.add_parser("merge", help="a reviewed file's accepted examples -> the training data")
    merged.add_argument("review", type=Path)
    merged.add_argument("--dry-run", action="store_true", help="say what would be added, change nothing")
    merged.add_argument("--training-dir", type=Path, default=ROOT / "bot" / "data" / "training")
    merged.add_argument("--faq-dir", type=Path, default=ROOT / "bot" / "data" / "faq")
    from learning.evaluation import HELDOUT
    from stack.train import TRAINING_DATA

    models_dir = ROOT / "models"
    retrained = commands.add_parser("retrain", help="train a candidate, compare it with the current model on "
                                                    "held-out data, promote it only if it is not worse")
    retrained.add_argument("--tolerance", type=float, default=1.0,
                           help="points of accuracy or macro-F1 a language may lose (default 1.0)")
    retrained.add_argument("--keep", type=int, default=5, help="earlier models kept in models/history (default 5)")
    retrained.add_argument("--candidate", type=Path, help="compare this trained model instead of training one")
    retrained.add_argument("--data", type=Path, default=TRAINING_DATA, help=argparse.SUPPRESS)
    retrained.add_argument("--heldout", type=Path, default=HELDOUT, help=argparse.SUPPRESS)
    retrained.add_argument("--quiet", action="store_true", help="no progress bars")
    evaluated = commands.add_parser("evaluate", help="one report (reports/evaluation-<date>/) on the model in "
                                                     "production: held-out intents, cross-validation, stories, FAQ")
    evaluated.add_argument("--model", type=Path, default=models_dir / "citybot.tar.gz")
    evaluated.add_argument("--quick", action="store_true", help="the held-out intents only (about a minute)")
    evaluated.add_argument("--quiet", action="store_true", help="no progress bars")
    rolled = commands.add_parser("rollback", help="the previous model becomes the current one again")
    listed = commands.add_parser("models", help="the models: current, history, refused, with their scores")
    for command in (retrained, rolled, listed):
        command.add_argument("--models-dir", type=Path, default=models_dir, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    handlers = {"export": _export, "merge": _merge, "retrain": _retrain, "evaluate": _evaluate,
                "rollback": _rollback, "models": _models}
    try:
        return handlers[args.command](args)
    except LearningError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
