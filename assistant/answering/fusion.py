"""Pure score fusion: dense cosine and BM25 into one ranking.

Chosen by measurement (``bench/retrieval.py``): z-score each signal over the
passages, then add BM25 with a small weight.  On ParsiNLU train it lifts
R@1 from 0.793 (dense alone) to 0.807, and it also wins on ParsiNLU dev and
PersianQA; reciprocal-rank fusion, by contrast, loses to dense alone
(0.743), because it gives the much weaker BM25 ranking equal say.
"""

from __future__ import annotations

import numpy as np

BM25_WEIGHT = 0.2


def standardize(scores: np.ndarray, mean: float, spread: float) -> np.ndarray:
    """``(scores - mean) / spread``; a zero spread (e.g. no BM25 match) gives zeros."""
    if spread < 1e-9:
        return np.zeros_like(scores, dtype=np.float32)
    return ((scores - mean) / spread).astype(np.float32)


def zscore(scores: np.ndarray) -> np.ndarray:
    """Centre and scale; a constant vector (e.g. no BM25 match) becomes zeros."""
    if scores.size == 0:
        return scores.astype(np.float32)
    return standardize(scores, float(scores.mean()), float(scores.std()))


def zscore_fusion(dense: np.ndarray, sparse: np.ndarray, weight: float = BM25_WEIGHT) -> np.ndarray:
    return zscore(dense) + weight * zscore(sparse)


def candidate_fusion(
    candidates: np.ndarray,
    dense: np.ndarray,
    dense_stats: tuple[float, float],
    sparse: np.ndarray,
    weight: float = BM25_WEIGHT,
) -> np.ndarray:
    """``zscore_fusion`` for a large index, scored only where it can matter.

    ``dense`` holds the candidates' cosines (in ``candidates`` order) and
    ``dense_stats`` the mean and spread of *all* passages' cosines; ``sparse``
    is every passage's BM25 score (cheap to get whole).  Candidates get
    exactly the value ``zscore_fusion`` would give them, everyone else -inf.
    With the candidates being the dense and the BM25 top-N, a passage left
    out scores at most the N-th of each list on both signals, so it could
    only enter the top k if the k best candidates all fall below that.
    """
    fused = np.full(len(sparse), -np.inf, np.float32)
    z_sparse = standardize(sparse[candidates], float(sparse.mean()), float(sparse.std()))
    fused[candidates] = standardize(dense, *dense_stats) + weight * z_sparse
    return fused


def rrf(*rankings: np.ndarray, k: int = 60) -> np.ndarray:
    """Reciprocal-rank fusion of score vectors (kept for the benchmark's comparison)."""
    total = np.zeros_like(rankings[0], dtype=np.float32)
    for scores in rankings:
        ranks = np.empty(len(scores), np.int64)
        ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
        total += 1.0 / (k + ranks)
    return total


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best scores, best first; k is clamped to the corpus size."""
    k = max(0, min(int(k), len(scores)))
    if k == 0:
        return np.zeros(0, np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]
