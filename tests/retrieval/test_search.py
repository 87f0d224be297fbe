from __future__ import annotations

import threading

import pytest

from retrieval.errors import IndexNotFound
from retrieval.faq import load_faq
from retrieval.index import build_index, save_index
from retrieval.search import FaqSearcher
from tests.retrieval.conftest import HashingEmbedder


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def rebuild(faq_dir, index_dir, embedder, old: str, new: str) -> None:
    waste = (faq_dir / "waste.yml").read_text()
    (faq_dir / "waste.yml").write_text(waste.replace(old, new))
    save_index(build_index(load_faq(faq_dir), embedder), index_dir)


def answer(searcher: FaqSearcher, question: str) -> str:
    result = searcher.search(question, k=1)
    return result.entry(result.hits[0]).answers["en"]


def test_a_rebuilt_index_is_used_without_a_restart(faq_dir, embedder, tmp_path):
    save_index(build_index(load_faq(faq_dir), embedder), tmp_path)
    clock = Clock()
    searcher = FaqSearcher(embedder, tmp_path, check_every=1.0, clock=clock)
    assert answer(searcher, "When is my trash picked up?") == "Trash is collected once a week."
    rebuild(faq_dir, tmp_path, embedder, "once a week", "every Tuesday")
    assert answer(searcher, "When is my trash picked up?") == "Trash is collected once a week."  # not checked yet
    clock.now = 1.5
    assert answer(searcher, "When is my trash picked up?") == "Trash is collected every Tuesday."


def test_a_broken_build_leaves_the_old_index_serving(faq_dir, embedder, tmp_path):
    save_index(build_index(load_faq(faq_dir), embedder), tmp_path)
    clock = Clock()
    searcher = FaqSearcher(embedder, tmp_path, clock=clock)
    searcher.current()
    rebuild(faq_dir, tmp_path, embedder, "once a week", "daily")
    manifest = searcher.current().manifest  # still the old one: the clock has not moved
    (tmp_path / "manifest.json").write_text("{ half written")
    clock.now = 5.0
    assert searcher.current().manifest == manifest
    assert answer(searcher, "When is my trash picked up?") == "Trash is collected once a week."


def test_an_index_built_with_another_embedder_is_refused(faq_dir, embedder, tmp_path):
    save_index(build_index(load_faq(faq_dir), embedder), tmp_path)
    clock = Clock()
    searcher = FaqSearcher(embedder, tmp_path, clock=clock)
    searcher.current()
    other = HashingEmbedder(name="another-model")
    rebuild(faq_dir, tmp_path, other, "once a week", "daily")
    clock.now = 5.0
    assert answer(searcher, "When is my trash picked up?") == "Trash is collected once a week."


def test_without_any_index_searching_says_so(embedder, tmp_path):
    with pytest.raises(IndexNotFound, match="make faq"):
        FaqSearcher(embedder, tmp_path).search("bin day")


def test_concurrent_searches_during_rebuilds_always_see_a_whole_index(faq_dir, embedder, tmp_path):
    save_index(build_index(load_faq(faq_dir), embedder), tmp_path)
    searcher = FaqSearcher(embedder, tmp_path, check_every=0.0)
    errors: list[BaseException] = []
    seen: set[str] = set()
    stop = threading.Event()

    def ask() -> None:
        while not stop.is_set():
            try:
                result = searcher.search("When is my trash picked up?", k=3)
                assert len(result.hits) == 3
                seen.add(result.entry(result.hits[0]).answers["en"])
            except BaseException as exc:  # noqa: BLE001 - any failure fails the test
                errors.append(exc)
                return

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    previous = "once a week"
    for number in range(15):
        current = f"{number} times a week"
        rebuild(faq_dir, tmp_path, embedder, previous, current)
        previous = current
    stop.set()
    for thread in threads:
        thread.join()
    assert errors == []
    assert answer(searcher, "When is my trash picked up?") == "Trash is collected 14 times a week."
    assert all(text.startswith("Trash is collected") for text in seen)
