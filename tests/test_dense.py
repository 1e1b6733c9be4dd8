"""The dense index past the HNSW threshold, and the candidate search it brings.

Pure logic on deterministic random unit vectors (seeded; no model): what is
checked is that the large-index path ranks like the exhaustive one.
"""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assistant.answering import retrieve
from assistant.answering.retrieve import Searcher
from assistant.core.records import Chunk
from assistant.indexing.dense import DenseIndex
from assistant.indexing.layout import Index
from assistant.indexing.sparse import SparseIndex


def unit_vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_flat_scores_are_the_cosines():
    x = unit_vectors(50)
    dense = DenseIndex.build(x)
    assert not dense.approximate
    assert np.allclose(dense.scores(x[3]), x @ x[3], atol=1e-6)
    assert dense.top(x[3], 1).tolist() == [3]


def test_large_index_is_hnsw_and_survives_save_and_load(tmp_path: Path):
    x = unit_vectors(600)
    built = DenseIndex.build(x, ann_threshold=100)
    built.save(tmp_path / "dense.faiss")
    dense = DenseIndex.load(tmp_path / "dense.faiss")
    assert dense.approximate and dense.size == 600
    assert np.allclose(dense.matrix, x)
    exact = np.argsort(-(x @ x[7]))[:10]
    assert len(set(dense.top(x[7], 10).tolist()) & set(exact.tolist())) >= 9


def test_score_stats_match_scoring_every_passage():
    x = unit_vectors(400)
    dense = DenseIndex.build(x, ann_threshold=100)
    q = unit_vectors(1, seed=5)[0]
    mean, spread = dense.score_stats(q)
    assert mean == pytest.approx(float((x @ q).mean()), abs=1e-5)
    assert spread == pytest.approx(float((x @ q).std()), abs=1e-5)


def synthetic_index(n: int, dense: DenseIndex) -> Index:
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(300)]
    corpus_terms = [list(rng.choice(words, 12)) for _ in range(n)]
    chunks = [Chunk(f"d{i}#0-1", f"d{i}", 0, 1, " ".join(t)) for i, t in enumerate(corpus_terms)]
    return Index(Path("."), {}, {}, chunks, dense, SparseIndex.build(corpus_terms), {})


def test_candidate_search_ranks_like_the_exhaustive_one():
    """Random vectors are the hard case (flat similarities); real embeddings are more peaked."""
    assert retrieve.CANDIDATES < 3000 / 10  # the candidates really are a small part
    x = unit_vectors(3000)
    exact_index = synthetic_index(3000, DenseIndex.build(x))
    ann_index = replace(exact_index, dense=DenseIndex.build(x, ann_threshold=1000))
    exact, ann = Searcher(exact_index, None), Searcher(ann_index, None)  # type: ignore[arg-type]
    same = 0
    for n, q in enumerate(unit_vectors(40, seed=9)):
        q_terms = [f"w{n}", f"w{n + 40}"]
        a = [h.chunk.chunk_id for h in exact.hits(exact.score_query(q, q_terms), 5)]
        b = ann.hits(ann.score_query(q, q_terms), 5)
        same += a == [h.chunk.chunk_id for h in b]
        want = exact.score_query(q, q_terms).fused
        assert all(h.score == pytest.approx(float(want[int(h.chunk.doc_id[1:])]), abs=1e-4) for h in b)
    assert same >= 38
