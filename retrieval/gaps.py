"""Questions the FAQ could not answer well, kept (without personal data) for the content team.

The action server records each one; `make faq-gaps` lists them, most frequent first,
so the team knows which entries to write next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import declarative_base

from privacy import redact
from retrieval.errors import RetrievalError
from retrieval.index import Hit

Base = declarative_base()
MAX_QUESTION_CHARS = 300
OUTCOMES = ("no_answer", "unsure")


class GapLogUnavailable(RetrievalError):
    """The gap log's database cannot be reached."""


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class GapRow(Base):  # type: ignore[valid-type,misc]
    __tablename__ = "faq_gaps"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    asked_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=_utcnow, index=True)
    # Redacted, whitespace-collapsed, lower-cased: what groups repeats together.
    question = sa.Column(sa.String(MAX_QUESTION_CHARS), nullable=False, index=True)
    language = sa.Column(sa.String(8), nullable=True)
    channel = sa.Column(sa.String(64), nullable=True)
    outcome = sa.Column(sa.String(16), nullable=False)
    best_entry_id = sa.Column(sa.String(80), nullable=True)
    best_score = sa.Column(sa.Float, nullable=True)


@dataclass(frozen=True)
class Gap:
    """One question as the content team sees it: how often, when last, what came closest."""

    question: str
    count: int
    last_asked: datetime
    outcome: str
    best_entry_id: str | None
    best_score: float | None
    language: str | None = None  # of the latest asking


def normalise(question: str) -> str:
    """Redacted and tidied, so that "Bin day??" and "bin day" count as one question."""
    text = " ".join(redact(question).split()).casefold()
    text = re.sub(r"[?!.,;:]+$", "", text).strip()
    return text[:MAX_QUESTION_CHARS]


class GapLog:
    """Append-only log of unanswered FAQ questions in any SQLAlchemy database."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self._engine = engine
        try:
            Base.metadata.create_all(engine)
        except SQLAlchemyError as exc:
            raise GapLogUnavailable(f"cannot prepare the faq_gaps table: {exc}") from exc

    def record(
        self, question: str, outcome: str, hits: list[Hit], language: str | None = None, channel: str | None = None
    ) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}")
        text = normalise(question)
        if not text:
            return
        best = hits[0] if hits else None
        row = {
            "asked_at": _utcnow(),
            "question": text,
            "language": language,
            "channel": channel,
            "outcome": outcome,
            "best_entry_id": best.entry_id if best else None,
            "best_score": round(best.score, 4) if best else None,
        }
        try:
            with self._engine.begin() as connection:
                connection.execute(sa.insert(GapRow.__table__), row)
        except SQLAlchemyError as exc:
            raise GapLogUnavailable(f"cannot record an FAQ gap: {exc}") from exc

    def most_frequent(self, limit: int = 50, days: int | None = None) -> list[Gap]:
        """Distinct questions, most often asked first (ties: most recent first)."""
        table = GapRow.__table__
        count = sa.func.count().label("count")
        last = sa.func.max(table.c.asked_at).label("last_asked")
        query = sa.select(table.c.question, count, last).group_by(table.c.question)
        if days is not None:
            query = query.where(table.c.asked_at >= _utcnow() - timedelta(days=days))
        query = query.order_by(count.desc(), last.desc()).limit(limit)
        try:
            with self._engine.connect() as connection:
                groups = connection.execute(query).all()
                gaps = []
                for question, times, last_asked in groups:
                    latest = connection.execute(
                        sa.select(table.c.outcome, table.c.best_entry_id, table.c.best_score, table.c.language)
                        .where(table.c.question == question)
                        .order_by(table.c.asked_at.desc())
                        .limit(1)
                    ).one()
                    if last_asked.tzinfo is None:  # SQLite hands back naive datetimes
                        last_asked = last_asked.replace(tzinfo=timezone.utc)
                    gaps.append(Gap(question, int(times), last_asked, *latest))
        except SQLAlchemyError as exc:
            raise GapLogUnavailable(f"cannot read the FAQ gaps: {exc}") from exc
        return gaps
