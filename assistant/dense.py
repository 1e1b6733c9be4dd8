"""FAISS inner-product index over L2-normalized vectors (= cosine similarity)."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np


class DenseIndex:
    def __init__(self, index: faiss.Index):
        self.index = index

    @classmethod
    def build(cls, vectors: np.ndarray) -> DenseIndex:
        index = faiss.IndexFlatIP(int(vectors.shape[1]))
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index)

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        return cls(faiss.read_index(str(path)))

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Cosine of the query with every passage, in chunk order."""
        if self.size == 0:
            return np.zeros(0, np.float32)
        sims, ids = self.index.search(query.reshape(1, -1).astype(np.float32), self.size)
        out = np.empty(self.size, np.float32)
        out[ids[0]] = sims[0]
        return out

    def vectors(self) -> np.ndarray:
        return (
            self.index.reconstruct_n(0, self.size) if self.size else np.zeros((0, self.index.d), np.float32)
        )
