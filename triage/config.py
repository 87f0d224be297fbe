"""The city's triage rules (bot/data/content/triage.yml), compiled once per version of the file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.text import fold
from triage.errors import TriageConfigError

DEFAULT_RULES = Path(__file__).resolve().parent.parent / "bot" / "data" / "content" / "triage.yml"
DEFAULT_TOPIC = "general"
URGENCIES = ("low", "normal", "high")


def _compile(pattern: Any, where: str) -> re.Pattern[str]:
    try:
        return re.compile(str(pattern))
    except re.error as exc:
        raise TriageConfigError(f"{where}: {pattern!r} is not a valid regular expression: {exc}") from exc


@dataclass(frozen=True)
class EmergencyRule:
    """One kind of emergency: any of ``any``, or every pattern of one ``together`` group, in the text."""

    kind: str
    department: str
    any: tuple[re.Pattern[str], ...]
    together: tuple[tuple[re.Pattern[str], ...], ...]

    def find(self, folded: str) -> str | None:
        """The words that show this kind of emergency in the folded text, or None."""
        for pattern in self.any:
            match = pattern.search(folded)
            if match:
                return match.group(0)
        for group in self.together:
            matches = [pattern.search(folded) for pattern in group]
            if all(matches):
                return " + ".join(match.group(0) for match in matches if match)
        return None


@dataclass(frozen=True)
class Topic:
    """A category that is not a reportable service (billing, renewal, general)."""

    category: str
    department: str
    urgency: str
    intents: tuple[str, ...]
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class TriageConfig:
    emergency_number: str
    crisis_line: str
    not_emergency: tuple[re.Pattern[str], ...]
    emergencies: tuple[EmergencyRule, ...]
    raise_to_high: tuple[re.Pattern[str], ...]
    topics: tuple[Topic, ...]
    intent_services: dict[str, str]

    @classmethod
    def from_file(cls, path: Path = DEFAULT_RULES) -> TriageConfig:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise TriageConfigError(f"cannot read {path}: {exc}") from exc
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TriageConfig:
        try:
            return cls(
                emergency_number=str(data["emergency_number"]),
                crisis_line=str(data.get("crisis_line") or data["emergency_number"]),
                not_emergency=tuple(_compile(p, "not_emergency") for p in data.get("not_emergency") or []),
                emergencies=tuple(_emergency(kind, rule) for kind, rule in (data.get("emergencies") or {}).items()),
                raise_to_high=tuple(_compile(p, "raise_to_high") for p in data.get("raise_to_high") or []),
                topics=tuple(_topic(name, entry) for name, entry in (data.get("topics") or {}).items()),
                intent_services={str(k): str(v) for k, v in (data.get("intent_services") or {}).items()},
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise TriageConfigError(f"the triage rules are missing a field or malformed: {exc!r}") from exc

    def topic(self, category: str) -> Topic | None:
        return next((topic for topic in self.topics if topic.category == category), None)


def _emergency(kind: str, rule: dict[str, Any]) -> EmergencyRule:
    where = f"emergencies.{kind}"
    return EmergencyRule(
        kind=str(kind),
        department=str(rule["department"]),
        any=tuple(_compile(p, where) for p in rule.get("any") or []),
        together=tuple(tuple(_compile(p, where) for p in group) for group in rule.get("together") or []),
    )


def _topic(name: str, entry: dict[str, Any]) -> Topic:
    urgency = str(entry.get("urgency") or "normal")
    if urgency not in URGENCIES:
        raise TriageConfigError(f"topics.{name}: urgency {urgency!r} is not one of {URGENCIES}")
    return Topic(
        category=str(name),
        department=str(entry["department"]),
        urgency=urgency,
        intents=tuple(str(i) for i in entry.get("intents") or []),
        keywords=tuple(dict.fromkeys(fold(str(k)) for k in entry.get("keywords") or [])),
    )
