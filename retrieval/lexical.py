"""Okapi BM25 over the FAQ's question variants: the lexical baseline, and half of the hybrid."""

from __future__ import annotations

import math
import re
from collections import Counter

from retrieval.index import Hit

TOKEN = re.compile(r"\w+", re.UNICODE)
# Words that say nothing about which entry is meant (English; other languages keep theirs).
STOP_WORDS = frozenset(
    "a an and are as at be can could do does for from how i if in is it me my of on or our "
    "please should so that the their there this to what when where which who why will with "
    "would you your".split()
)


def tokens(text: str) -> list[str]:
    return [t for t in TOKEN.findall(text.casefold()) if t not in STOP_WORDS]


class LexicalIndex:
    """BM25 (k1=1.5, b=0.75) over rows of (entry id, language, question); best row per entry."""

    def __init__(self, rows: list[tuple[str, str, str]], k1: float = 1.5, b: float = 0.75) -> None:
        self.rows = rows
        self._k1, self._b = k1, b
        self._docs = [Counter(tokens(question)) for _, _, question in rows]
        lengths = [sum(doc.values()) for doc in self._docs]
        self._lengths = lengths
        self._average = (sum(lengths) / len(lengths)) if lengths else 1.0
        frequency: Counter[str] = Counter()
        for doc in self._docs:
            frequency.update(doc.keys())
        n = len(self._docs)
        self._idf = {term: math.log(1 + (n - df + 0.5) / (df + 0.5)) for term, df in frequency.items()}
        self._postings: dict[str, list[int]] = {}
        for number, doc in enumerate(self._docs):
            for term in doc:
                self._postings.setdefault(term, []).append(number)

    def scores(self, text: str) -> dict[int, float]:
        """BM25 score of every row sharing a word with ``text``."""
        result: dict[int, float] = {}
        for term in set(tokens(text)):
            idf = self._idf.get(term)
            if idf is None:
                continue
            for number in self._postings[term]:
                tf = self._docs[number][term]
                norm = tf + self._k1 * (1 - self._b + self._b * self._lengths[number] / self._average)
                result[number] = result.get(number, 0.0) + idf * tf * (self._k1 + 1) / norm
        return result

    def search(self, text: str, k: int = 3) -> list[Hit]:
        best: dict[str, Hit] = {}
        for number, score in sorted(self.scores(text).items(), key=lambda item: item[1], reverse=True):
            entry_id, language, question = self.rows[number]
            if entry_id not in best:
                best[entry_id] = Hit(entry_id, score, question, language)
                if len(best) == k:
                    break
        return list(best.values())


def fuse(dense: list[Hit], lexical: list[Hit], lexical_weight: float = 0.3, k: int = 3) -> list[Hit]:
    """Dense cosine plus a share of BM25 rescaled to the best lexical score (0..1)."""
    top = lexical[0].score if lexical else 0.0
    combined: dict[str, Hit] = {}
    for hit in dense:
        combined[hit.entry_id] = Hit(hit.entry_id, (1 - lexical_weight) * hit.score, hit.question, hit.language)
    for hit in lexical:
        share = lexical_weight * (hit.score / top if top > 0 else 0.0)
        seen = combined.get(hit.entry_id)
        if seen is None:
            combined[hit.entry_id] = Hit(hit.entry_id, share, hit.question, hit.language)
        else:
            combined[hit.entry_id] = Hit(seen.entry_id, seen.score + share, seen.question, seen.language)
    return sorted(combined.values(), key=lambda hit: hit.score, reverse=True)[:k]
