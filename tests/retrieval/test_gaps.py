from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from open311.store import make_engine
from retrieval.gaps import GapLog, GapRow
from retrieval.index import Hit


def test_gaps_are_listed_most_frequent_first_with_the_closest_entry(database_url):
    log = GapLog(make_engine(database_url))
    for _ in range(3):
        log.record("Is the zoo open on Mondays??", "no_answer", [Hit("parks-hours", 0.41, "q", "en")])
    log.record("bin day", "unsure", [Hit("waste-collection-day", 0.52, "q", "en")], channel="rest")
    gaps = log.most_frequent()
    assert [(g.question, g.count, g.outcome, g.best_entry_id) for g in gaps] == [
        ("is the zoo open on mondays", 3, "no_answer", "parks-hours"),
        ("bin day", 1, "unsure", "waste-collection-day"),
    ]
    assert gaps[0].best_score == 0.41


def test_personal_data_never_reaches_the_gap_log(database_url):
    engine = make_engine(database_url)
    GapLog(engine).record(
        "My name is Ana Lopez, 12 Oak Street, call 555-201-3344 about SR-7K3M9Q2X", "no_answer", []
    )
    with engine.connect() as connection:
        stored = connection.execute(sa.select(GapRow.__table__.c.question)).scalar_one()
    assert stored == "my name is [name], [address], call [number] about [reference]"


def test_old_gaps_can_be_left_out(database_url):
    engine = make_engine(database_url)
    log = GapLog(engine)
    log.record("parking at the stadium", "no_answer", [])
    with engine.begin() as connection:
        connection.execute(sa.update(GapRow.__table__).values(asked_at=datetime.now(timezone.utc) - timedelta(days=40)))
    log.record("bin day", "no_answer", [])
    assert [gap.question for gap in log.most_frequent(days=30)] == ["bin day"]
    assert len(log.most_frequent()) == 2


def test_an_empty_question_is_not_logged(database_url):
    log = GapLog(make_engine(database_url))
    log.record("  ?! ", "no_answer", [])
    assert log.most_frequent() == []
