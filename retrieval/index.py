"""The FAISS index over every FAQ question variant: build, save atomically, load, search.

On disk (``models/faq/`` by default)::

    manifest.json            written last, by rename: names the two files below
    index-<key>.faiss        the FAISS index (one vector per question variant)
    entries-<key>.json       the entries and which entry each vector belongs to
    vectors-<key>.npz        per entry: the centroid of its questions and its answers' vectors

How an entry is scored for a query (cosine similarities, so scores stay in -1..1): the
mean of its best question's similarity, the similarity to the centroid of all its
questions, and the similarity to its answer. The best question alone misses reworded
questions whose words are in the answer, or spread over several variants; the mean
of the three raised recall@1 on the held-apart set (benchmarks/results/faq.md).

A reader opens ``manifest.json`` and then the files it names, so it sees either the
old build or the new one, never half of each. The files of the previous build are
kept until the next build, for readers that read the old manifest a moment ago.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from retrieval.embedders import Embedder, embed_in_chunks
from retrieval.embedding_cache import EmbeddingCache
from retrieval.errors import IndexCorrupt, IndexNotFound
from retrieval.faq import FaqCollection, FaqEntry
from retrieval.files import write_atomically

FORMAT = 2
MANIFEST = "manifest.json"
# Exact search grows ~0.23 ms per 1000 896-d vectors on these cores (about 4.6 ms at 20 000,
# 11 ms at 50 000); past 20 000 vectors an HNSW graph takes over (0.1-0.3 ms, recall@10 ~0.9
# on real FAQ embeddings; benchmarks/results/faq.md).
APPROXIMATE_ABOVE = 20_000
HNSW_NEIGHBOURS = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
# Weights of the best question, the questions' centroid and the answer in an entry's score.
SIGNAL_WEIGHTS = (1.0, 1.0, 1.0)


@dataclass(frozen=True)
class Hit:
    """One FAQ entry that matches a query, with its best-matching question."""

    entry_id: str
    score: float
    question: str
    language: str


@dataclass(frozen=True)
class Manifest:
    """What an index was built from and with; compared before every rebuild and load."""

    format: int
    build_key: str
    content_hash: str
    embedder: str
    dimension: int
    entries: int
    vectors: int
    index_type: str
    languages: dict[str, int]
    built_at: str
    build_seconds: float
    index_file: str
    entries_file: str
    vectors_file: str

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        path = directory / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise IndexNotFound(f"no FAQ index in {directory} (build it with `make faq`)") from exc
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(f"cannot read {path}: {exc}") from exc
        try:
            manifest = cls(**data)
        except TypeError as exc:
            raise IndexCorrupt(f"{path} is not a manifest this version understands: {exc}") from exc
        if manifest.format != FORMAT:
            raise IndexCorrupt(f"{path} has format {manifest.format}, expected {FORMAT}")
        return manifest


def build_key(content_hash: str, embedder_spec: str, approximate_above: int) -> str:
    """Same key, same index: the content, the embedder (as configured) and the index choice."""
    text = f"{FORMAT}|{content_hash}|{embedder_spec}|{approximate_above}|{SIGNAL_WEIGHTS}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class EntryVectors:
    """Per entry (in ``FaqIndex.order``): its questions' centroid; its answers, one row per language."""

    centroids: np.ndarray
    answers: np.ndarray
    answer_owner: np.ndarray  # entry position of each answer row


class FaqIndex:
    """Vectors of every question variant, searchable by a query vector; answers by entry id."""

    def __init__(
        self,
        index: faiss.Index,
        rows: list[tuple[str, str, str]],
        entries: dict[str, FaqEntry],
        vectors: EntryVectors,
        manifest: Manifest,
    ) -> None:
        if index.ntotal != len(rows):
            raise IndexCorrupt(f"index holds {index.ntotal} vectors but {len(rows)} rows")
        if len(vectors.centroids) != len(entries):
            raise IndexCorrupt(f"{len(vectors.centroids)} centroids for {len(entries)} entries")
        self._index = index
        self.rows = rows  # (entry id, language, question) per vector
        self.entries = entries
        self.order = list(entries)  # entry ids by position
        position = {entry_id: n for n, entry_id in enumerate(self.order)}
        self._row_position = [position[entry_id] for entry_id, _, _ in rows]  # entry of each vector
        self.vectors = vectors
        self._answer_rows: list[list[int]] = [[] for _ in self.order]
        for row, owner in enumerate(vectors.answer_owner):
            self._answer_rows[int(owner)].append(row)
        self.manifest = manifest

    def __len__(self) -> int:
        return len(self.entries)

    def entry(self, entry_id: str) -> FaqEntry | None:
        return self.entries.get(entry_id)

    def search(self, query: np.ndarray, k: int = 3) -> list[Hit]:
        """The ``k`` best entries for a unit-length query vector, best first."""
        if k <= 0 or not self.rows:
            return []
        vector = np.ascontiguousarray(np.asarray(query, dtype=np.float32).reshape(1, -1))
        if vector.shape[1] != self._index.d:
            raise IndexCorrupt(f"query has dimension {vector.shape[1]}, index has {self._index.d}")
        # The candidates: entries with a question among the nearest. An entry's first row in
        # this ranking is its best question.
        depth = min(len(self.rows), max(k * 10, 64))
        scores, ids = self._index.search(vector, depth)
        best: dict[int, tuple[float, int]] = {}
        for score, row in zip(scores[0], ids[0], strict=True):
            if row >= 0:
                best.setdefault(self._row_position[row], (float(score), int(row)))
        positions = list(best)
        centroid = self.vectors.centroids[positions] @ vector[0]
        w_question, w_centroid, w_answer = SIGNAL_WEIGHTS
        hits = []
        for n, position in enumerate(positions):
            question_score, row = best[position]
            own = self._answer_rows[position]  # only the candidates' answers: a few rows, not all
            answer = float((self.vectors.answers[own] @ vector[0]).max()) if own else question_score
            score = (w_question * question_score + w_centroid * float(centroid[n]) + w_answer * answer) / sum(
                SIGNAL_WEIGHTS
            )
            entry_id, language, question = self.rows[row]
            hits.append(Hit(entry_id, score, question, language))
        hits.sort(key=lambda hit: hit.score, reverse=True)
        return hits[:k]


def _rows(collection: FaqCollection) -> list[tuple[str, str, str]]:
    return [
        (entry.id, code, question)
        for entry in collection.entries
        for code, questions in entry.questions.items()
        for question in questions
    ]


def make_faiss_index(vectors: np.ndarray, approximate_above: int = APPROXIMATE_ABOVE) -> faiss.Index:
    """Exact inner product (vectors are unit length: cosine) or, when large, an HNSW graph."""
    dimension = vectors.shape[1]
    if len(vectors) > approximate_above:
        index = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        index = faiss.IndexFlatIP(dimension)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def _embed(
    texts: list[str], embedder: Embedder, cache: EmbeddingCache | None, progress: Callable[[int], None] | None
) -> np.ndarray:
    if cache is not None:
        return cache.embed(texts, progress)
    return embed_in_chunks(embedder, texts, progress)


def build_index(
    collection: FaqCollection,
    embedder: Embedder,
    approximate_above: int = APPROXIMATE_ABOVE,
    progress: Callable[[int], None] | None = None,
    embedder_spec: str | None = None,
    cache: EmbeddingCache | None = None,
) -> FaqIndex:
    """Embed every question variant and answer, and index them.

    ``progress(n)`` is called as texts are embedded; ``embedder_spec`` is the configured name
    the embedder was loaded by (its ``name`` if not given); a ``cache`` of the same embedder
    spares embedding texts that a previous build already embedded.
    """
    started = time.perf_counter()
    rows = _rows(collection)
    vectors = _embed([question for _, _, question in rows], embedder, cache, progress)
    order = [entry.id for entry in collection.entries]
    position = {entry_id: n for n, entry_id in enumerate(order)}
    centroids = np.zeros((len(order), embedder.dimension), dtype=np.float32)
    for vector, (entry_id, _, _) in zip(vectors, rows, strict=True):
        centroids[position[entry_id]] += vector
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    answer_texts = [(position[e.id], text) for e in collection.entries for text in e.answers.values()]
    answers = _embed([text for _, text in answer_texts], embedder, cache, progress)
    entry_vectors = EntryVectors(
        centroids, np.asarray(answers, dtype=np.float32), np.array([p for p, _ in answer_texts], dtype=np.int32)
    )
    index = make_faiss_index(vectors, approximate_above)
    content_hash = collection.content_hash
    key = build_key(content_hash, embedder_spec or embedder.name, approximate_above)
    manifest = Manifest(
        format=FORMAT,
        build_key=key,
        content_hash=content_hash,
        embedder=embedder.name,
        dimension=embedder.dimension,
        entries=len(collection.entries),
        vectors=len(rows),
        index_type="hnsw" if isinstance(index, faiss.IndexHNSWFlat) else "flat",
        languages=collection.languages(),
        built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        build_seconds=round(time.perf_counter() - started, 3),
        index_file=f"index-{key[:16]}.faiss",
        entries_file=f"entries-{key[:16]}.json",
        vectors_file=f"vectors-{key[:16]}.npz",
    )
    return FaqIndex(index, rows, {entry_id: collection.by_id[entry_id] for entry_id in order}, entry_vectors, manifest)


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _write_vectors(path: Path, vectors: EntryVectors) -> None:
    with open(path, "wb") as handle:  # a file object: np.savez would add ".npz" to a name
        np.savez(handle, **asdict(vectors))


def save_index(index: FaqIndex, directory: Path) -> None:
    """Save the build's files, then switch ``manifest.json`` to them; prune older builds."""
    directory.mkdir(parents=True, exist_ok=True)
    manifest = index.manifest
    try:
        previous: Manifest | None = Manifest.read(directory)
    except (IndexNotFound, IndexCorrupt):
        previous = None
    payload = {
        "rows": [list(row) for row in index.rows],
        "entries": [entry.to_json() for entry in index.entries.values()],
    }
    write_atomically(directory / manifest.index_file, lambda p: faiss.write_index(index._index, str(p)))
    write_atomically(
        directory / manifest.entries_file,
        lambda p: _write_text(p, json.dumps(payload, ensure_ascii=False)),
    )
    write_atomically(
        directory / manifest.vectors_file,
        lambda p: _write_vectors(p, index.vectors),
    )
    write_atomically(
        directory / MANIFEST,
        lambda p: _write_text(p, json.dumps(asdict(manifest), indent=2) + "\n"),
    )
    keep = {MANIFEST, manifest.index_file, manifest.entries_file, manifest.vectors_file}
    if previous is not None:
        keep |= {previous.index_file, previous.entries_file, previous.vectors_file}
    for path in directory.iterdir():
        # (embeddings-*.npz, the embedding cache, is the build command's to keep)
        if path.is_file() and path.name not in keep and path.name.startswith(("index-", "entries-", "vectors-")):
            path.unlink(missing_ok=True)


def load_index(directory: Path) -> FaqIndex:
    """The build that ``manifest.json`` names; IndexNotFound or IndexCorrupt otherwise."""
    manifest = Manifest.read(directory)
    index_path = directory / manifest.index_file
    entries_path = directory / manifest.entries_file
    try:
        index = faiss.read_index(str(index_path))
        payload: dict[str, Any] = json.loads(entries_path.read_text(encoding="utf-8"))
        rows = [(str(a), str(b), str(c)) for a, b, c in payload["rows"]]
        entries = {data["id"]: FaqEntry.from_json(data) for data in payload["entries"]}
        with np.load(directory / manifest.vectors_file, allow_pickle=False) as arrays:
            vectors = EntryVectors(arrays["centroids"], arrays["answers"], arrays["answer_owner"])
    except (OSError, RuntimeError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupt(f"cannot load the FAQ index named by {directory / MANIFEST}: {exc}") from exc
    if index.d != manifest.dimension or index.ntotal != manifest.vectors:
        raise IndexCorrupt(
            f"{index_path.name} has {index.ntotal} vectors of dimension {index.d}, "
            f"the manifest says {manifest.vectors} of {manifest.dimension}"
        )
    if isinstance(index, faiss.IndexHNSWFlat):
        index.hnsw.efSearch = HNSW_EF_SEARCH
    return FaqIndex(index, rows, entries, vectors, manifest)
