"""A deterministic embedder and small FAQ folders for retrieval tests."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest


class HashingEmbedder:
    """Bag of words hashed into 256 dimensions: same words, same vector; no model needed."""

    def __init__(self, name: str = "test-hashing", dimension: int = 256) -> None:
        self.name = name
        self.dimension = dimension

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.casefold()):
                digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
                vectors[row, int.from_bytes(digest, "little") % self.dimension] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return vectors / norms


WASTE = """\
category: waste
entries:
  - id: waste-collection-day
    reviewed: 2026-10-15
    source: https://city.example.gov/waste/collection
    questions:
      en:
        - When is my trash picked up?
        - What day is garbage collection?
      es:
        - ¿Qué día recogen la basura?
    answers:
      en: Trash is collected once a week.
      es: La basura se recoge una vez por semana.
  - id: waste-bulky-items
    reviewed: 2026-09-01
    source: https://city.example.gov/waste/bulky
    questions:
      en:
        - How do I get rid of an old couch?
        - Bulky item pickup for furniture
    answers:
      en: Book a bulky item pickup online; up to three items a month are free.
"""

LIBRARY = """\
category: library
entries:
  - id: library-hours
    reviewed: 2026-08-01
    source: https://city.example.gov/library/hours
    questions:
      en:
        - What time does the library open?
        - Library opening hours
    answers:
      en: The Central Library is open Mon-Sat 9:00-20:00.
"""


def write_faq(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    return write_faq(tmp_path / "faq", {"waste.yml": WASTE, "library.yml": LIBRARY})


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder()
