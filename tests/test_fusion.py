"""Pure fusion functions, on hand-made scores."""

import numpy as np

from assistant.answering.fusion import candidate_fusion, rrf, standardize, top_k, zscore, zscore_fusion


def test_zscore_of_constant_is_zero():
    assert np.allclose(zscore(np.array([3.0, 3.0, 3.0])), 0)


def test_zscore_fusion_lets_bm25_break_a_dense_tie():
    dense = np.array([0.80, 0.80, 0.10])
    sparse = np.array([0.0, 5.0, 0.0])
    assert top_k(zscore_fusion(dense, sparse), 3).tolist() == [1, 0, 2]


def test_small_bm25_weight_does_not_overturn_a_clear_dense_winner():
    dense = np.array([0.90, 0.70, 0.69, 0.68])
    sparse = np.array([0.0, 9.0, 0.0, 0.0])
    assert top_k(zscore_fusion(dense, sparse, weight=0.2), 1).tolist() == [0]


def test_rrf_prefers_items_ranked_well_by_both():
    a = np.array([3.0, 2.0, 1.0])
    b = np.array([1.0, 3.0, 2.0])
    assert top_k(rrf(a, b), 1).tolist() == [1]


def test_top_k_is_clamped_to_corpus_size():
    assert top_k(np.array([0.1, 0.5]), 10).tolist() == [1, 0]
    assert top_k(np.array([]), 3).tolist() == []


def test_candidate_fusion_gives_candidates_their_exhaustive_score():
    dense = np.array([0.9, 0.2, 0.5, 0.7, 0.1])
    sparse = np.array([0.0, 4.0, 1.0, 0.0, 0.0])
    ids = np.array([0, 1, 3])
    fused = candidate_fusion(ids, dense[ids], (float(dense.mean()), float(dense.std())), sparse)
    assert np.allclose(fused[ids], zscore_fusion(dense, sparse)[ids])
    assert np.isneginf(fused[[2, 4]]).all()


def test_standardize_with_no_spread_is_zero():
    assert np.allclose(standardize(np.array([1.0, 2.0]), 1.0, 0.0), 0)
