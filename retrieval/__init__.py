"""FAQ retrieval library: FAQ files, embedders, FAISS index, search, gap log (no Rasa imports)."""

from __future__ import annotations

from retrieval.embedders import (
    ConcatenatedEmbedder,
    Embedder,
    SentenceTransformerEmbedder,
    UniversalSentenceEncoder,
    load_embedder,
)
from retrieval.errors import EmbedderNotAvailable, FaqInvalid, IndexCorrupt, IndexNotFound, RetrievalError
from retrieval.faq import FaqCollection, FaqEntry, FaqProblem, check_faq, load_faq
from retrieval.gaps import Gap, GapLog, GapLogUnavailable
from retrieval.index import FaqIndex, Hit, Manifest, build_index, load_index, save_index
from retrieval.lexical import LexicalIndex, fuse
from retrieval.search import FaqSearcher, SearchResult

__all__ = [
    "ConcatenatedEmbedder",
    "Embedder",
    "EmbedderNotAvailable",
    "FaqCollection",
    "FaqEntry",
    "FaqIndex",
    "FaqInvalid",
    "FaqProblem",
    "FaqSearcher",
    "Gap",
    "GapLog",
    "GapLogUnavailable",
    "Hit",
    "IndexCorrupt",
    "IndexNotFound",
    "LexicalIndex",
    "Manifest",
    "RetrievalError",
    "SearchResult",
    "SentenceTransformerEmbedder",
    "UniversalSentenceEncoder",
    "build_index",
    "check_faq",
    "fuse",
    "load_embedder",
    "load_faq",
    "load_index",
    "save_index",
]
