"""FAQ retrieval library: embedders, FAQ store, FAISS index (no Rasa imports)."""

from __future__ import annotations

from retrieval.embedders import (
    ConcatenatedEmbedder,
    Embedder,
    SentenceTransformerEmbedder,
    UniversalSentenceEncoder,
    load_embedder,
)
from retrieval.errors import EmbedderNotAvailable, RetrievalError

__all__ = [
    "ConcatenatedEmbedder",
    "Embedder",
    "EmbedderNotAvailable",
    "RetrievalError",
    "SentenceTransformerEmbedder",
    "UniversalSentenceEncoder",
    "load_embedder",
]
