"""The assembled assistant: settings → embedder → index → retriever → answerer.

This is the one object the CLI, the UI and the benchmarks hold.  Its
``chain`` is the same flow as a LangChain Runnable (``retrieve | answer``),
with the answerer pluggable.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence

from langchain_core.runnables import Runnable, RunnableLambda

from .answer import Evidence, ExtractiveAnswerer
from .config import Settings
from .conversation import Turn, last_context, parse_history, resolve
from .embed import Embedder
from .errors import AssistantError
from .generate import LLMAnswerer, chat_model_from_settings
from .index import Index, current_build, ensure_index, load_index
from .normalize import normalize
from .retrieve import HybridRetriever, Searcher
from .rewrite import QuestionReader
from .schema import Answer
from .tokens import words

#: Turns of a conversation read when resolving a follow-up (older ones cannot be leaned on).
MAX_HISTORY = 8


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
        return LLMAnswerer(model, ExtractiveAnswerer(embedder))
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

    def ask(
        self, question: str, k: int | None = None, history: Sequence[Turn | str | dict] | None = None
    ) -> Answer:
        """Answer ``question``, typed any way, read as a follow-up of ``history`` (oldest first)."""
        typed, resolved, understood_as = self._understand(question, k, history)
        return self._label(self.answer(self.retrieve(resolved, k)), typed, resolved, understood_as)

    def ask_stream(
        self, question: str, k: int | None = None, history: Sequence[Turn | str | dict] | None = None
    ) -> Iterator[str | Answer]:
        """Text deltas as a chat model writes them, then the final checked Answer (always last).

        The extractive answerer has nothing to stream: it yields the Answer alone.  Streamed
        text is a draft: sentences the check drops are missing from the final Answer.
        """
        typed, resolved, understood_as = self._understand(question, k, history)
        evidence = self.retrieve(resolved, k)
        stream = getattr(self.answerer, "stream", None)
        if stream is None:
            yield self._label(self.answer(evidence), typed, resolved, understood_as)
            return
        started = time.perf_counter()
        for part in stream(evidence):
            if isinstance(part, Answer):
                part.timings_ms = {**evidence.timings_ms, "answer": (time.perf_counter() - started) * 1000}
                part.timings_ms["total"] = part.timings_ms["retrieve"] + part.timings_ms["answer"]
                yield self._label(part, typed, resolved, understood_as)
            else:
                yield part

    def _understand(
        self, question: str, k: int | None, history: Sequence[Turn | str | dict] | None
    ) -> tuple[str, str, str]:
        """(typed, resolved, understood_as): typing fixed first, so «dovomi yani chi?» is a follow-up too."""
        question = validate_question(question, self.settings.max_question_chars)
        reader = self._reader()
        read = reader.read(question)
        # an earlier answer is re-derived by quoting (no LLM call): its listed items are source text
        quote = getattr(self.answerer, "extractive", self.answerer)
        try:
            turns = parse_history(history)[-MAX_HISTORY:]
        except ValueError as exc:
            raise QuestionError(str(exc)) from exc
        context = last_context(
            turns,
            read=lambda q: reader.read(q).text,
            rerun=lambda q: quote(self.retrieve(q, k)),
        )
        return question, resolve(read.text, context), read.understood_as

    def _reader(self) -> QuestionReader:
        """The question reader, knowing the words of the current index (rebuilt after a reload)."""
        cached = getattr(self, "_reader_for", None)
        if cached is None or cached[0] is not self.index:
            vocabulary = {w for chunk in self.index.chunks for w in words(normalize(chunk.text))}
            self._reader_for = (self.index, QuestionReader(vocabulary))
        return self._reader_for[1]

    @staticmethod
    def _label(answer: Answer, typed: str, resolved: str, understood_as: str) -> Answer:
        answer.question, answer.resolved_question, answer.understood_as = typed, resolved, understood_as
        return answer

    @property
    def chain(self) -> Runnable:
        """``retrieve | answer`` as a LangChain Runnable (invoke with the question)."""
        return RunnableLambda(self.retrieve) | RunnableLambda(self.answer)

    def retriever(self, k: int | None = None) -> HybridRetriever:
        return HybridRetriever(searcher=self.searcher, k=k or self.settings.top_k)
