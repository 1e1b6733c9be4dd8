"""FAISS inner product over L2-normalized vectors (= cosine similarity).

Up to ``ANN_THRESHOLD`` passages the index is flat (exact).  Above it, a scan
of every vector per question is too slow on a small CPU (100k × 384 floats
are 150 MB to read: ~25 ms of one core, several times that on a busy
machine), so the build switches to HNSW, which finds the nearest passages
after reading a few thousand vectors; ``bench/scale.py`` measures both.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import faiss
import numpy as np

ANN_THRESHOLD = 50_000
HNSW_NEIGHBOURS = 32
HNSW_EF_CONSTRUCTION = 40


class DenseIndex:
    def __init__(self, index: faiss.Index):
        self.index = index

    @classmethod
    def build(cls, vectors: np.ndarray, ann_threshold: int = ANN_THRESHOLD) -> DenseIndex:
        dim = int(vectors.shape[1])
        if len(vectors) > ann_threshold:
            index = faiss.IndexHNSWFlat(dim, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        else:
            index = faiss.IndexFlatIP(dim)
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index)

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        dense = cls(faiss.read_index(str(path)))
        if dense.approximate:
            _ = dense.moments  # now, not on the first question
        return dense

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @property
    def approximate(self) -> bool:
        """True for an HNSW index: ``top`` may miss a true neighbour now and then."""
        return isinstance(self.index, faiss.IndexHNSW)

    @cached_property
    def matrix(self) -> np.ndarray:
        """The stored vectors as a (size, dim) array, a view into FAISS's memory (no copy)."""
        flat = faiss.downcast_index(self.index.storage) if self.approximate else self.index
        if self.size == 0:
            return np.zeros((0, self.index.d), np.float32)
        return faiss.rev_swig_ptr(flat.get_xb(), self.size * self.index.d).reshape(self.size, self.index.d)

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Cosine of the query with every passage, in chunk order (one matrix-vector product)."""
        return self.matrix @ np.asarray(query, np.float32)

    def top(self, query: np.ndarray, n: int) -> np.ndarray:
        """Ids of (about, if approximate) the n passages nearest to the query, best first."""
        n = min(int(n), self.size)
        if n <= 0:
            return np.zeros(0, np.int64)
        if self.approximate:
            self.index.hnsw.efSearch = max(2 * n, 64)
        _, ids = self.index.search(np.asarray(query, np.float32).reshape(1, -1), n)
        return ids[0][ids[0] >= 0]

    @cached_property
    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean vector and covariance matrix of the passages (computed once, in blocks).

        They give the mean and spread of *all* passages' cosines with any query
        exactly (``mean·q`` and ``√(qᵀCq)``) without scoring every passage.
        """
        x, dim = self.matrix, self.index.d
        mean = x.mean(axis=0, dtype=np.float64) if len(x) else np.zeros(dim)
        cov = np.zeros((dim, dim))
        for start in range(0, len(x), 8192):
            block = x[start : start + 8192] - mean.astype(np.float32)
            cov += block.T @ block
        return mean, cov / max(len(x), 1)

    def score_stats(self, query: np.ndarray) -> tuple[float, float]:
        """Mean and standard deviation of the query's cosine over every passage."""
        mean, cov = self.moments
        q = np.asarray(query, np.float64)
        return float(mean @ q), float(np.sqrt(max(float(q @ cov @ q), 0.0)))

    def vectors(self) -> np.ndarray:
        return self.matrix.copy()
