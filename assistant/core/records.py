"""The small typed records that pass between pipeline stages.

Data flows one way — load → normalize → chunk → embed → index → retrieve →
answer → cite → show — and these are the only things handed along it.
They are plain dataclasses so that they serialize to plain JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class Segment:
    """Where ``text[start:end]`` of a document came from: a cue's times or a slide's number."""

    start: int
    end: int
    start_s: float | None = None
    end_s: float | None = None
    slide: int | None = None


@dataclass(frozen=True)
class Document:
    """One source file as loaded.

    ``text`` is the file's text exactly as read (for text formats, the decoded
    file; for PDF/DOCX/HTML, the extracted text).  Chunk and citation offsets
    point into it, so a quote can always be checked against it.
    """

    doc_id: str
    source: str
    text: str
    body_start: int = 0
    title: str = ""
    speaker: str = ""
    speaker_role: str = ""
    date: str = ""
    date_jalali: str = ""
    published: str = ""
    kind: str = ""
    url: str = ""
    note: str = ""
    content_hash: str = ""
    segments: tuple[Segment, ...] = ()
    recording_url: str = ""
    warnings: tuple[str, ...] = ()  # what reading it left out (e.g. transcript cues), for the build report

    @property
    def body(self) -> str:
        return self.text[self.body_start :]

    def meta(self) -> dict[str, Any]:
        """Everything but the text and its segments: what a reader sees next to a quote."""
        data = asdict(self)
        data.pop("text")
        data.pop("segments")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        """A stored document (store.json, a version file, the isolated loader's JSON).

        Unknown keys from newer builds are ignored; older stores lack segments.
        """
        values = _known(cls, data)
        values["segments"] = tuple(Segment(**s) for s in values.get("segments") or ())
        values["warnings"] = tuple(str(w) for w in values.get("warnings") or ())
        return cls(**values)


@dataclass(frozen=True)
class Chunk:
    """A passage of a document; ``text == document.text[start:end]``."""

    chunk_id: str
    doc_id: str
    start: int
    end: int
    text: str
    heading: str = ""
    tokens: int = 0
    text_hash: str = ""


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with the scores that put it there."""

    chunk: Chunk
    score: float
    dense: float = 0.0
    sparse: float = 0.0
    rank: int = 0


@dataclass(frozen=True)
class Citation:
    """A numbered quote: the exact characters ``[start, end)`` of a document."""

    n: int
    doc_id: str
    title: str
    source: str
    start: int
    end: int
    text: str
    score: float
    chunk_id: str = ""
    speaker: str = ""
    date: str = ""
    doc_sha256: str = ""  # the quoted version of the document (see versions.py)
    start_s: float | None = None  # where in the recording (transcripts)
    end_s: float | None = None
    slide: int | None = None  # which slide (decks)
    url: str = ""  # the recording at start_s (``#t=``), else the document's url

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Citation:
        return cls(**_known(cls, data))


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """The keys of ``data`` that are fields of ``cls``: stored JSON from older or newer code loads."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of an answer and the citation numbers backing it.

    ``support`` is how well a generated sentence is backed by the passages it
    cites (None for quoted sentences, which are the source itself);
    ``supported=False`` marks a generated sentence kept out of the answer text.
    """

    text: str
    citations: tuple[int, ...]
    score: float = 0.0
    support: float | None = None
    supported: bool = True


@dataclass
class Answer:
    question: str
    text: str
    abstained: bool
    sentences: list[AnswerSentence] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    related: list[Citation] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    build_id: str = ""
    #: the question retrieval ran with (after typing fixes and follow-up resolution)
    resolved_question: str = ""
    #: what the typed text was read as (transliterated, layout-fixed, glossed); "" when unchanged
    understood_as: str = ""
    #: the phrase that answers: ``(start, end)`` into ``sentences[0].text``; None when none is marked
    answer_span: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        self.resolved_question = self.resolved_question or self.question
        if self.answer_span is not None:
            self.answer_span = (int(self.answer_span[0]), int(self.answer_span[1]))

    def span_dict(self) -> dict[str, Any] | None:
        """The marked span with its text, as ``to_dict`` gives it."""
        if self.answer_span is None or not self.sentences:
            return None
        start, end = self.answer_span
        return {"sentence": 0, "start": start, "end": end, "text": self.sentences[0].text[start:end]}

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "resolved_question": self.resolved_question,
            "understood_as": self.understood_as,
            "answer": self.text,
            "abstained": self.abstained,
            "answer_span": self.span_dict(),
            "sentences": [
                {
                    "text": s.text,
                    "citations": list(s.citations),
                    "score": round(s.score, 4),
                    "support": None if s.support is None else round(s.support, 4),
                    "supported": s.supported,
                }
                for s in self.sentences
            ],
            "citations": [c.to_dict() for c in self.citations],
            "related": [c.to_dict() for c in self.related],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "build_id": self.build_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        """The inverse of ``to_dict``: a logged or API answer back as a typed record."""
        sentences = [
            AnswerSentence(**{**_known(AnswerSentence, s), "citations": tuple(s.get("citations", ()))})
            for s in data.get("sentences", [])
        ]
        rest = _known(cls, {k: v for k, v in data.items() if k not in ("sentences", "citations", "related")})
        rest.pop("text", None)
        span = rest.pop("answer_span", None)
        if isinstance(span, dict):
            span = (span["start"], span["end"])
        return cls(
            **{
                **rest,
                "text": str(data.get("answer", data.get("text", ""))),
                "abstained": bool(data.get("abstained")),
            },
            sentences=sentences,
            answer_span=span,
            citations=[Citation.from_dict(c) for c in data.get("citations", [])],
            related=[Citation.from_dict(c) for c in data.get("related", [])],
        )


@dataclass
class Turn:
    """One earlier exchange of a conversation; ``answer`` is None when only the question is known."""

    question: str
    answer: Answer | None = None


@dataclass
class SkippedFile:
    path: str
    reason: str


@dataclass
class FileWarning:
    """A file that was indexed, but not all of it: which, and what was left out."""

    path: str
    warning: str


@dataclass
class BuildReport:
    """What a build or update did; saved beside the index and shown to maintainers."""

    documents: int = 0
    chunks: int = 0
    tokens: int = 0
    embedded: int = 0
    reused: int = 0
    removed_documents: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    seconds: float = 0.0
    index_path: str = ""
    warnings: list[FileWarning] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BuildReport:
        """A saved ``report.json`` (or a build's progress record) back as a typed report."""
        rest = _known(cls, {k: v for k, v in data.items() if k not in ("skipped", "warnings")})
        return cls(
            **rest,
            skipped=[SkippedFile(**_known(SkippedFile, s)) for s in data.get("skipped", [])],
            warnings=[FileWarning(**_known(FileWarning, w)) for w in data.get("warnings", [])],
        )


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
