"""The figures of the analytics page, computed from the stores (no Rasa, no personal data)."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from learning.conversations import TrackerStoreUnavailable, read_conversations

# Dialogue mechanics, not what citizens came for: left out of "top intents".
MECHANICS = frozenset({"affirm", "deny", "inform", "skip", "cancel", "greet", "goodbye", "thanks", "help",
                       "bot_challenge", "change_language", "empty_message", "no_words", "message_too_long",
                       "share_location", "share_photo", "nlu_fallback", "rate_helpful", "rate_not_helpful"})
FALLBACK = "nlu_fallback"
RATING_INTENTS = ("rate_helpful", "rate_not_helpful")  # the "Did this help?" buttons (domain.yml)
# How an answer to "Did this help?" shows in a conversation: the bot's reply to it, whether the
# citizen pressed a button or typed yes or no (bot/data/training/rules.yml).
HELPFUL, NOT_HELPFUL = "utter_rated_helpful", "utter_rated_not_helpful"


@dataclass
class Analytics:
    since: date
    until: date
    conversations_per_day: dict[str, int] = field(default_factory=dict)
    messages_per_day: dict[str, int] = field(default_factory=dict)
    by_channel: Counter[str] = field(default_factory=Counter)
    by_language: Counter[str] = field(default_factory=Counter)
    intents: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)
    conversations: int = 0
    handed_over: int = 0
    typed_messages: int = 0
    fallbacks: int = 0
    handoffs: int = 0
    waits_minutes: list[float] = field(default_factory=list)
    waiting_now: int = 0
    helpful: int = 0
    not_helpful: int = 0
    faq_gaps: list[tuple[str, int]] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)  # stores that could not be read

    @property
    def containment(self) -> float | None:
        return None if not self.conversations else 100 * (self.conversations - self.handed_over) / self.conversations

    @property
    def handoff_rate(self) -> float | None:
        return None if not self.conversations else 100 * self.handed_over / self.conversations

    @property
    def fallback_rate(self) -> float | None:
        return None if not self.typed_messages else 100 * self.fallbacks / self.typed_messages

    @property
    def wait_median(self) -> float | None:
        return statistics.median(self.waits_minutes) if self.waits_minutes else None

    @property
    def wait_p90(self) -> float | None:
        if not self.waits_minutes:
            return None
        ordered = sorted(self.waits_minutes)
        return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]

    @property
    def satisfaction(self) -> float | None:
        answers = self.helpful + self.not_helpful
        return None if not answers else 100 * self.helpful / answers

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(), "until": self.until.isoformat(),
            "conversations": self.conversations, "conversations_per_day": self.conversations_per_day,
            "messages_per_day": self.messages_per_day, "by_channel": dict(self.by_channel),
            "by_language": dict(self.by_language), "top_intents": self.intents.most_common(10),
            "report_categories": self.categories.most_common(10), "containment": self.containment,
            "handoff_rate": self.handoff_rate, "fallback_rate": self.fallback_rate, "handoffs": self.handoffs,
            "wait_median_minutes": self.wait_median, "wait_p90_minutes": self.wait_p90,
            "waiting_now": self.waiting_now, "helpful": self.helpful, "not_helpful": self.not_helpful,
            "satisfaction": self.satisfaction, "faq_gaps": self.faq_gaps, "unavailable": self.unavailable,
        }


def _day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).date().isoformat()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # SQLite hands back naive ones


def compute(tracker_url: str, handoff_url: str, requests_url: str, days: int = 30,
            now: datetime | None = None) -> Analytics:
    """The last ``days`` days (today included); a store that cannot be read is named in ``unavailable``."""
    now = now or datetime.now(timezone.utc)
    first = (now - timedelta(days=days - 1)).date()
    since = datetime.combine(first, datetime.min.time(), timezone.utc)
    result = Analytics(first, now.date())
    every_day = [(first + timedelta(days=n)).isoformat() for n in range(days)]
    result.conversations_per_day = dict.fromkeys(every_day, 0)
    result.messages_per_day = dict.fromkeys(every_day, 0)
    try:
        _conversations(result, tracker_url, since)
    except TrackerStoreUnavailable:
        result.unavailable.append("conversations (tracker store)")
    try:
        _handoffs(result, handoff_url, since, now)
    except SQLAlchemyError:
        result.unavailable.append("handoffs")
    try:
        _requests_and_gaps(result, requests_url, since, days)
    except SQLAlchemyError:
        result.unavailable.append("service requests and FAQ gaps")
    return result


def _conversations(result: Analytics, url: str, since: datetime) -> None:
    for turns in read_conversations(url, since):
        result.conversations += 1
        start = _day(turns[0].timestamp)
        if start in result.conversations_per_day:
            result.conversations_per_day[start] += 1
        result.by_channel[turns[0].channel or "unknown"] += 1
        result.by_language[next((t.language for t in turns if t.language), "unknown")] += 1
        result.handed_over += any(t.handed_over for t in turns)
        for turn in turns:
            day = _day(turn.timestamp)
            if day in result.messages_per_day:
                result.messages_per_day[day] += 1
            result.helpful += HELPFUL in turn.actions
            result.not_helpful += NOT_HELPFUL in turn.actions
            if turn.intent and turn.intent not in MECHANICS:
                result.intents[turn.intent] += 1
            if not turn.text.startswith("/"):
                result.typed_messages += 1
                result.fallbacks += turn.intent == FALLBACK


def _handoffs(result: Analytics, url: str, since: datetime, now: datetime) -> None:
    engine = sa.create_engine(url)
    try:
        handoffs = sa.Table("handoffs", sa.MetaData(), autoload_with=engine)
        query = sa.select(handoffs.c.created_at, handoffs.c.claimed_at, handoffs.c.status).where(
            handoffs.c.created_at >= since)
        with engine.connect() as connection:
            for created, claimed, status in connection.execute(query):
                result.handoffs += 1
                if claimed is not None:
                    result.waits_minutes.append((_aware(claimed) - _aware(created)).total_seconds() / 60)
                elif status == "waiting":
                    result.waiting_now += 1
    finally:
        engine.dispose()


def _requests_and_gaps(result: Analytics, url: str, since: datetime, days: int) -> None:
    from open311.services import ServiceCatalogue
    from open311.store import make_engine
    from retrieval.gaps import GapLog

    engine = make_engine(url)
    try:
        requests = sa.Table("service_requests", sa.MetaData(), autoload_with=engine)
        query = (sa.select(requests.c.service_code, sa.func.count()).where(requests.c.requested_datetime >= since)
                 .group_by(requests.c.service_code))
        catalogue = ServiceCatalogue.from_file()
        with engine.connect() as connection:
            for code, count in connection.execute(query):
                name = catalogue.get(code).service_name if code in catalogue else code
                result.categories[name] += int(count)
        result.faq_gaps = [(gap.question, gap.count) for gap in GapLog(engine).most_frequent(limit=15, days=days)]
    finally:
        engine.dispose()
