"""The LangChain faces of retrieval: a ``BaseRetriever`` and hits as LangChain documents.

Imported only when asked for (``Assistant.retriever`` / ``Assistant.chain``):
LangChain's tracing stack costs a few tenths of a second to import.
"""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from ..core.records import Hit
from ..indexing.layout import Index
from .retrieve import Searcher


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
