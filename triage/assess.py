"""Triage of one message: is it an emergency, what is it about, who handles it, how urgent.

Rules only (bot/data/content/triage.yml and the service catalogue's keywords), so
every decision can be explained by the words that caused it and changed by the
city without retraining. ``make bench-triage`` measures them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache

from bot.content import load_when_changed
from bot.text import fold
from open311.services import DEFAULT_CATALOGUE, Service, ServiceCatalogue
from triage.config import DEFAULT_RULES, DEFAULT_TOPIC, TriageConfig

EMERGENCY = "emergency"
_RANK = {"low": 0, "normal": 1, "high": 2, EMERGENCY: 3}


def default_config() -> TriageConfig:
    """The city's triage rules, re-read when the file changes."""
    return load_when_changed(DEFAULT_RULES, TriageConfig.from_file)


def default_catalogue() -> ServiceCatalogue:
    """The service catalogue, re-read when the file changes."""
    return load_when_changed(DEFAULT_CATALOGUE, ServiceCatalogue.from_file)


@dataclass(frozen=True)
class Emergency:
    kind: str
    department: str
    evidence: str  # the words that matched


@dataclass(frozen=True)
class TriageResult:
    """What triage decided, and why."""

    category: str  # a service code, a topic (billing, renewal, general) or the emergency's kind
    department: str
    urgency: str  # low, normal, high or emergency
    emergency: str | None = None  # the kind of emergency, if any
    service_code: str | None = None  # set when the category is a reportable service
    evidence: str | None = None  # the words or intent the category came from

    @property
    def is_emergency(self) -> bool:
        return self.emergency is not None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


TYPO_MIN_CHARS = 6  # one-letter typos ("pothloe") are forgiven in keywords at least this long


@lru_cache(maxsize=8192)
def _word(keyword: str) -> re.Pattern[str]:
    """The keyword as whole words, plural allowed ("streetlights", "branches")."""
    return re.compile(rf"(?<!\w){re.escape(keyword)}(?:s|es|x)?(?!\w)")


def _one_edit_apart(a: str, b: str) -> bool:
    """One letter replaced, added, dropped or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return a == b
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                   and a[diff[1]] == b[diff[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def _found(keyword: str, folded: str, words: frozenset[str]) -> bool:
    if _word(keyword).search(folded):
        return True
    return (" " not in keyword and len(keyword) >= TYPO_MIN_CHARS
            and any(abs(len(word) - len(keyword)) <= 1 and _one_edit_apart(word, keyword) for word in words))


def _mask(folded: str, config: TriageConfig) -> str:
    """The folded text with every routine phrase ("fire hydrant", "feu rouge") blanked out."""
    for pattern in config.not_emergency:
        folded = pattern.sub(lambda match: " " * len(match.group(0)), folded)
    return folded


def detect_emergency(text: str, config: TriageConfig | None = None) -> Emergency | None:
    """The emergency the message describes, or None. Cheap: regular expressions only."""
    config = config or default_config()
    masked = _mask(fold(text or ""), config)
    for rule in config.emergencies:
        evidence = rule.find(masked)
        if evidence:
            return Emergency(rule.kind, rule.department, evidence.strip())
    return None


def _best_keyword(folded: str, catalogue: ServiceCatalogue, config: TriageConfig) -> tuple[str, str] | None:
    """(category, keyword) of the longest keyword found, services and topics alike."""
    best: tuple[int, str, str] | None = None
    words = frozenset(re.findall(r"\w+", folded))
    candidates = [(service.service_code, service.keywords) for service in catalogue]
    candidates += [(topic.category, topic.keywords) for topic in config.topics]
    for category, keywords in candidates:
        for keyword in keywords:
            if (best is None or len(keyword) > best[0]) and _found(keyword, folded, words):
                best = (len(keyword), category, keyword)
    return (best[1], best[2]) if best else None


def _raised(urgency: str, folded: str, config: TriageConfig) -> str:
    if _RANK[urgency] < _RANK["high"] and any(pattern.search(folded) for pattern in config.raise_to_high):
        return "high"
    return urgency


def answers_urgency(service: Service, answers: Mapping[str, object]) -> str:
    """The service's urgency, raised by any answer whose value carries a higher one."""
    urgency = service.urgency
    for code, answer in answers.items():
        attribute = service.attribute(code)
        if attribute is None:
            continue
        for key in answer if isinstance(answer, (list, tuple)) else [answer]:
            value = attribute.value(str(key))
            if value is not None and value.urgency and _RANK[value.urgency] > _RANK[urgency]:
                urgency = value.urgency
    return urgency


def report_urgency(
    service: Service, answers: Mapping[str, object], description: str, config: TriageConfig | None = None
) -> str:
    """low, normal or high for a service request: the service, the answers, alarming words in the description."""
    config = config or default_config()
    return _raised(answers_urgency(service, answers), fold(description or ""), config)


def triage(
    text: str,
    *,
    intent: str | None = None,
    service_code: str | None = None,
    answers: Mapping[str, object] | None = None,
    config: TriageConfig | None = None,
    catalogue: ServiceCatalogue | None = None,
) -> TriageResult:
    """Triage a message (or a whole report: its text, the service chosen and the form's answers).

    Order: an emergency wins; then the service the citizen chose (``service_code``);
    then the longest keyword of a service or topic in the text; then the intent;
    else ``general``.
    """
    config = config or default_config()
    catalogue = catalogue or default_catalogue()
    emergency = detect_emergency(text, config)
    if emergency is not None:
        return TriageResult(emergency.kind, emergency.department, EMERGENCY, emergency.kind, None, emergency.evidence)
    folded = fold(text or "")
    category, evidence = None, None
    if service_code and service_code in catalogue:
        category, evidence = service_code, "service chosen"
    if category is None:
        found = _best_keyword(folded, catalogue, config)
        if found:
            category, evidence = found
    if category is None and intent:
        category = config.intent_services.get(intent) or next(
            (topic.category for topic in config.topics if intent in topic.intents), None
        )
        evidence = f"intent {intent}" if category else None
    category = category or DEFAULT_TOPIC
    if category in catalogue:
        service = catalogue.get(category)
        urgency = _raised(answers_urgency(service, answers or {}), folded, config)
        return TriageResult(category, service.agency_responsible, urgency, None, category, evidence)
    topic = config.topic(category) or config.topic(DEFAULT_TOPIC)
    department = topic.department if topic else "311 Service Desk"
    urgency = _raised(topic.urgency if topic else "normal", folded, config)
    return TriageResult(category, department, urgency, None, None, evidence)
