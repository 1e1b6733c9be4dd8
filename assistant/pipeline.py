"""The assembled assistant: settings → encoder → index → retriever → answerer.

This is the one object the CLI, the web app and the benchmarks hold, and its
public methods are the facade they use (ask, ask_stream, search, documents,
document, open_citation, stats, add_file, rebuild, reload, watch).  A
question arrives as a checked :class:`~assistant.core.inputs.Query` (or a
plain string, checked here on the way in) and leaves as an
:class:`~assistant.core.records.Answer`.  The loaded index and its searcher
form one immutable :class:`Snapshot` swapped by a single reference
assignment, so questions run in parallel with no lock and a reload never
mixes two builds.  ``chain`` is the same flow as a LangChain Runnable.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .answering.answerable import WordSet
from .answering.base import Answerer, Evidence, StreamingAnswerer
from .answering.conversation import last_context, resolve, topic
from .answering.expand import asks_more, more_of
from .answering.extractive import ExtractiveAnswerer
from .answering.retrieve import Searcher
from .answering.rewrite import QuestionReader
from .core.inputs import Query, read_query
from .core.protocols import Encoder
from .core.records import Answer, BuildReport, Citation, Document, Hit, IndexStats, QuotedSource, Turn
from .core.settings import DEFAULT_MODEL, Settings
from .indexing import (
    BuildError,
    BuildEvent,
    BuildFailed,
    Index,
    IndexWatcher,
    current_build,
    ensure_index,
    load_index,
    start_build,
    versions_dir,
)
from .indexing.versions import VersionStore
from .ingest.load import SUPPORTED
from .ingest.sidecar import pair_uploads, read_sidecar, remove_document, write_sidecar
from .ingest.upload import save_upload
from .model.embed import Embedder
from .model.install import installed
from .text.normalize import normalize
from .text.tokens import words

if TYPE_CHECKING:
    from langchain_core.runnables import Runnable

    from .answering.chains import HybridRetriever


#: asked once at start-up, never logged: loads every table an answer reads
WARM_UP_QUESTION = "ارکان اعتماد در روابط عمومی کدام‌اند؟"


@dataclass
class Understood:
    """A question as the assistant reads it: fixed typing, resolved against the conversation."""

    resolved: str
    understood_as: str
    continued: Answer | None = None  # «بیشتر توضیح بده», answered from the previous quote's lines


def needs_first_build(settings: Settings) -> bool:
    """True when starting will convert the model or build the index (tens of seconds)."""
    if current_build(settings.index_dir) is None:
        return True
    return settings.embed_model == DEFAULT_MODEL and installed(settings.models_dir) is None


def preload_tables() -> None:
    """The normalizer's and the answerability's word tables: most of a second of pure Python."""
    WordSet(normalize(WARM_UP_QUESTION))


def make_answerer(settings: Settings, extractive: ExtractiveAnswerer) -> Answerer:
    """The configured answerer: the extractive one, or a chat model held to its citations."""
    if settings.answerer == "llm":
        from .answering.generate import LLMAnswerer, chat_model_from_settings

        model = chat_model_from_settings(settings.llm_provider, settings.llm_model, settings.llm_base_url)
        return LLMAnswerer(model, extractive)
    return extractive


@dataclass(frozen=True)
class Snapshot:
    """One loaded build and the searcher over it: what a question reads, start to finish."""

    index: Index
    searcher: Searcher

    @property
    def build_id(self) -> str:
        return str(self.index.manifest.get("build_id", ""))


class Assistant:
    """Load (or first build) the index and answer questions with citations."""

    supported_types = SUPPORTED

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Encoder | None = None,
        answerer: Answerer | None = None,
        build_if_missing: bool = True,
        export_in_background: bool = False,
        say: Callable[[str], None] = print,
    ):
        started = time.perf_counter()
        self.settings = settings or Settings.from_env()
        if embedder is None and needs_first_build(self.settings):  # the model converts in a child meanwhile
            threading.Thread(target=preload_tables, name="preload", daemon=True).start()
        self.embedder = embedder or Embedder(self.settings, say)
        if export_in_background and isinstance(self.embedder, Embedder):
            self.embedder.export_in_background()  # a server's first start: no wait for the ONNX export
        #: seconds each start-up step took (the server reports them)
        self.startup_s = {"model": time.perf_counter() - started}
        started = time.perf_counter()
        if build_if_missing:
            index = ensure_index(self.settings, self.embedder, say)
        else:
            index = load_index(self.settings.index_dir, self.embedder)
        self.startup_s["index"] = time.perf_counter() - started
        self._snapshot = Snapshot(index, Searcher(index, self.embedder))
        self.versions = VersionStore(versions_dir(self.settings.index_dir))
        # follow-ups re-derive an earlier answer's items by quoting (never a chat model call)
        self.quoter = (
            answerer if isinstance(answerer, ExtractiveAnswerer) else ExtractiveAnswerer(self.embedder)
        )
        self.answerer = answerer or make_answerer(self.settings, self.quoter)
        self._reader_for: tuple[Index, QuestionReader] | None = None

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
        """Run one question through every step now (model, normalizer, word tables, answerability),
        so the first student does not pay for loading them."""
        started = time.perf_counter()
        self.ask(WARM_UP_QUESTION)
        self.startup_s["warm_up"] = time.perf_counter() - started

    # ------------------------------------------------------------------ questions

    def query(self, question: str | Query, history: Sequence[Turn | str | dict] | None = None) -> Query:
        """A question as typed (and its history) checked once, as every entry point does."""
        if isinstance(question, Query):
            return question
        return read_query(question, history, self.settings.max_question_chars)

    def retrieve(self, question: str, k: int | None = None, hidden: np.ndarray | None = None) -> Evidence:
        """The passages for an already checked question; ``hidden`` chunk positions are left out
        (the evaluator's leave-gold-out runs through here too)."""
        snap = self._snapshot  # read once: this question sees one build throughout
        started = time.perf_counter()
        scores = snap.searcher.score(question, hidden)
        hits = snap.searcher.hits(scores, k or self.settings.top_k, hidden)
        timings = {"retrieve": (time.perf_counter() - started) * 1000}
        return Evidence(question, hits, scores, snap.index, timings)

    def answer(self, evidence: Evidence) -> Answer:
        started = time.perf_counter()
        return self._timed(self.answerer.answer(evidence), started, evidence.index, evidence.timings_ms)

    @staticmethod
    def _timed(
        result: Answer, started: float, index: Index, before: dict[str, float] | None = None
    ) -> Answer:
        answered = (time.perf_counter() - started) * 1000
        result.timings_ms = {"retrieve": 0.0, **(before or {}), "answer": answered}
        result.timings_ms["total"] = result.timings_ms["retrieve"] + result.timings_ms["answer"]
        result.build_id = str(index.manifest.get("build_id", ""))
        return result

    def ask(
        self,
        question: str | Query,
        k: int | None = None,
        history: Sequence[Turn | str | dict] | None = None,
    ) -> Answer:
        """Answer a question, typed any way, read as a follow-up of its history (oldest first)."""
        query = self.query(question, history)
        u = self._understand(query, k)
        answer = u.continued or self.answer(self.retrieve(u.resolved, k))
        return self._label(answer, query.question, u)

    def ask_stream(
        self,
        question: str | Query,
        k: int | None = None,
        history: Sequence[Turn | str | dict] | None = None,
    ) -> Iterator[str | Answer]:
        """Text deltas as a chat model writes them, then the final checked Answer (always last).

        An answerer that cannot stream (the extractive one) yields the Answer alone.  Streamed
        text is a draft: sentences the check drops are missing from the final Answer.
        """
        query = self.query(question, history)
        u = self._understand(query, k)
        if u.continued is not None:  # «بیشتر توضیح بده»: the previous quote's lines go on, as quoted
            yield self._label(u.continued, query.question, u)
            return
        evidence = self.retrieve(u.resolved, k)
        if not isinstance(self.answerer, StreamingAnswerer):
            yield self._label(self.answer(evidence), query.question, u)
            return
        started = time.perf_counter()
        for part in self.answerer.stream(evidence):
            if isinstance(part, Answer):
                part = self._timed(part, started, evidence.index, evidence.timings_ms)
                part = self._label(part, query.question, u)
            yield part

    def _understand(self, query: Query, k: int | None) -> Understood:
        """Typing fixed first, so «dovomi yani chi?» is a follow-up too; «بیشتر توضیح بده» after an
        answer goes on from where that answer quoted."""
        reader = self._reader()
        read = reader.read(query.question)
        context = last_context(
            query.history,
            read=lambda q: reader.read(q).text,
            rerun=lambda q: self.quoter.answer(self.retrieve(q, k)),
        )
        understood = Understood(resolve(read.text, context), read.understood_as)
        if context is None or not asks_more(read.text):
            return understood
        started, previous, index = time.perf_counter(), context.answered(), self.index
        more = more_of(index, previous, read.text, query.question) if previous else None
        understood.continued = self._timed(more, started, index) if more else None
        return understood

    def _reader(self) -> QuestionReader:
        """The question reader, knowing the words of the current index (rebuilt after a reload)."""
        cached = self._reader_for
        if cached is None or cached[0] is not self.index:
            vocabulary = {w for chunk in self.index.chunks for w in words(normalize(chunk.text))}
            cached = self._reader_for = (self.index, QuestionReader(vocabulary))
        return cached[1]

    @staticmethod
    def _label(answer: Answer, typed: str, u: Understood) -> Answer:
        answer.question, answer.resolved_question, answer.understood_as = typed, u.resolved, u.understood_as
        return answer

    def embed_questions(self, texts: list[str]) -> np.ndarray:
        """L2-normalized query vectors (the review tab groups unanswered questions by them)."""
        return self.embedder.embed([normalize(t) for t in texts], kind="query")

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """Passages for a search box (no answer): the same hybrid scores the answerer sees."""
        return self._snapshot.searcher.search(self.query(query).question, k)

    # ------------------------------------------------------------------ documents and citations

    def documents(self) -> list[Document]:
        return list(self._snapshot.index.documents.values())

    def document(self, doc_id: str) -> Document | None:
        return self._snapshot.index.documents.get(doc_id)

    def open_citation(self, citation: Citation) -> QuotedSource:
        """The text a citation quoted, even after its document changed or left the corpus."""
        current = self.document(citation.doc_id)
        sha = citation.doc_sha256
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
        return IndexStats(
            build_id=str(index.manifest.get("build_id", "")),
            embedding_model=str(index.manifest.get("embedding_model", "")),
            documents=len(index.documents),
            chunks=len(index.chunks),
            built_at=str(index.manifest.get("built_at", "")),
            corpus_dir=str(index.manifest.get("corpus_dir", "")),
            path=str(index.path),
            report=BuildReport.from_dict(index.report or {}),
        )

    # ------------------------------------------------------------------ maintenance

    supported_sidecars = (".yaml", ".yml")
    pair_uploads = staticmethod(pair_uploads)  # documents and the .yaml uploaded with each

    def add_file(
        self,
        src: Path,
        original_name: str,
        on_conflict: str = "keep_both",
        meta: dict | None = None,
        sidecar: Path | None = None,
    ) -> str:
        """Check an uploaded file (parsed in a child process) and save it into the corpus.

        Returns a line saying what was done; an existing name is replaced only
        when asked, else the file is kept beside it under a new name.  ``meta``
        (title, speaker, date, recording_url…) over an uploaded ``sidecar``'s
        keys is written as its sidecar .yaml.
        """
        meta = {**(read_sidecar(sidecar) if sidecar else {}), **(meta or {})}
        saved = save_upload(src, original_name, self.settings, on_conflict=on_conflict)  # type: ignore[arg-type]
        if meta:
            write_sidecar(self.settings.corpus_dir, saved.name, meta)
        if saved.unchanged:
            return f"{saved.name}: همان فایل از پیش در پیکره است / already in the corpus, unchanged"
        if saved.replaced:
            return f"{saved.name}: جایگزین شد / replaced"
        if saved.renamed_from:
            return (
                f"{saved.name}: ذخیره شد؛ «{saved.renamed_from}» از پیش بود / saved beside the existing file"
            )
        return f"{saved.name}: ذخیره شد / saved"

    def remove_file(self, doc_id: str) -> list[str]:
        """Delete a document (and its sidecar) from the corpus: the next build drops it from the index,
        while ``index/versions`` keeps what was quoted from it.  Returns the files removed."""
        return remove_document(self.settings.corpus_dir, doc_id)

    @staticmethod
    def question_subject(question: str) -> str:
        """What a question is about, without its frame words: empty for «چرا؟», which needs a context."""
        return topic(question)

    def rebuild(self, full: bool = False) -> Iterator[BuildEvent]:
        """Update the index in a child process (``python -m assistant.indexing``), yielding its
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
        from langchain_core.runnables import RunnableLambda

        return RunnableLambda(lambda q: self.retrieve(self.query(q).question)) | RunnableLambda(self.answer)

    def retriever(self, k: int | None = None) -> HybridRetriever:
        from .answering.chains import HybridRetriever

        return HybridRetriever(searcher=self.searcher, k=k or self.settings.top_k)
