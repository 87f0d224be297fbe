"""The content team's commands: make faq-check (check), make faq (build), make faq-gaps (gaps)."""

from __future__ import annotations

import json

import pytest

from open311.store import make_engine
from retrieval import embedders
from retrieval.__main__ import main
from retrieval.gaps import GapLog
from retrieval.index import MANIFEST
from tests.retrieval.conftest import HashingEmbedder


@pytest.fixture
def folders(tmp_path, faq_dir, monkeypatch, database_url):
    monkeypatch.setitem(embedders.EMBEDDERS, "test-hashing", HashingEmbedder)
    monkeypatch.setenv("CITYBOT_FAQ_DIR", str(faq_dir))
    monkeypatch.setenv("CITYBOT_FAQ_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("CITYBOT_FAQ_EMBEDDER", "test-hashing")
    monkeypatch.setenv("CITYBOT_DATABASE_URL", database_url)
    return faq_dir, tmp_path / "index"


def test_check_reports_a_good_faq(folders, capsys):
    assert main(["check"]) == 0
    assert "FAQ OK: 3 entries" in capsys.readouterr().out


def test_build_writes_the_index_then_skips_when_nothing_changed(folders, capsys):
    _, index_dir = folders
    assert main(["build"]) == 0
    assert "FAQ index built: 3 entries" in capsys.readouterr().out
    manifest = (index_dir / MANIFEST).read_text()
    assert main(["build"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert (index_dir / MANIFEST).read_text() == manifest


def test_after_an_edit_only_the_changed_texts_are_embedded(folders, capsys):
    faq_dir, _ = folders
    assert main(["build"]) == 0
    waste = (faq_dir / "waste.yml").read_text()
    (faq_dir / "waste.yml").write_text(waste.replace("once a week.", "every Tuesday."))
    capsys.readouterr()
    assert main(["build"]) == 0
    assert "10 of 11 texts reused from the last build" in capsys.readouterr().out
    assert main(["build", "--force"]) == 0
    assert "reused" not in capsys.readouterr().out


def test_a_broken_file_is_reported_and_the_good_index_stays(folders, capsys):
    faq_dir, index_dir = folders
    assert main(["build"]) == 0
    before = json.loads((index_dir / MANIFEST).read_text())
    waste = (faq_dir / "waste.yml").read_text()
    (faq_dir / "waste.yml").write_text(waste.replace("id: waste-bulky-items", "id: waste-collection-day"))
    capsys.readouterr()
    assert main(["build"]) == 1
    error = capsys.readouterr().err
    assert "waste.yml: waste-collection-day: duplicate id (also in waste.yml)" in error
    assert "NOT rebuilt" in error
    assert json.loads((index_dir / MANIFEST).read_text()) == before
    assert main(["check"]) == 1


def test_gaps_lists_questions_most_frequent_first(folders, capsys, database_url):
    log = GapLog(make_engine(database_url))
    log.record("zoo hours", "no_answer", [])
    log.record("bin day?", "unsure", [])
    log.record("Bin day", "unsure", [])
    assert main(["gaps"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[0] == "2" and lines[1].endswith("bin day")
    assert lines[2].endswith("zoo hours")
