"""Vectors of texts already embedded, so a rebuild after an edit embeds only what changed.

Kept beside the index as ``embeddings-<embedder>.npz`` (text hashes and vectors). The
cache is only an accelerator: a missing or unreadable one means embedding everything.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from retrieval.embedders import Embedder, embed_in_chunks
from retrieval.files import write_atomically

logger = logging.getLogger(__name__)


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Text -> vector for one embedder, loaded from and saved to one file."""

    def __init__(self, path: Path, embedder: Embedder) -> None:
        self.path = path
        self.embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}
        self._used: set[str] = set()
        self.hits = 0
        self.misses = 0
        self._load()

    @classmethod
    def beside(cls, directory: Path, embedder: Embedder) -> EmbeddingCache:
        name = hashlib.sha1(f"{embedder.name}|{embedder.dimension}".encode()).hexdigest()[:16]
        return cls(directory / f"embeddings-{name}.npz", embedder)

    def _load(self) -> None:
        try:
            with np.load(self.path, allow_pickle=False) as data:
                keys, vectors = data["keys"], data["vectors"]
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("ignoring the unreadable embedding cache %s: %s", self.path, exc)
            return
        if vectors.ndim == 2 and vectors.shape[1] == self.embedder.dimension and len(keys) == len(vectors):
            self._vectors = {str(key): vector for key, vector in zip(keys, vectors, strict=True)}

    def embed(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Vectors of ``texts``, embedding only those not seen before (in chunks, with progress)."""
        keys = [text_key(text) for text in texts]
        self._used.update(keys)
        missing = list(dict.fromkeys(k for k in keys if k not in self._vectors))
        by_key = {key: text for key, text in zip(keys, texts, strict=True)}
        self.misses += len(missing)
        self.hits += len(keys) - len(missing)
        if progress is not None and len(keys) > len(missing):
            progress(len(keys) - len(missing))
        fresh = embed_in_chunks(self.embedder, [by_key[key] for key in missing], progress)
        self._vectors.update(zip(missing, fresh, strict=True))
        if not texts:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        return np.vstack([self._vectors[key] for key in keys]).astype(np.float32)

    def save(self) -> None:
        """Keep the vectors of the texts used since loading; drop the rest."""
        keys = sorted(self._used & set(self._vectors))
        vectors = np.vstack([self._vectors[k] for k in keys]) if keys else np.zeros((0, self.embedder.dimension))

        def write(path: Path) -> None:
            with open(path, "wb") as file:  # a file object: np.savez would add ".npz" to a name
                np.savez(file, keys=np.array(keys), vectors=vectors.astype(np.float32))

        write_atomically(self.path, write)
