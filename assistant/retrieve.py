"""Hybrid retrieval (dense + BM25, fused) and its LangChain retriever face."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from . import fusion
from .embed import Embedder
from .index import Index
from .normalize import normalize
from .schema import Hit
from .tokens import terms

MODES = ("hybrid", "dense", "bm25", "rrf")


@dataclass
class Scores:
    """All passages' scores for one question; the answerer and abstention reuse them."""

    dense: np.ndarray
    sparse: np.ndarray
    fused: np.ndarray
    query_vector: np.ndarray
    query_terms: list[str]


class Searcher:
    """Scores every passage of a loaded index for a question.

    Exhaustive scoring is right at this scale (thousands of passages, a flat
    FAISS index answers in well under a millisecond); fusion needs every
    passage's score anyway to standardize them.
    """

    def __init__(
        self, index: Index, embedder: Embedder, mode: str = "hybrid", bm25_weight: float | None = None
    ):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.index = index
        self.embedder = embedder
        self.mode = mode
        self.bm25_weight = fusion.BM25_WEIGHT if bm25_weight is None else bm25_weight

    def score(self, question: str) -> Scores:
        normalized = normalize(question)
        qv = self.embedder.embed_batch([normalized], kind="query")[0]
        q_terms = terms(normalized)
        dense = self.index.dense.scores(qv)
        sparse = self.index.sparse.scores(q_terms)
        if self.mode == "dense":
            fused = dense.copy()
        elif self.mode == "bm25":
            fused = sparse.copy()
        elif self.mode == "rrf":
            fused = fusion.rrf(dense, sparse)
        else:
            fused = fusion.zscore_fusion(dense, sparse, self.bm25_weight)
        return Scores(dense, sparse, fused, qv, q_terms)

    def hits(self, scores: Scores, k: int) -> list[Hit]:
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


def to_langchain(hit: Hit, index: Index) -> LCDocument:
    doc = index.documents[hit.chunk.doc_id]
    return LCDocument(
        page_content=hit.chunk.text,
        metadata={
            "chunk_id": hit.chunk.chunk_id,
            "doc_id": hit.chunk.doc_id,
            "title": doc.title,
            "speaker": doc.speaker,
            "date": doc.date,
            "source": doc.source,
            "start": hit.chunk.start,
            "end": hit.chunk.end,
            "heading": hit.chunk.heading,
            "score": hit.score,
            "dense": hit.dense,
            "sparse": hit.sparse,
            "rank": hit.rank,
        },
    )


class HybridRetriever(BaseRetriever):
    """LangChain ``BaseRetriever`` over a :class:`Searcher`; metadata carries offsets and scores."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    searcher: Searcher
    k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        return [to_langchain(h, self.searcher.index) for h in self.searcher.search(query, self.k)]
