"""Hybrid retrieval: dense and BM25 scores of every passage, fused into one ranking."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..core.protocols import Encoder
from ..core.records import Hit
from ..indexing.layout import Index
from ..text.normalize import normalize
from ..text.tokens import terms
from . import fusion

MODES = ("hybrid", "dense", "bm25", "rrf")


#: Passages taken from each of the dense and the BM25 ranking when the index is too large to score whole.
CANDIDATES = 100


@dataclass
class Scores:
    """Passages' scores for one question; the answerer and abstention reuse them.

    On an approximate (HNSW) index only the candidates are scored: the
    others hold -inf in ``dense`` and ``fused``.
    """

    dense: np.ndarray
    sparse: np.ndarray
    fused: np.ndarray
    query_vector: np.ndarray
    query_terms: list[str]


class Searcher:
    """Scores the passages of a loaded index for a question.

    A flat index (up to ``dense.ANN_THRESHOLD`` passages) is scored whole:
    one matrix-vector product, well under a millisecond for thousands of
    passages.  A larger one is HNSW: only the union of the dense and BM25
    top ``CANDIDATES`` is scored, with the z-scores still taken over all
    passages (``fusion.candidate_fusion``): at 100k passages scoring takes
    ~20 ms instead of ~450 ms, with the same top 5 (``bench/scale.py``).
    """

    def __init__(
        self, index: Index, embedder: Encoder, mode: str = "hybrid", bm25_weight: float | None = None
    ):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.index = index
        self.embedder = embedder
        self.mode = mode
        self.bm25_weight = fusion.BM25_WEIGHT if bm25_weight is None else bm25_weight

    def score(self, question: str, hidden: np.ndarray | None = None) -> Scores:
        """Every passage's scores; ``hidden`` chunk positions score as if they were not indexed."""
        normalized = normalize(question)
        qv = self.embedder.embed([normalized], kind="query")[0]
        scores = self.score_query(qv, terms(normalized))
        return scores if hidden is None else without(scores, hidden)

    def score_query(self, qv: np.ndarray, q_terms: list[str]) -> Scores:
        """Scores for an embedded, split question (``score`` without the model)."""
        sparse = self.index.sparse.scores(q_terms)
        if self.index.dense.approximate and self.mode in ("hybrid", "dense"):
            dense, fused = self._candidates(qv, sparse)
            return Scores(dense, sparse, fused, qv, q_terms)
        dense = self.index.dense.scores(qv)
        if self.mode == "dense":
            fused = dense.copy()
        elif self.mode == "bm25":
            fused = sparse.copy()
        elif self.mode == "rrf":
            fused = fusion.rrf(dense, sparse)
        else:
            fused = fusion.zscore_fusion(dense, sparse, self.bm25_weight)
        return Scores(dense, sparse, fused, qv, q_terms)

    def _candidates(self, qv: np.ndarray, sparse: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Dense and fused scores of the dense ∪ BM25 top candidates; -inf elsewhere."""
        index = self.index.dense
        ids = index.top(qv, CANDIDATES)
        if self.mode == "hybrid":
            ids = np.union1d(ids, fusion.top_k(sparse, CANDIDATES))
        dense = np.full(index.size, -np.inf, np.float32)
        dense[ids] = index.matrix[ids] @ qv
        if self.mode == "dense":
            return dense, dense.copy()
        stats = index.score_stats(qv)
        return dense, fusion.candidate_fusion(ids, dense[ids], stats, sparse, self.bm25_weight)

    def hits(self, scores: Scores, k: int, hidden: np.ndarray | None = None) -> list[Hit]:
        """The k best passages, ranked 1..k; ``hidden`` positions are left out (leave-gold-out)."""
        if hidden is not None and hidden.size:
            gone = {self.index.chunks[i].chunk_id for i in hidden}
            kept = [h for h in self.hits(scores, k + len(gone)) if h.chunk.chunk_id not in gone]
            return [replace(h, rank=r) for r, h in enumerate(kept[:k], 1)]
        order = fusion.top_k(scores.fused, k)
        return [
            Hit(
                chunk=self.index.chunks[i],
                score=float(scores.fused[i]),
                dense=float(scores.dense[i]),
                sparse=float(scores.sparse[i]),
                rank=r,
            )
            for r, i in enumerate(order, 1)
        ]

    def search(self, question: str, k: int = 5) -> list[Hit]:
        return self.hits(self.score(question), k)


def without(scores: Scores, hidden: np.ndarray) -> Scores:
    """The scores as if the ``hidden`` passages were not indexed: they drop to the bottom of every
    signal, so ranking, margins and the answerer see only the rest (no index rebuilt)."""
    if hidden.size == 0:
        return scores
    dense, sparse, fused = scores.dense.copy(), scores.sparse.copy(), scores.fused.copy()
    keep = np.ones(len(dense), bool)
    keep[hidden] = False
    if keep.any():
        dense[hidden], sparse[hidden], fused[hidden] = (
            dense[keep].min(),
            sparse[keep].min(),
            fused[keep].min() - 1,
        )
    return replace(scores, dense=dense, sparse=sparse, fused=fused)
