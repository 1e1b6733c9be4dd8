"""Answerers: turn retrieved passages into a short cited Persian answer.

The default is extractive: it quotes the source sentences that best answer
the question, each followed by its citation marker, so every claim is
checkable by construction.  It abstains when the best evidence is weak.
The generative answerer over a LangChain chat model lives in ``generate.py``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from .chunk import sentence_spans
from .cite import citation, passage_citations
from .embed import Embedder
from .index import Index
from .normalize import normalize
from .retrieve import Scores
from .schema import Answer, AnswerSentence, Hit
from .tokens import terms

ABSTAIN_TEXT = "منابع موجود پاسخ این پرسش را ندارند."
ABSTAIN_HINT = "نزدیک‌ترین بخش‌ها در زیر آمده‌اند، اما پاسخ پرسش در آن‌ها نیست."


@dataclass
class Evidence:
    """What retrieval hands to an answerer."""

    question: str
    hits: list[Hit]
    scores: Scores
    index: Index
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class AbstainPolicy:
    """Answer only when the best passage is close enough, or lexically on topic.

    Calibrated on ``tests/data/qa.jsonl`` (see ``bench/abstain.py``): e5's
    cosines are compressed (unrelated Persian text still scores ~0.75), so
    the dense threshold is paired with query-term coverage.
    """

    min_dense: float = 0.835
    min_dense_with_terms: float = 0.78
    min_coverage: float = 0.2

    def should_abstain(self, best_dense: float, coverage: float) -> bool:
        if best_dense >= self.min_dense:
            return False
        return not (best_dense >= self.min_dense_with_terms and coverage >= self.min_coverage)


@dataclass(frozen=True)
class _Candidate:
    doc_id: str
    chunk_id: str
    start: int
    end: int
    text: str
    rank: int


def _coverage(query_terms: list[str], text_terms: set[str]) -> float:
    unique = set(query_terms)
    return len(unique & text_terms) / len(unique) if unique else 0.0


class ExtractiveAnswerer:
    """Pick up to ``max_sentences`` source sentences; each becomes ``sentence [n]``."""

    def __init__(
        self,
        embedder: Embedder,
        max_sentences: int = 3,
        passages: int = 4,
        margin: float = 0.06,
        policy: AbstainPolicy | None = None,
    ):
        self.embedder = embedder
        self.max_sentences = max_sentences
        self.passages = passages
        self.margin = margin
        self.policy = policy or AbstainPolicy()
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def _embed_sentences(self, texts: list[str]) -> np.ndarray:
        """Sentence vectors, memoized: popular passages are asked about again and again."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            for text, vec in zip(missing, self.embedder.embed_batch(missing, kind="passage"), strict=True):
                self._vectors[text] = vec
            while len(self._vectors) > 20_000:
                self._vectors.popitem(last=False)
        return np.stack([self._vectors[t] for t in texts])

    def candidates(self, evidence: Evidence) -> list[_Candidate]:
        seen: set[tuple[str, int, int]] = set()
        out = []
        for hit in evidence.hits[: self.passages]:
            doc = evidence.index.documents[hit.chunk.doc_id]
            for span in sentence_spans(doc.text, hit.chunk.start, hit.chunk.end):
                key = (doc.doc_id, span.start, span.end)
                if key in seen:
                    continue
                seen.add(key)
                out.append(
                    _Candidate(
                        doc.doc_id,
                        hit.chunk.chunk_id,
                        span.start,
                        span.end,
                        doc.text[span.start : span.end],
                        hit.rank,
                    )
                )
        return out

    def score(self, evidence: Evidence, cands: list[_Candidate]) -> tuple[np.ndarray, list[float]]:
        normalized = [normalize(c.text) for c in cands]
        sims = self._embed_sentences(normalized) @ evidence.scores.query_vector
        coverage = [_coverage(evidence.scores.query_terms, set(terms(n))) for n in normalized]
        prior = np.array([0.02 / c.rank for c in cands])
        # a bare title or name line matches every question about its topic but answers none
        short = np.array([0.05 if len(c.text.split()) < 6 else 0.0 for c in cands])
        return sims + 0.1 * np.array(coverage) + prior - short, coverage

    def _ranked(self, evidence: Evidence) -> tuple[list[_Candidate], np.ndarray, np.ndarray, float, float]:
        """Candidates, their scores, best-first order, and the two abstention features:
        the best dense cosine among the passages read, and the question-term coverage
        of the best sentence or of the top passage, whichever is higher."""
        cands = self.candidates(evidence)
        if not cands:
            return cands, np.zeros(0), np.zeros(0, np.int64), 0.0, 0.0
        scores, coverage = self.score(evidence, cands)
        order = np.argsort(-scores, kind="stable")
        best_dense = max(h.dense for h in evidence.hits[: self.passages])
        top_passage = _coverage(
            evidence.scores.query_terms, set(terms(normalize(evidence.hits[0].chunk.text)))
        )
        return cands, scores, order, best_dense, max(coverage[int(order[0])], top_passage)

    def features(self, evidence: Evidence) -> tuple[float, float]:
        """(best dense cosine, term coverage): what ``AbstainPolicy`` decides on."""
        return self._ranked(evidence)[3:]

    def __call__(self, evidence: Evidence) -> Answer:
        cands, scores, order, best_dense, coverage = self._ranked(evidence)
        if not cands or self.policy.should_abstain(best_dense, coverage):
            return self.abstain(evidence)
        best = int(order[0])

        chosen = [i for i in order[: self.max_sentences] if scores[i] >= scores[best] - self.margin]
        chosen.sort(key=lambda i: (cands[i].rank, cands[i].doc_id, cands[i].start))  # reading order
        sentences, citations = [], []
        for n, i in enumerate(chosen, 1):
            c = cands[i]
            citations.append(
                citation(evidence.index, n, c.doc_id, c.start, c.end, float(scores[i]), c.chunk_id)
            )
            sentences.append(
                AnswerSentence(text=" ".join(c.text.split()), citations=(n,), score=float(scores[i]))
            )
        text = " ".join(f"{s.text} [{s.citations[0]}]" for s in sentences)
        return Answer(
            question=evidence.question,
            text=text,
            abstained=False,
            sentences=sentences,
            citations=citations,
            related=[],
        )

    def abstain(self, evidence: Evidence) -> Answer:
        return Answer(
            question=evidence.question,
            text=ABSTAIN_TEXT,
            abstained=True,
            related=passage_citations(evidence.index, evidence.hits[:3]),
        )


def __getattr__(name: str):
    """The LLM answerer moved to ``generate.py``; old imports keep working."""
    if name in {"LLMAnswerer", "chat_model_from_settings", "LLM_PROMPT"}:
        from . import generate

        return getattr(generate, name)
    raise AttributeError(name)
