"""Evaluate retrieval and answers on a QA file (the format of shared/eval/README.md).

A retrieved chunk is a *hit* when its character span overlaps the span of
the gold context in the same document (found verbatim in the document's
text; when a QA file is indexed on its own, each context is a whole
document).  R@k counts questions with a hit among the first k chunks.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .answering.base import Evidence
from .core.errors import AssistantError
from .core.records import Hit
from .indexing.layout import Index
from .pipeline import Assistant
from .text.normalize import normalize
from .text.tokens import words

_MARKERS = re.compile(r"\s*\[\d+\]")


@dataclass(frozen=True)
class QAItem:
    id: str
    question: str
    answers: tuple[str, ...]
    context: str


def read_qa(path: Path, limit: int | None = None) -> list[QAItem]:
    items = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                answers = tuple(row.get("answers", []))
                items.append(QAItem(row["id"], row["question"], answers, row.get("context", "")))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise AssistantError(
                    f"سطر {number} از {path} در قالب پرسش و پاسخ نیست. / "
                    f"Line {number} of {path} is not a QA record ({exc!r})."
                ) from exc
    return items[:limit] if limit else items


def write_qa_corpus(items: list[QAItem], folder: Path) -> None:
    """Each distinct context becomes one .txt document, named by its hash."""
    folder.mkdir(parents=True, exist_ok=True)
    for context in dict.fromkeys(i.context for i in items if i.context):
        name = hashlib.sha1(context.encode()).hexdigest()[:16] + ".txt"
        target = folder / name
        if not target.exists():
            target.write_text(context, encoding="utf-8")


def gold_spans(index: Index, context: str) -> list[tuple[str, int, int]]:
    """Where the gold context sits in the indexed documents (verbatim match)."""
    if not context:
        return []
    spans = []
    for doc in index.documents.values():
        at = doc.text.find(context)
        if at >= 0:
            spans.append((doc.doc_id, at, at + len(context)))
    return spans


def answer_text(text: str) -> str:
    return _MARKERS.sub("", text)


def _folded(text: str) -> str:
    return normalize(text).replace("\u200c", " ")


def contains(answer: str, golds: tuple[str, ...]) -> bool:
    hay = _folded(answer_text(answer))
    return any(_folded(g) in hay for g in golds if g.strip())


def token_f1(answer: str, golds: tuple[str, ...]) -> float:
    pred = Counter(words(normalize(answer_text(answer))))
    best = 0.0
    for gold in golds:
        ref = Counter(words(normalize(gold)))
        common = sum((pred & ref).values())
        if common:
            precision, recall = common / sum(pred.values()), common / sum(ref.values())
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def gold_rank(index: Index, hits: list[Hit], context: str) -> int | None:
    """Rank of the first retrieved chunk that overlaps the gold context, if any."""
    spans = gold_spans(index, context)
    for hit in hits:
        if any(hit.chunk.doc_id == d and hit.chunk.start < e and s < hit.chunk.end for d, s, e in spans):
            return hit.rank
    return None


def recall_metrics(ranks: list[int | None]) -> dict[str, float]:
    def recall(at: int) -> float:
        return round(float(np.mean([r is not None and r <= at for r in ranks])), 4) if ranks else 0.0

    mrr = float(np.mean([1 / r if r and r <= 10 else 0 for r in ranks])) if ranks else 0.0
    return {"recall@1": recall(1), "recall@5": recall(5), "recall@10": recall(10), "mrr@10": round(mrr, 4)}


def gold_chunks(index: Index, context: str) -> np.ndarray:
    """Positions (in the score arrays) of the chunks that overlap the gold context."""
    spans = gold_spans(index, context)
    return np.array(
        [
            i
            for i, c in enumerate(index.chunks)
            if any(c.doc_id == d and c.start < e and s < c.end for d, s, e in spans)
        ],
        dtype=np.int64,
    )


class GoldMask:
    """The chunks to hide so that a question's answer is gone from the index: those overlapping
    its gold context and every other chunk that holds a gold answer.  ParsiNLU repeats one web
    snippet in several contexts; hiding the context alone left 81 of its 600 train questions a
    near-copy of their own passage (word overlap > 0.8) to be answered from."""

    def __init__(self, index: Index):
        self.index = index
        self._texts: list[str] | None = None

    def __call__(self, item: QAItem) -> np.ndarray:
        hidden = set(gold_chunks(self.index, item.context).tolist())
        golds = [_folded(g) for g in item.answers if g.strip()]
        if golds:
            if self._texts is None:
                self._texts = [_folded(c.text) for c in self.index.chunks]
            hidden.update(i for i, text in enumerate(self._texts) if any(g in text for g in golds))
        return np.array(sorted(hidden), dtype=np.int64)


def evidence_for(
    assistant: Assistant, item: QAItem, k: int, leave_gold_out: bool, mask: GoldMask | None = None
) -> Evidence:
    """The assistant's own retrieval for one question; with ``leave_gold_out`` its gold chunks hidden."""
    hidden = (mask or GoldMask(assistant.index))(item) if leave_gold_out else None
    return assistant.retrieve(assistant.query(item.question).question, k, hidden)


def evaluate(
    assistant: Assistant, items: list[QAItem], k: int = 10, leave_gold_out: bool = False
) -> dict[str, float]:
    """Run every question through retrieval and the answerer; return the metrics.

    With ``leave_gold_out`` each answerable question's own gold passage (and any other passage
    holding its answer, see :class:`GoldMask`) is hidden from it, which makes it an in-domain
    unanswerable question: ``abstain_accuracy`` is then the share of those refused.
    """
    mask = GoldMask(assistant.index)
    ranks: list[int | None] = []
    contains_hits, f1s, abstain_answerable, abstain_unanswerable, latencies = [], [], [], [], []
    for item in items:
        started = time.perf_counter()
        evidence = evidence_for(assistant, item, k, leave_gold_out, mask)
        answer = assistant.answer(evidence)
        latencies.append((time.perf_counter() - started) * 1000)
        if not item.answers or leave_gold_out:
            abstain_unanswerable.append(answer.abstained)
            continue
        ranks.append(gold_rank(assistant.index, evidence.hits, item.context))
        abstain_answerable.append(answer.abstained)
        contains_hits.append(not answer.abstained and contains(answer.text, item.answers))
        f1s.append(0.0 if answer.abstained else token_f1(answer.text, item.answers))

    return {
        "count": len(items),
        "leave_gold_out": leave_gold_out,
        "answerable": len(ranks),
        **recall_metrics(ranks),
        "answer_contains": round(float(np.mean(contains_hits)), 4) if contains_hits else 0.0,
        "answer_f1": round(float(np.mean(f1s)), 4) if f1s else 0.0,
        "abstain_rate": round(float(np.mean(abstain_answerable)), 4) if abstain_answerable else 0.0,
        "abstain_accuracy": round(float(np.mean(abstain_unanswerable)), 4) if abstain_unanswerable else None,
        "latency_p50_ms": round(float(np.percentile(latencies, 50)), 1) if latencies else 0.0,
        "latency_p95_ms": round(float(np.percentile(latencies, 95)), 1) if latencies else 0.0,
    }
