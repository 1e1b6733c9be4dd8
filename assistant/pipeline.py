"""The assembled assistant: settings → embedder → index → retriever → answerer.

This is the one object the CLI, the UI and the benchmarks hold.  Its
``chain`` is the same flow as a LangChain Runnable (``retrieve | answer``),
with the answerer pluggable.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from langchain_core.runnables import Runnable, RunnableLambda

from .answer import Evidence, ExtractiveAnswerer, LLMAnswerer, chat_model_from_settings
from .config import Settings
from .embed import Embedder
from .errors import AssistantError
from .index import Index, current_build, ensure_index, load_index
from .retrieve import HybridRetriever, Searcher
from .schema import Answer


class QuestionError(AssistantError, ValueError):
    """A question we will not run; the message is Persian, then English."""


def validate_question(question: str, max_chars: int) -> str:
    question = (question or "").strip()
    if not question:
        raise QuestionError("پرسش خالی است. / The question is empty.")
    if len(question) > max_chars:
        raise QuestionError(
            f"پرسش بیش از {max_chars} نویسه است؛ کوتاه‌ترش کنید. / "
            f"The question is longer than {max_chars} characters; please shorten it."
        )
    return question


def make_answerer(settings: Settings, embedder: Embedder) -> Callable[[Evidence], Answer]:
    if settings.answerer == "llm":
        model = chat_model_from_settings(settings.llm_provider, settings.llm_model, settings.llm_base_url)
        return LLMAnswerer(model)
    return ExtractiveAnswerer(embedder)


class Assistant:
    """Load (or first build) the index and answer questions with citations."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        answerer: Callable[[Evidence], Answer] | None = None,
        build_if_missing: bool = True,
        say: Callable[[str], None] = print,
    ):
        self.settings = settings or Settings.from_env()
        self.embedder = embedder or Embedder(self.settings, say)
        if build_if_missing:
            index = ensure_index(self.settings, self.embedder, say)
        else:
            index = load_index(self.settings.index_dir, self.embedder)
        self._use(index)
        self.answerer = answerer or make_answerer(self.settings, self.embedder)

    def _use(self, index: Index) -> None:
        self.index = index
        self.searcher = Searcher(index, self.embedder)

    def reload(self) -> bool:
        """Pick up a newer build if ``index/current`` moved; the old one serves until then."""
        build = current_build(self.settings.index_dir)
        if build is None or build == self.index.path:
            return False
        self._use(load_index(self.settings.index_dir, self.embedder))
        return True

    def retrieve(self, question: str, k: int | None = None) -> Evidence:
        question = validate_question(question, self.settings.max_question_chars)
        started = time.perf_counter()
        scores = self.searcher.score(question)
        hits = self.searcher.hits(scores, k or self.settings.top_k)
        return Evidence(
            question, hits, scores, self.index, {"retrieve": (time.perf_counter() - started) * 1000}
        )

    def answer(self, evidence: Evidence) -> Answer:
        started = time.perf_counter()
        result = self.answerer(evidence)
        result.timings_ms = {**evidence.timings_ms, "answer": (time.perf_counter() - started) * 1000}
        result.timings_ms["total"] = result.timings_ms["retrieve"] + result.timings_ms["answer"]
        return result

    def ask(self, question: str, k: int | None = None) -> Answer:
        return self.answer(self.retrieve(question, k))

    @property
    def chain(self) -> Runnable:
        """``retrieve | answer`` as a LangChain Runnable (invoke with the question)."""
        return RunnableLambda(self.retrieve) | RunnableLambda(self.answer)

    def retriever(self, k: int | None = None) -> HybridRetriever:
        return HybridRetriever(searcher=self.searcher, k=k or self.settings.top_k)
