"""A reviewed file's accepted examples, added to the NLU training data or to an FAQ entry, without duplicates.

An example's target is its ``intent`` (``accept`` keeps the predicted one): an intent of
domain.yml goes into ``bot/data/training/nlu_<language>.yml``; ``faq:<entry id>`` adds the
text as a question of that FAQ entry, in its language. A text already there (compared
folded, whitespace collapsed) is a duplicate and skipped; one already there under another
intent is a conflict, skipped and reported. The files are edited as text, so their
comments and layout stay as the team wrote them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.text import fold
from learning.errors import LearningError
from learning.export import DECISIONS, FALLBACK, NOT_LEARNT

ROOT = Path(__file__).resolve().parents[1]
FAQ_TARGET = "faq:"
MAX_TEXT = 300


class ReviewError(LearningError):
    """The review file cannot be merged as it is: every problem, one per line."""


@dataclass
class Merged:
    added: list[tuple[str, str, str]] = field(default_factory=list)  # (file, target, text)
    duplicates: int = 0
    conflicts: list[tuple[str, str, str]] = field(default_factory=list)  # (text, target, where it already is)
    dropped: int = 0
    undecided: int = 0


def key(text: str) -> str:
    return " ".join(fold(text).split())


def load_review(path: Path, intents: set[str], faq_entries: dict[str, Path]) -> list[dict[str, Any]]:
    """The decided examples, checked; ReviewError lists every problem at once."""
    try:
        review = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ReviewError(f"{path}: cannot be read as YAML ({exc})") from exc
    examples = review.get("examples") if isinstance(review, dict) else None
    if not isinstance(examples, list):
        raise ReviewError(f"{path}: no 'examples' list (was it made by `make export`?)")
    problems = []
    for number, example in enumerate(examples, start=1):
        where = f"example {number}" + (f" ({example.get('id')})" if isinstance(example, dict) else "")
        if not isinstance(example, dict):
            problems.append(f"{where}: not a mapping")
            continue
        decision = str(example.get("decision") or "").strip()
        text, target = str(example.get("text") or "").strip(), str(example.get("intent") or "").strip()
        if decision and decision not in DECISIONS:
            problems.append(f"{where}: decision {decision!r} is not one of {', '.join(DECISIONS)}")
        if decision in ("accept", "relabel"):
            if not text or "\n" in text or len(text) > MAX_TEXT:
                problems.append(f"{where}: the text must be one line of 1 to {MAX_TEXT} characters")
            if target.startswith(FAQ_TARGET):
                if target[len(FAQ_TARGET):] not in faq_entries:
                    problems.append(f"{where}: no FAQ entry {target[len(FAQ_TARGET):]!r}")
            elif target not in intents or target in NOT_LEARNT or target == FALLBACK:
                problems.append(f"{where}: {target!r} is not an intent the bot learns "
                                f"(an intent of domain.yml, or faq:<entry id>)")
    if problems:
        raise ReviewError(f"{path}: {len(problems)} problem(s), nothing merged:\n" + "\n".join(problems))
    return examples


def faq_entries(faq_dir: Path) -> dict[str, Path]:
    entries = {}
    for path in sorted(faq_dir.glob("*.yml")):
        for entry in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("entries") or []:
            entries[str(entry.get("id"))] = path
    return entries


def _quoted(text: str) -> str:
    """A YAML list item's value: plain when safe, else double-quoted."""
    plain = yaml.safe_dump([text], allow_unicode=True, width=10_000).strip()
    return plain[2:] if plain.startswith("- ") else text


def _insert_after_items(lines: list[str], start: int, indent: int, item: str) -> int:
    """Insert ``item`` after the run of ``- ...`` lines at ``indent`` that follows line ``start``."""
    position = start + 1
    last = start
    prefix = " " * indent + "- "
    while position < len(lines):
        line = lines[position]
        if line.startswith(prefix):
            last = position
        elif line.strip() and (len(line) - len(line.lstrip())) <= indent:
            break
        position += 1
    lines.insert(last + 1, prefix + item + "\n")
    return last + 1


class TrainingFiles:
    """The NLU files and FAQ files being edited, with what each already holds."""

    def __init__(self, training_dir: Path, faq_dir: Path) -> None:
        self.training_dir = training_dir
        self.faq = faq_entries(faq_dir)
        self.lines: dict[Path, list[str]] = {}
        self.known: dict[tuple[str, str], str] = {}  # (language, text key) -> where it is
        for path in sorted(training_dir.glob("nlu_*.yml")):
            language = path.stem.removeprefix("nlu_")
            for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
                if "intent" in block:
                    for line in str(block.get("examples") or "").splitlines():
                        self.known[(language, key(re.sub(r"^\s*-\s*", "", line)))] = block["intent"]
        for path in set(self.faq.values()):
            for entry in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("entries") or []:
                for language, questions in (entry.get("questions") or {}).items():
                    for question in questions or []:
                        self.known[(language, key(str(question)))] = FAQ_TARGET + str(entry.get("id"))

    def _file(self, path: Path) -> list[str]:
        if path not in self.lines:
            self.lines[path] = path.read_text(encoding="utf-8").splitlines(keepends=True)
        return self.lines[path]

    def add(self, language: str, target: str, text: str) -> tuple[str, str | None]:
        """Add one example; (file it went to or "", where a conflicting copy already is)."""
        already = self.known.get((language, key(text)))
        if already is not None:
            return "", (None if already == target else already)
        if target.startswith(FAQ_TARGET):
            path = self._add_faq_question(target[len(FAQ_TARGET):], language, text)
        else:
            path = self._add_nlu_example(language, target, text)
        self.known[(language, key(text))] = target
        return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path), None

    def _add_nlu_example(self, language: str, intent: str, text: str) -> Path:
        path = self.training_dir / f"nlu_{language}.yml"
        if not path.exists():
            raise ReviewError(f"no NLU file for language {language!r} ({path.name})")
        lines = self._file(path)
        header = re.compile(rf"^\s*- intent: {re.escape(intent)}\s*$")
        for number, line in enumerate(lines):
            if header.match(line):
                examples = next(i for i in range(number + 1, len(lines)) if lines[i].strip().startswith("examples:"))
                indent = len(lines[examples]) - len(lines[examples].lstrip()) + 2
                _insert_after_items(lines, examples, indent, text)
                return path
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines.extend(["\n", f"  - intent: {intent}\n", "    examples: |\n", f"      - {text}\n"])
        return path

    def _add_faq_question(self, entry_id: str, language: str, text: str) -> Path:
        path = self.faq[entry_id]
        lines = self._file(path)
        start = next(i for i, line in enumerate(lines) if re.match(rf"^\s*- id: {re.escape(entry_id)}\s*$", line))
        entry_indent = len(lines[start]) - len(lines[start].lstrip())
        for number in range(start + 1, len(lines)):
            line = lines[number]
            if line.strip() and len(line) - len(line.lstrip()) <= entry_indent:
                break
            if line.strip() == f"{language}:":
                _insert_after_items(lines, number, len(line) - len(line.lstrip()) + 2, _quoted(text))
                return path
        raise ReviewError(f"FAQ entry {entry_id!r} has no questions in {language!r}: add the question by hand")

    def save(self) -> None:
        for path, lines in self.lines.items():
            path.write_text("".join(lines), encoding="utf-8")


def merge(review: Path, training_dir: Path, faq_dir: Path, intents: set[str], dry_run: bool = False) -> Merged:
    files = TrainingFiles(training_dir, faq_dir)
    result = Merged()
    for example in load_review(review, intents, files.faq):
        decision = str(example.get("decision") or "").strip()
        if not decision:
            result.undecided += 1
            continue
        if decision == "drop":
            result.dropped += 1
            continue
        text = " ".join(str(example["text"]).split())
        target = str(example["intent"]).strip()  # the predicted intent unless the reviewer changed it
        added, conflict = files.add(str(example.get("language") or "en"), target, text)
        if added:
            result.added.append((added, target, text))
        elif conflict:
            result.conflicts.append((text, target, conflict))
        else:
            result.duplicates += 1
    if not dry_run:
        files.save()
    return result
