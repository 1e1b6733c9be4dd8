"""The assembled assistant: settings → embedder → index → retriever → answerer.

This is the one object the CLI, the web app and the benchmarks hold, and its
public methods are the facade they use (ask, search, documents, document,
open_citation, stats, reload).  The loaded index and its searcher form one
immutable :class:`Snapshot` swapped by a single reference assignment, so
questions run in parallel with no lock and a reload never mixes two builds.
Its ``chain`` is the same flow as a LangChain Runnable (``retrieve | answer``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from langchain_core.runnables import Runnable, RunnableLambda

from .answering.conversation import Turn, last_context, parse_history, resolve
from .answering.extractive import Evidence, ExtractiveAnswerer
from .answering.generate import LLMAnswerer, chat_model_from_settings
from .answering.retrieve import HybridRetriever, Searcher
from .answering.rewrite import QuestionReader
from .core.errors import AssistantError
from .core.records import Answer, BuildReport, Citation, Document, Hit, SkippedFile
from .core.settings import DEFAULT_MODEL, Settings
from .indexing.jobs import BuildDone, BuildError, BuildProgress, IndexWatcher, start_build
from .indexing.layout import BuildFailed, Index, current_build, ensure_index, load_index, versions_dir
from .indexing.versions import VersionStore
from .ingest.load import SUPPORTED
from .ingest.upload import save_upload
from .model.embed import Embedder
from .text.normalize import normalize
from .text.tokens import words

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


def needs_first_build(settings: Settings) -> bool:
    """True when starting will convert the model or build the index (tens of seconds)."""
    if current_build(settings.index_dir) is None:
        return True
    models = settings.models_dir
    return settings.embed_model == DEFAULT_MODEL and not (models.is_dir() and any(models.iterdir()))


def make_answerer(settings: Settings, embedder: Embedder) -> Callable[[Evidence], Answer]:
    if settings.answerer == "llm":
        model = chat_model_from_settings(settings.llm_provider, settings.llm_model, settings.llm_base_url)
        return LLMAnswerer(model, ExtractiveAnswerer(embedder))
    return ExtractiveAnswerer(embedder)


@dataclass(frozen=True)
class Snapshot:
    """One loaded build and the searcher over it: what a question reads, start to finish."""

    index: Index
    searcher: Searcher

    @property
    def build_id(self) -> str:
        return str(self.index.manifest.get("build_id", ""))


@dataclass(frozen=True)
class IndexStats:
    """The serving build, for the Sources and Index tabs."""

    build_id: str
    embedding_model: str
    documents: int
    chunks: int
    built_at: str
    corpus_dir: str
    path: str
    report: BuildReport


@dataclass(frozen=True)
class QuotedSource:
    """What opening a citation shows: the version it quoted and, if it changed since, the current one.

    ``quoted`` is None only when neither the current document nor the version
    store has the quoted text (an index from before versions were kept).
    """

    quoted: Document | None
    current: Document | None
    changed_at: str = ""

    @property
    def changed(self) -> bool:
        return self.current is None or (
            self.quoted is not None and self.quoted.content_hash != self.current.content_hash
        )


class Assistant:
    """Load (or first build) the index and answer questions with citations."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        answerer: Callable[[Evidence], Answer] | None = None,
        build_if_missing: bool = True,
        export_in_background: bool = False,
        say: Callable[[str], None] = print,
    ):
        self.settings = settings or Settings.from_env()
        self.embedder = embedder or Embedder(self.settings, say)
        if export_in_background:  # a server's first start: no wait for the one-time ONNX export
            self.embedder.export_in_background()
        if build_if_missing:
            index = ensure_index(self.settings, self.embedder, say)
        else:
            index = load_index(self.settings.index_dir, self.embedder)
        self._snapshot = Snapshot(index, Searcher(index, self.embedder))
        self.versions = VersionStore(versions_dir(self.settings.index_dir))
        self.answerer = answerer or make_answerer(self.settings, self.embedder)

    # ------------------------------------------------------------------ the serving build

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    @property
    def index(self) -> Index:
        return self._snapshot.index

    @property
    def searcher(self) -> Searcher:
        return self._snapshot.searcher

    def reload(self) -> bool:
        """Pick up a newer build if ``index/current`` moved; the old one serves until then.

        The new build is loaded completely before one reference assignment
        swaps it in: questions already running finish on the old snapshot.
        """
        build = current_build(self.settings.index_dir)
        if build is None or build == self._snapshot.index.path:
            return False
        index = load_index(self.settings.index_dir, self.embedder)
        self._snapshot = Snapshot(index, Searcher(index, self.embedder))
        return True

    def warm_up(self) -> None:
        """Load the model's weights now, not on the first question."""
        self.embedder.warm_up()

    # ------------------------------------------------------------------ questions

    def retrieve(self, question: str, k: int | None = None) -> Evidence:
        question = validate_question(question, self.settings.max_question_chars)
        snap = self._snapshot  # read once: this question sees one build throughout
        started = time.perf_counter()
        scores = snap.searcher.score(question)
        hits = snap.searcher.hits(scores, k or self.settings.top_k)
        return Evidence(
            question, hits, scores, snap.index, {"retrieve": (time.perf_counter() - started) * 1000}
        )

    def answer(self, evidence: Evidence) -> Answer:
        started = time.perf_counter()
        result = self.answerer(evidence)
        result.timings_ms = {**evidence.timings_ms, "answer": (time.perf_counter() - started) * 1000}
        result.timings_ms["total"] = result.timings_ms["retrieve"] + result.timings_ms["answer"]
        result.build_id = str(evidence.index.manifest.get("build_id", ""))
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

    def embed_questions(self, texts: list[str]) -> np.ndarray:
        """L2-normalized query vectors (the review tab groups unanswered questions by them)."""
        return self.embedder.embed_batch([normalize(t) for t in texts], kind="query")

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """Passages for a search box (no answer): the same hybrid scores the answerer sees."""
        query = validate_question(query, self.settings.max_question_chars)
        return self._snapshot.searcher.search(query, k)

    # ------------------------------------------------------------------ documents and citations

    def documents(self) -> list[Document]:
        return list(self._snapshot.index.documents.values())

    def document(self, doc_id: str) -> Document | None:
        return self._snapshot.index.documents.get(doc_id)

    def open_citation(self, citation: Citation) -> QuotedSource:
        """The text a citation quoted, even after its document changed or left the corpus."""
        current = self.document(citation.doc_id)
        sha = getattr(citation, "doc_sha256", "")
        if current is not None and (not sha or current.content_hash == sha):
            return QuotedSource(current, current)
        version = self.versions.get(sha) if sha else None
        quoted = version.document if version else None
        same_text = current is not None and current.text[citation.start : citation.end] == citation.text
        if quoted is None and same_text:
            quoted = current  # no stored version, but the quote still reads the same
        now = self.versions.get(current.content_hash) if current is not None else None
        return QuotedSource(quoted, current, now.first_indexed_at if now else "")

    def stats(self) -> IndexStats:
        index = self._snapshot.index
        raw = index.report or {}
        report = BuildReport(
            **{k: v for k, v in raw.items() if k in BuildReport.__dataclass_fields__ and k != "skipped"},
            skipped=[SkippedFile(**s) for s in raw.get("skipped", [])],
        )
        return IndexStats(
            build_id=str(index.manifest.get("build_id", "")),
            embedding_model=str(index.manifest.get("embedding_model", "")),
            documents=len(index.documents),
            chunks=len(index.chunks),
            built_at=str(index.manifest.get("built_at", "")),
            corpus_dir=str(index.manifest.get("corpus_dir", "")),
            path=str(index.path),
            report=report,
        )

    # ------------------------------------------------------------------ maintenance

    supported_types = SUPPORTED

    def add_file(self, src: Path, original_name: str, on_conflict: str = "keep_both") -> str:
        """Check an uploaded file (parsed in a child process) and save it into the corpus.

        Returns a line saying what was done; an existing name is replaced only
        when asked, else the file is kept beside it under a new name.
        """
        saved = save_upload(src, original_name, self.settings, on_conflict=on_conflict)  # type: ignore[arg-type]
        if saved.unchanged:
            return f"{saved.name}: همان فایل از پیش در پیکره است / already in the corpus, unchanged"
        if saved.replaced:
            return f"{saved.name}: جایگزین شد / replaced"
        if saved.renamed_from:
            return (
                f"{saved.name}: ذخیره شد؛ «{saved.renamed_from}» از پیش بود / saved beside the existing file"
            )
        return f"{saved.name}: ذخیره شد / saved"

    def rebuild(self, full: bool = False) -> Iterator[BuildProgress | BuildDone]:
        """Update the index in a child process (as ``assistant index update`` does), yielding its
        progress; this process keeps answering from the previous build and then serves the new one."""
        for event in start_build(self.settings, full).events():
            if isinstance(event, BuildError):
                raise BuildFailed(event.message)
            yield event
        self.reload()

    def watch(self, interval_s: float = 2.0) -> IndexWatcher:
        """Serve a new ``index/current`` within seconds, however it was built (CLI, a deploy, …)."""
        return IndexWatcher(
            self.settings.index_dir, lambda _: self.reload(), interval_s=interval_s, current=self.index.path
        ).start()

    # ------------------------------------------------------------------ LangChain faces

    @property
    def chain(self) -> Runnable:
        """``retrieve | answer`` as a LangChain Runnable (invoke with the question)."""
        return RunnableLambda(self.retrieve) | RunnableLambda(self.answer)

    def retriever(self, k: int | None = None) -> HybridRetriever:
        return HybridRetriever(searcher=self.searcher, k=k or self.settings.top_k)
