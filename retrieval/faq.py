"""The FAQ knowledge base: reading and checking the content team's YAML files.

One file per category under ``bot/data/faq/``::

    category: waste
    entries:
      - id: waste-collection-day
        reviewed: 2026-10-15
        source: https://city.example.gov/waste/collection
        questions:
          en: [When is my trash picked up?, What day is garbage collection?]
          es: [¿Qué día recogen la basura?]
        answers:
          en: Trash is collected once a week ...
          es: La basura se recoge una vez por semana ...

Every problem found is reported with its file and entry id; a collection with any
problem is never used to build an index.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from retrieval.errors import FaqInvalid

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2}$")
FILE_KEYS = {"category", "entries"}
ENTRY_KEYS = {"id", "reviewed", "source", "questions", "answers"}
MAX_QUESTION_CHARS = 300
MAX_ANSWER_CHARS = 2000


@dataclass(frozen=True)
class FaqEntry:
    """One question-and-answer with its variants in each language."""

    id: str
    category: str
    questions: dict[str, tuple[str, ...]]
    answers: dict[str, str]
    source: str
    reviewed: date
    file: str = ""

    def answer_in(self, language: str, fallback: str = "en") -> tuple[str, str]:
        """The answer in ``language`` if written, else in ``fallback``: (text, language used)."""
        if language in self.answers:
            return self.answers[language], language
        if fallback in self.answers:
            return self.answers[fallback], fallback
        first = next(iter(self.answers))
        return self.answers[first], first

    def title_in(self, language: str, fallback: str = "en") -> str:
        """The entry's first question in ``language`` (or ``fallback``), for a button."""
        for code in (language, fallback, *self.questions):
            if self.questions.get(code):
                return self.questions[code][0]
        return self.id

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "category": self.category,
            "questions": {code: list(texts) for code, texts in self.questions.items()},
            "answers": dict(self.answers),
            "source": self.source,
            "reviewed": self.reviewed.isoformat(),
            "file": self.file,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaqEntry:
        return cls(
            id=data["id"],
            category=data["category"],
            questions={code: tuple(texts) for code, texts in data["questions"].items()},
            answers=dict(data["answers"]),
            source=data["source"],
            reviewed=date.fromisoformat(data["reviewed"]),
            file=data.get("file", ""),
        )


@dataclass(frozen=True)
class FaqProblem:
    """Something wrong in a FAQ file, said so that an editor can find and fix it."""

    file: str
    entry_id: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.entry_id}" if self.entry_id else self.file
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class FaqCollection:
    """All entries of the FAQ, in file order, with a hash of their content."""

    entries: tuple[FaqEntry, ...]
    by_id: dict[str, FaqEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {entry.id: entry for entry in self.entries})

    @cached_property
    def content_hash(self) -> str:
        """Changes when any entry's content changes, not when comments or layout do."""
        canonical = json.dumps(
            [{**entry.to_json(), "file": ""} for entry in self.entries], sort_keys=True, ensure_ascii=False
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def languages(self) -> dict[str, int]:
        """How many entries have questions in each language."""
        counts: dict[str, int] = {}
        for entry in self.entries:
            for code in entry.questions:
                counts[code] = counts.get(code, 0) + 1
        return dict(sorted(counts.items()))


def faq_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.yml") if p.is_file()) + sorted(
        p for p in directory.glob("*.yaml") if p.is_file()
    )


def check_faq(
    directory: Path, languages: Iterable[str] = ("en", "es", "fr"), required_language: str = "en"
) -> tuple[FaqCollection, list[FaqProblem]]:
    """Read every FAQ file of ``directory``; return the good entries and every problem found."""
    allowed = set(languages)
    problems: list[FaqProblem] = []
    entries: list[FaqEntry] = []
    files = faq_files(directory) if directory.is_dir() else []
    if not files:
        problems.append(FaqProblem(str(directory), None, "no FAQ files (*.yml) found"))
    seen: dict[str, str] = {}
    for path in files:
        for entry in _read_file(path, directory, allowed, required_language, problems):
            if entry.id in seen:
                problems.append(
                    FaqProblem(entry.file, entry.id, f"duplicate id (also in {seen[entry.id]})")
                )
                continue
            seen[entry.id] = entry.file
            entries.append(entry)
    problems.extend(_shared_questions(entries))
    return FaqCollection(tuple(entries)), problems


def load_faq(
    directory: Path, languages: Iterable[str] = ("en", "es", "fr"), required_language: str = "en"
) -> FaqCollection:
    """The FAQ of ``directory``; raises FaqInvalid listing every problem if there is any."""
    collection, problems = check_faq(directory, languages, required_language)
    if problems:
        raise FaqInvalid(problems)
    return collection


def _read_file(
    path: Path, directory: Path, allowed: set[str], required: str, problems: list[FaqProblem]
) -> list[FaqEntry]:
    name = str(path.relative_to(directory)) if path.is_relative_to(directory) else str(path)

    def problem(entry_id: str | None, message: str) -> None:
        problems.append(FaqProblem(name, entry_id, message))

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        problem(None, "not UTF-8 text")
        return []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        problem(None, f"not valid YAML{line}: {getattr(exc, 'problem', None) or exc}")
        return []
    if not isinstance(data, dict):
        problem(None, "must be a mapping with 'category' and 'entries'")
        return []
    for key in sorted(set(data) - FILE_KEYS, key=str):
        problem(None, f"unknown key {key!r} (expected {sorted(FILE_KEYS)})")
    category = data.get("category")
    if not isinstance(category, str) or not category.strip():
        problem(None, "missing 'category'")
        category = ""
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, list) or not raw_entries:
        problem(None, "'entries' must be a non-empty list")
        return []
    entries = []
    for position, raw in enumerate(raw_entries, start=1):
        entry = _read_entry(raw, position, category.strip(), name, allowed, required, problem)
        if entry is not None:
            entries.append(entry)
    return entries


def _read_entry(
    raw: Any, position: int, category: str, file: str, allowed: set[str], required: str, problem: Any
) -> FaqEntry | None:
    if not isinstance(raw, dict):
        problem(f"entry #{position}", "must be a mapping")
        return None
    entry_id = raw.get("id")
    if not isinstance(entry_id, str) or not ID_PATTERN.match(entry_id):
        problem(
            f"entry #{position}",
            f"id {entry_id!r} must be 2-80 lowercase letters, digits and hyphens",
        )
        return None
    ok = True

    def bad(message: str) -> None:
        nonlocal ok
        ok = False
        problem(entry_id, message)

    for key in sorted(set(raw) - ENTRY_KEYS, key=str):
        bad(f"unknown key {key!r} (expected {sorted(ENTRY_KEYS)})")
    source = raw.get("source")
    if not isinstance(source, str) or not re.match(r"^https?://\S+$", source.strip()):
        bad("'source' must be a link starting with http:// or https://")
    reviewed = raw.get("reviewed")
    if isinstance(reviewed, str):
        try:
            reviewed = date.fromisoformat(reviewed.strip())
        except ValueError:
            pass
    if not isinstance(reviewed, date):
        bad("'reviewed' must be a date written YYYY-MM-DD")
    elif reviewed > date.today():
        bad(f"'reviewed' date {reviewed.isoformat()} is in the future")
    questions = _read_questions(raw.get("questions"), allowed, bad)
    answers = _read_answers(raw.get("answers"), allowed, bad)
    for code in sorted(set(answers) - set(questions)):
        bad(f"answer in {code!r} but no question in {code!r}")
    for code in sorted(set(questions) - set(answers)):
        bad(f"questions in {code!r} but no answer in {code!r}")
    if questions and required not in questions:
        bad(f"no questions in {required!r} (every entry needs them)")
    if not ok:
        return None
    return FaqEntry(
        id=entry_id,
        category=category,
        questions=questions,
        answers=answers,
        source=str(source).strip(),
        reviewed=reviewed,  # type: ignore[arg-type]
        file=file,
    )


def _read_questions(raw: Any, allowed: set[str], bad: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, dict) or not raw:
        bad("'questions' must map a language code to a list of questions")
        return {}
    questions: dict[str, tuple[str, ...]] = {}
    for code, variants in raw.items():
        if not _language_ok(code, allowed, "questions", bad):
            continue
        if not isinstance(variants, list) or not variants:
            bad(f"questions in {code!r} must be a non-empty list")
            continue
        kept: list[str] = []
        for number, variant in enumerate(variants, start=1):
            text = variant.strip() if isinstance(variant, str) else ""
            if not text:
                bad(f"question {number} in {code!r} is empty")
            elif len(text) > MAX_QUESTION_CHARS:
                bad(f"question {number} in {code!r} is longer than {MAX_QUESTION_CHARS} characters")
            elif text.casefold() in {k.casefold() for k in kept}:
                bad(f"question {number} in {code!r} repeats an earlier one")
            else:
                kept.append(" ".join(text.split()))
        if kept:
            questions[code] = tuple(kept)
    return questions


def _read_answers(raw: Any, allowed: set[str], bad: Any) -> dict[str, str]:
    if not isinstance(raw, dict) or not raw:
        bad("missing answer: 'answers' must map a language code to the answer text")
        return {}
    answers: dict[str, str] = {}
    for code, text in raw.items():
        if not _language_ok(code, allowed, "answers", bad):
            continue
        if not isinstance(text, str) or not text.strip():
            bad(f"missing answer in {code!r}")
        elif len(text) > MAX_ANSWER_CHARS:
            bad(f"answer in {code!r} is longer than {MAX_ANSWER_CHARS} characters")
        else:
            answers[code] = text.strip()
    return answers


def _language_ok(code: Any, allowed: set[str], where: str, bad: Any) -> bool:
    if not isinstance(code, str) or not LANGUAGE_PATTERN.match(code):
        bad(f"{where}: {code!r} is not a two-letter language code")
        return False
    if code not in allowed:
        bad(f"{where}: language {code!r} is not one of the configured languages {sorted(allowed)}")
        return False
    return True


def _shared_questions(entries: list[FaqEntry]) -> list[FaqProblem]:
    """The same question under two entries makes the answer a coin toss."""
    owner: dict[tuple[str, str], FaqEntry] = {}
    problems = []
    for entry in entries:
        for code, variants in entry.questions.items():
            for variant in variants:
                key = (code, variant.casefold().rstrip("?!. "))
                other = owner.setdefault(key, entry)
                if other is not entry:
                    problems.append(
                        FaqProblem(entry.file, entry.id, f"question {variant!r} is also asked in {other.id}")
                    )
    return problems
