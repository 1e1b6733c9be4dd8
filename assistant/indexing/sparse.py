"""BM25 over Persian terms (``assistant.tokens``), saved by bm25s as .npy arrays (allow_pickle=False)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np


class SparseIndex:
    def __init__(self, bm25: bm25s.BM25 | None, size: int):
        self.bm25 = bm25
        self.size = size

    @classmethod
    def build(cls, corpus_terms: Sequence[list[str]], k1: float = 1.2, b: float = 0.75) -> SparseIndex:
        if not corpus_terms:
            return cls(None, 0)
        bm25 = bm25s.BM25(k1=k1, b=b)
        bm25.index([list(t) for t in corpus_terms], show_progress=False)
        return cls(bm25, len(corpus_terms))

    @classmethod
    def load(cls, path: Path, size: int) -> SparseIndex:
        if size == 0:
            return cls(None, 0)
        return cls(bm25s.BM25.load(str(path), allow_pickle=False, show_progress=False), size)

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if self.bm25 is not None:
            self.bm25.save(str(path), allow_pickle=False, show_progress=False)

    def scores(self, query_terms: Sequence[str]) -> np.ndarray:
        """BM25 score of every passage, in chunk order; zeros if no term is known."""
        if self.bm25 is None:
            return np.zeros(self.size, np.float32)
        known = [t for t in query_terms if t in self.bm25.vocab_dict]
        if not known:
            return np.zeros(self.size, np.float32)
        return np.asarray(self.bm25.get_scores(known), dtype=np.float32)
