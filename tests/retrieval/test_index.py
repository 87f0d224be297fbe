from __future__ import annotations

import json

import pytest

from retrieval.errors import IndexCorrupt, IndexNotFound
from retrieval.faq import load_faq
from retrieval.index import MANIFEST, build_index, load_index, save_index


def test_the_exact_question_is_the_top_hit_far_ahead(faq_dir, embedder):
    index = build_index(load_faq(faq_dir), embedder)
    hits = index.search(embedder.embed(["What time does the library open?"])[0], k=3)
    assert (hits[0].entry_id, hits[0].question) == ("library-hours", "What time does the library open?")
    assert hits[0].score > hits[1].score + 0.3
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_an_entry_scores_on_its_answer_too(faq_dir, embedder):
    index = build_index(load_faq(faq_dir), embedder)
    # No question mentions "free" or "month"; the bulky-items answer does.
    hit = index.search(embedder.embed(["three free items a month"])[0], k=1)[0]
    assert hit.entry_id == "waste-bulky-items"


def test_each_entry_appears_once_however_many_variants_match(faq_dir, embedder):
    index = build_index(load_faq(faq_dir), embedder)
    hits = index.search(embedder.embed(["garbage trash collection day"])[0], k=3)
    ids = [hit.entry_id for hit in hits]
    assert len(ids) == len(set(ids)) == 3
    assert ids[0] == "waste-collection-day"


def test_questions_in_every_language_are_indexed(faq_dir, embedder):
    index = build_index(load_faq(faq_dir), embedder)
    hit = index.search(embedder.embed(["¿Qué día recogen la basura?"])[0], k=1)[0]
    assert (hit.entry_id, hit.language) == ("waste-collection-day", "es")


def test_saved_index_loads_with_its_manifest_and_answers_the_same(faq_dir, embedder, tmp_path):
    collection = load_faq(faq_dir)
    built = build_index(collection, embedder)
    save_index(built, tmp_path / "index")
    loaded = load_index(tmp_path / "index")
    manifest = json.loads((tmp_path / "index" / MANIFEST).read_text())
    assert manifest["embedder"] == "test-hashing" and manifest["dimension"] == 256
    assert manifest["entries"] == 3 and manifest["vectors"] == 7
    assert manifest["content_hash"] == collection.content_hash
    assert manifest["index_type"] == "flat"
    query = embedder.embed(["old couch"])[0]
    assert loaded.search(query) == built.search(query)
    assert loaded.entry("waste-bulky-items") == collection.by_id["waste-bulky-items"]


def test_large_indexes_switch_to_an_approximate_graph_that_still_finds_the_question(faq_dir, embedder, tmp_path):
    index = build_index(load_faq(faq_dir), embedder, approximate_above=3)
    assert index.manifest.index_type == "hnsw"
    save_index(index, tmp_path)
    loaded = load_index(tmp_path)
    assert loaded.search(embedder.embed(["Library opening hours"])[0], k=1)[0].entry_id == "library-hours"


def test_a_new_build_keeps_the_previous_files_and_drops_older_ones(faq_dir, embedder, tmp_path):
    builds, previous = [], "once a week"
    for text in ("on Mondays", "on Tuesdays", "on Fridays"):
        waste = (faq_dir / "waste.yml").read_text().replace(previous, text)
        (faq_dir / "waste.yml").write_text(waste)
        previous = text
        index = build_index(load_faq(faq_dir), embedder)
        save_index(index, tmp_path / "index")
        builds.append(index.manifest)
    names = {path.name for path in (tmp_path / "index").iterdir()}
    assert names == {MANIFEST, *(f for m in builds[1:] for f in (m.index_file, m.entries_file, m.vectors_file))}


def test_no_manifest_means_no_index(tmp_path):
    with pytest.raises(IndexNotFound, match="make faq"):
        load_index(tmp_path)


def test_a_damaged_index_file_is_reported_not_loaded(faq_dir, embedder, tmp_path):
    index = build_index(load_faq(faq_dir), embedder)
    save_index(index, tmp_path)
    (tmp_path / index.manifest.index_file).write_bytes(b"not a faiss index")
    with pytest.raises(IndexCorrupt):
        load_index(tmp_path)


@pytest.mark.slow
def test_the_shipped_faq_with_the_default_model_answers_reworded_questions():
    from retrieval.embedders import load_embedder
    from retrieval.settings import FaqSettings
    from tests.conftest import ROOT

    embedder = load_embedder(FaqSettings().embedder)
    index = build_index(load_faq(ROOT / "bot" / "data" / "faq"), embedder)
    asked = {
        "wat day do they take the garbage": "waste-collection-day",
        "got a parking ticket how do i pay it": "parking-pay-ticket",
        "when does the library open": "library-hours",
    }
    vectors = embedder.embed(list(asked))
    found = {question: index.search(vector, k=1)[0].entry_id for question, vector in zip(asked, vectors, strict=True)}
    assert found == asked
