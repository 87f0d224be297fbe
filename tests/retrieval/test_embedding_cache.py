from __future__ import annotations

import numpy as np

from retrieval.embedding_cache import EmbeddingCache
from retrieval.faq import load_faq
from retrieval.index import build_index
from tests.retrieval.conftest import HashingEmbedder


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return super().embed(texts)


def test_a_rebuild_after_an_edit_embeds_only_the_changed_text(faq_dir, tmp_path):
    embedder = CountingEmbedder()
    cache = EmbeddingCache.beside(tmp_path, embedder)
    first = build_index(load_faq(faq_dir), embedder, cache=cache)
    cache.save()
    assert len(embedder.embedded) == 11  # 7 questions + 4 answers (one entry answers in es too)
    waste = (faq_dir / "waste.yml").read_text().replace("Bulky item pickup for furniture", "Pickup for a sofa")
    (faq_dir / "waste.yml").write_text(waste)
    embedder.embedded.clear()
    again = EmbeddingCache.beside(tmp_path, embedder)
    second = build_index(load_faq(faq_dir), embedder, cache=again)
    assert embedder.embedded == ["Pickup for a sofa"]
    assert (again.hits, again.misses) == (10, 1)
    query = embedder.embed(["old couch"])[0]
    assert second.search(query)[0].entry_id == first.search(query)[0].entry_id == "waste-bulky-items"


def test_a_damaged_cache_only_means_embedding_everything(faq_dir, tmp_path):
    embedder = CountingEmbedder()
    cache = EmbeddingCache.beside(tmp_path, embedder)
    cache.path.write_bytes(b"garbage")
    build_index(load_faq(faq_dir), embedder, cache=EmbeddingCache.beside(tmp_path, embedder))
    assert len(embedder.embedded) == 11
