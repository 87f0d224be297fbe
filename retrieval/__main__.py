"""`python -m retrieval check|build|gaps`: the content team's FAQ commands (make faq-check, faq, faq-gaps)."""

from __future__ import annotations

import argparse
import sys
import time

from retrieval.embedders import load_embedder
from retrieval.embedding_cache import EmbeddingCache
from retrieval.errors import IndexCorrupt, IndexNotFound, RetrievalError
from retrieval.faq import FaqProblem, check_faq
from retrieval.gaps import GapLog
from retrieval.index import Manifest, build_index, build_key, save_index
from retrieval.settings import FaqSettings


def _problems_report(problems: list[FaqProblem]) -> str:
    lines = [f"  {problem}" for problem in problems]
    return f"{len(problems)} problem(s) in the FAQ files:\n" + "\n".join(lines)


def check(settings: FaqSettings) -> int:
    collection, problems = check_faq(settings.dir, settings.languages, settings.default_language)
    if problems:
        print(_problems_report(problems), file=sys.stderr)
        return 1
    languages = ", ".join(f"{code}: {count}" for code, count in collection.languages().items())
    print(f"FAQ OK: {len(collection.entries)} entries in {settings.dir} ({languages})")
    return 0


def build(settings: FaqSettings, force: bool = False) -> int:
    collection, problems = check_faq(settings.dir, settings.languages, settings.default_language)
    if problems:
        print(_problems_report(problems), file=sys.stderr)
        print("The index was NOT rebuilt; the bot keeps answering from the last good one.", file=sys.stderr)
        return 1
    try:
        current: Manifest | None = Manifest.read(settings.index_dir)
    except (IndexNotFound, IndexCorrupt):
        current = None
    from tqdm import tqdm

    key = build_key(collection.content_hash, settings.embedder, settings.approximate_above)
    if current is not None and current.build_key == key and not force:
        print(f"FAQ index is up to date ({current.entries} entries, {settings.index_dir}); nothing to do.")
        return 0
    started = time.perf_counter()
    embedder = load_embedder(settings.embedder)
    texts = sum(len(q) for entry in collection.entries for q in entry.questions.values())
    texts += sum(len(entry.answers) for entry in collection.entries)
    # --force re-embeds everything (e.g. after upgrading the model package); otherwise only new texts.
    cache = None if force else EmbeddingCache.beside(settings.index_dir, embedder)
    with tqdm(total=texts, unit="text", desc="Embedding FAQ questions and answers", file=sys.stderr) as bar:
        index = build_index(
            collection, embedder, settings.approximate_above, bar.update, settings.embedder, cache=cache
        )
    save_index(index, settings.index_dir)
    if cache is not None:
        cache.save()
    manifest = index.manifest
    reused = f", {cache.hits} of {cache.hits + cache.misses} texts reused from the last build" if cache else ""
    print(
        f"FAQ index built: {manifest.entries} entries, {manifest.vectors} questions, {manifest.index_type} "
        f"index, {manifest.embedder} -> {settings.index_dir} ({time.perf_counter() - started:.1f} s{reused}). "
        "Running action servers pick it up within seconds."
    )
    return 0


def gaps(settings: FaqSettings, limit: int, days: int | None) -> int:
    from open311.store import make_engine

    log = GapLog(make_engine(settings.database_url))
    found = log.most_frequent(limit=limit, days=days)
    if not found:
        print("No unanswered FAQ questions recorded" + (f" in the last {days} days." if days else "."))
        return 0
    print(f"{'times':>5}  {'last asked':<16}  {'outcome':<9}  {'closest entry (score)':<36}  question")
    for gap in found:
        closest = f"{gap.best_entry_id} ({gap.best_score:.2f})" if gap.best_entry_id else "-"
        print(
            f"{gap.count:>5}  {gap.last_asked:%Y-%m-%d %H:%M}  {gap.outcome:<9}  {closest:<36}  {gap.question}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retrieval", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="validate the FAQ files and list every problem")
    build_parser = commands.add_parser("build", help="build the FAQ index if the FAQ or the embedder changed")
    build_parser.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    gaps_parser = commands.add_parser("gaps", help="questions the bot could not answer, most frequent first")
    gaps_parser.add_argument("--limit", type=int, default=50)
    gaps_parser.add_argument("--days", type=int, default=None, help="only the last N days")
    args = parser.parse_args(argv)
    settings = FaqSettings()
    try:
        if args.command == "check":
            return check(settings)
        if args.command == "build":
            return build(settings, force=args.force)
        return gaps(settings, args.limit, args.days)
    except RetrievalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
