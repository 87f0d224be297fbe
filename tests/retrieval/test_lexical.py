from __future__ import annotations

from retrieval.faq import load_faq
from retrieval.index import Hit, build_index
from retrieval.lexical import LexicalIndex, fuse


def test_bm25_ranks_the_entry_sharing_the_rare_words_first(faq_dir, embedder):
    rows = build_index(load_faq(faq_dir), embedder).rows
    hits = LexicalIndex(rows).search("old couch pickup", k=3)
    assert hits[0].entry_id == "waste-bulky-items"
    assert len({hit.entry_id for hit in hits}) == len(hits)


def test_bm25_finds_nothing_without_shared_words(faq_dir, embedder):
    rows = build_index(load_faq(faq_dir), embedder).rows
    assert LexicalIndex(rows).search("xyzzy", k=3) == []


def test_fusion_lets_a_strong_lexical_match_overtake_a_close_dense_one():
    dense = [Hit("a", 0.62, "q", "en"), Hit("b", 0.60, "q", "en")]
    lexical = [Hit("b", 9.0, "q", "en"), Hit("a", 1.0, "q", "en")]
    assert [hit.entry_id for hit in fuse(dense, lexical, lexical_weight=0.3)] == ["b", "a"]
