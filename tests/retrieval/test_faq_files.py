from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.errors import FaqInvalid
from retrieval.faq import check_faq, load_faq
from tests.conftest import ROOT
from tests.retrieval.conftest import LIBRARY, WASTE, write_faq


def problems_of(directory: Path) -> list[str]:
    return [str(problem) for problem in check_faq(directory)[1]]


def test_faq_folder_loads_every_entry_with_its_languages(faq_dir):
    collection = load_faq(faq_dir)
    assert [entry.id for entry in collection.entries] == ["library-hours", "waste-collection-day", "waste-bulky-items"]
    assert collection.languages() == {"en": 3, "es": 1}
    entry = collection.by_id["waste-collection-day"]
    assert entry.category == "waste" and entry.file == "waste.yml"
    assert entry.answer_in("es") == ("La basura se recoge una vez por semana.", "es")
    assert entry.answer_in("fr") == ("Trash is collected once a week.", "en")


def test_the_shipped_faq_is_valid_and_large_enough():
    collection = load_faq(ROOT / "bot" / "data" / "faq")
    assert len(collection.entries) >= 80
    assert len({entry.category for entry in collection.entries}) >= 10


def test_a_duplicate_id_is_reported_with_both_files(tmp_path):
    copy = LIBRARY.replace("category: library", "category: libraries")
    directory = write_faq(tmp_path, {"library.yml": LIBRARY, "more.yml": copy})
    assert problems_of(directory) == ["more.yml: library-hours: duplicate id (also in library.yml)"]


@pytest.mark.parametrize(
    "change, expected",
    [
        (("en: Trash is collected once a week.", "en: ''"), "waste.yml: waste-collection-day: missing answer in 'en'"),
        (("        - What day is garbage collection?", "        - '  '"),
         "waste.yml: waste-collection-day: question 2 in 'en' is empty"),
        (("      es: La basura", "      fr: La basura"),
         "waste.yml: waste-collection-day: answer in 'fr' but no question in 'fr'"),
        (("    reviewed: 2026-10-15", "    reviewed: 15/10/2026"),
         "waste.yml: waste-collection-day: 'reviewed' must be a date written YYYY-MM-DD"),
        (("    reviewed: 2026-10-15", "    reviewed: 2999-01-01"),
         "waste.yml: waste-collection-day: 'reviewed' date 2999-01-01 is in the future"),
        (("    source: https://city.example.gov/waste/collection", "    source: the website"),
         "waste.yml: waste-collection-day: 'source' must be a link starting with http:// or https://"),
        (("    answers:\n      en: Book", "    answer:\n      en: Book"),
         "waste.yml: waste-bulky-items: unknown key 'answer' (expected ['answers', 'id', 'questions', 'reviewed', "
         "'source'])"),
    ],
)
def test_each_kind_of_mistake_is_reported_with_file_and_entry(tmp_path, change, expected):
    old, new = change
    assert old in WASTE
    directory = write_faq(tmp_path, {"waste.yml": WASTE.replace(old, new, 1)})
    assert expected in problems_of(directory)


def test_questions_without_an_answer_in_their_language_are_reported(tmp_path):
    broken = WASTE.replace("      es: La basura se recoge una vez por semana.\n", "")
    problems = problems_of(write_faq(tmp_path, {"waste.yml": broken}))
    assert problems == ["waste.yml: waste-collection-day: questions in 'es' but no answer in 'es'"]


def test_invalid_yaml_is_reported_with_its_line(tmp_path):
    directory = write_faq(tmp_path, {"waste.yml": WASTE.replace("  - id: waste-bulky-items", "  - id: [oops")})
    [problem] = problems_of(directory)
    assert problem.startswith("waste.yml: not valid YAML at line")


def test_a_language_that_is_not_configured_is_refused(tmp_path):
    directory = write_faq(tmp_path, {"waste.yml": WASTE})
    _, problems = check_faq(directory, languages=["en"])
    assert "language 'es' is not one of the configured languages ['en']" in str(problems[0])


def test_the_same_question_in_two_entries_is_reported(tmp_path):
    clash = LIBRARY.replace("Library opening hours", "What day is garbage collection")
    problems = problems_of(write_faq(tmp_path, {"waste.yml": WASTE, "library.yml": clash}))
    assert problems == [
        "waste.yml: waste-collection-day: question 'What day is garbage collection?' is also asked in library-hours"
    ]


def test_an_empty_folder_is_a_problem_not_an_empty_faq(tmp_path):
    with pytest.raises(FaqInvalid, match="no FAQ files"):
        load_faq(tmp_path)


def test_content_hash_ignores_comments_and_layout_but_not_content(tmp_path, faq_dir):
    before = load_faq(faq_dir).content_hash
    (faq_dir / "waste.yml").write_text("# a comment\n" + WASTE, encoding="utf-8")
    assert load_faq(faq_dir).content_hash == before
    (faq_dir / "waste.yml").write_text(WASTE.replace("once a week", "twice a week"), encoding="utf-8")
    assert load_faq(faq_dir).content_hash != before
