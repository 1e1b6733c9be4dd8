"""Answerers: turn retrieved passages into a short cited Persian answer.

The default is extractive: it quotes the source sentences that best answer
the question, each followed by its citation marker, so every claim is
checkable by construction.  It abstains when the best evidence is weak.
The generative answerer over a LangChain chat model lives in ``generate.py``.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

import numpy as np

from ..core.protocols import Encoder
from ..core.records import Answer, AnswerSentence
from ..indexing.layout import Index
from ..text.normalize import normalize
from .answerable import (
    AnswerabilityModel,
    Signals,
    WordSet,
    content_words,
    features,
    gap,
    rarity,
)
from .base import Evidence
from .choose import Candidate, Quote, list_of, list_quotes, prose
from .cite import citation, passage_citations
from .meta import record_span
from .question import ORDINAL_NOUN, QuestionKind, read_question
from .rank import (
    PROFILE_PENALTY,
    decoration_end,
    is_profile,
    life_event_unsaid,
    number_of,
    pick_ordinal,
    record_penalty,
    type_bonus,
)
from .span import find_span, has_span
from .units import BLOCK, DEFINITION, LEAD_IN, definition_term, passage_units

ABSTAIN_TEXT = "منابع موجود پاسخ این پرسش را ندارند."
ABSTAIN_HINT = "نزدیک‌ترین بخش‌ها در زیر آمده‌اند، اما پاسخ پرسش در آن‌ها نیست."
NOTHING_CLOSE = "در منابع بخشی نزدیک به این پرسش هم نیست."
#: a passage is shown as "related" to an abstention only when its cosine reaches this (measured on
#: tests/data/qa.jsonl: off-topic questions reach at most 0.819, in-domain ones mostly 0.82–0.87)
RELATED_FLOOR = 0.82
#: how much the question's own words count beside the cosine (bench/answers.py, ParsiNLU train:
#: 0.03 → 0.06 put the answering unit first for 59.2% instead of 58.8%, PersianQA 63.3% for 62.5%)
FOUND_WEIGHT = 0.06


@dataclass
class Draft:
    """The answer the extractive answerer would give, and what the abstention decision reads."""

    quotes: list[Quote]
    signals: Signals
    features: dict[str, float]
    probability: float = 0.0
    record: bool = False  # quoted from the document's own record (speaker, role, date): always answers
    kind: QuestionKind = QuestionKind()  # noqa: RUF009 (frozen, so one shared default is safe)


def _found_share(question_words: list[str], weights: list[float], text: str) -> float:
    """Rarity-weighted share of the question's words found (loosely) in a unit."""
    total = sum(weights)
    if not total:
        return 0.0
    unit = WordSet(text)
    return sum(w * unit.found(q) for q, w in zip(question_words, weights, strict=True)) / total


class ExtractiveAnswerer:
    """Quote the units that answer best (a sentence, a definition line, a list with its items),
    each followed by ``[n]``; abstain when :class:`AnswerabilityModel` says they do not answer."""

    def __init__(
        self,
        embedder: Encoder,
        max_sentences: int = 3,
        passages: int = 4,
        margin: float = 0.08,
        model: AnswerabilityModel | None = None,
    ):
        self.embedder = embedder
        self.max_sentences = max_sentences
        self.passages = passages
        self.margin = margin
        self.model = model or AnswerabilityModel.load()
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._vectors_lock = threading.Lock()

    def _embed_sentences(self, texts: list[str]) -> np.ndarray:
        """Sentence vectors, memoized: popular passages are asked about again and again."""
        with self._vectors_lock:  # shared by the web server's threads
            have = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = [t for t in dict.fromkeys(texts) if t not in have]
        if missing:
            fresh = dict(zip(missing, self.embedder.embed(missing, kind="passage"), strict=True))
            have.update(fresh)
            with self._vectors_lock:
                self._vectors.update(fresh)
                while len(self._vectors) > 20_000:
                    self._vectors.popitem(last=False)
        return np.stack([have[t] for t in texts])

    def candidates(self, evidence: Evidence) -> list[Candidate]:
        seen: set[tuple[str, int, int]] = set()
        out: list[Candidate] = []
        for hit in evidence.hits[: self.passages]:
            doc = evidence.index.documents[hit.chunk.doc_id]
            previous = None
            for unit in passage_units(doc.text, hit.chunk.start, hit.chunk.end):
                key = (doc.doc_id, unit.start, unit.end)
                if key in seen:
                    previous = None
                    continue
                seen.add(key)
                if previous is not None:
                    out[previous] = replace(out[previous], next=len(out))
                text = doc.text[unit.start : unit.end]
                out.append(Candidate(doc.doc_id, hit.chunk.chunk_id, unit, text, hit.rank, hit.dense))
                previous = len(out) - 1
        return out

    def score(
        self, evidence: Evidence, cands: list[Candidate], kind: QuestionKind | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ranking score, plain cosine) of every candidate unit."""
        normalized = [normalize(_scoring_text(evidence.index, c)) for c in cands]
        sims = self._embed_sentences(normalized) @ evidence.scores.query_vector
        question = normalize(evidence.question)
        q_words = content_words(question)
        weights = [rarity(w) for w in q_words]
        # the question's own words, loosely matched (measured on PersianQA and ParsiNLU: +0.6 and
        # +4.8 points answer_contains over BM25-term coverage and an answer-type bonus)
        found = np.array([_found_share(q_words, weights, n) for n in normalized])
        prior = np.array([0.02 / c.rank for c in cands])
        # a bare title or name line matches every question about its topic but answers none
        short = np.array([0.05 if len(c.text.split()) < 6 else 0.0 for c in cands])
        named = np.array([0.06 if _term_asked(c, question) else 0.0 for c in cands])
        kind = kind or read_question(question)
        typed = np.array([type_bonus(kind, c.text) for c in cands])
        docs = evidence.index.documents
        # a name, title or bio line says what someone is, not what they said
        profile = np.array(
            [PROFILE_PENALTY if kind.content and is_profile(docs[c.doc_id], c.text) else 0.0 for c in cands]
        )
        blocks = np.array([record_penalty(kind, question) if c.unit.kind == BLOCK else 0.0 for c in cands])
        return sims + FOUND_WEIGHT * found + prior - short + named + typed - profile - blocks, sims

    def draft(self, evidence: Evidence) -> Draft | None:
        """What would be quoted, with the answerability features; None when nothing was retrieved."""
        cands = self.candidates(evidence)
        if not cands:
            return None
        question = normalize(evidence.question)
        kind = read_question(question)
        scores, sims = self.score(evidence, cands, kind)
        order = [int(i) for i in np.argsort(-scores, kind="stable")]
        named = [i for i in order if _term_asked(cands[i], question)]
        if named:  # "X یعنی چه؟" is answered by the line that defines X
            order = [named[0]] + [i for i in order if i != named[0]]
        numbered = _numbered(cands, order)
        missing_item = False
        if kind.ordinal is not None and len(numbered) >= 2:  # «کارگاه دوم»: the second of parallel lines
            picked = pick_ordinal(kind.ordinal, numbered)
            missing_item = picked is None
            if picked is not None:
                order = [picked] + [i for i in order if i != picked]
        best = order[0]
        top = evidence.hits[0].chunk
        ordinal = kind.ordinal is not None and len(numbered) >= 2
        record = None if ordinal else record_span(evidence.question, evidence.index.documents[top.doc_id])
        doc_text = evidence.index.documents[cands[best].doc_id].text
        alone = _term_asked(cands[best], question) or ordinal
        holder = (
            None if cands[best].unit.kind == LEAD_IN or not kind.plural or alone else list_of(cands, order)
        )
        if record is not None:  # who spoke, in what role, when: the document's own record
            quotes = [Quote(top.doc_id, top.chunk_id, record[0], record[1], float(scores[best]))]
        elif cands[best].unit.kind == LEAD_IN and cands[best].unit.items:
            quotes = list_quotes(doc_text, cands[best], float(scores[best]))
        elif holder is not None and scores[holder] >= scores[best] - 2 * self.margin:
            quotes = list_quotes(doc_text, cands[holder], float(scores[holder]))
        else:
            quotes = prose(cands, scores, order, kind, self.margin, self.max_sentences, alone)
        quotes = [_undecorated(evidence.index, q) for q in quotes]
        index = evidence.index
        answer_text = " ".join(index.documents[q.doc_id].text[q.start : q.end] for q in quotes)
        chunks = {h.chunk.chunk_id: h.chunk.text for h in evidence.hits}
        quoted = dict.fromkeys(q.chunk_id for q in quotes)
        passage_text = " ".join(chunks.get(c, "") for c in quoted)
        other_text = " ".join(t for c, t in list(chunks.items())[: self.passages] if c not in quoted)
        signals = Signals(
            question=normalize(evidence.question),
            best_dense=cands[best].dense,
            dense_gap=gap(evidence.scores.dense, relative=False),
            sparse_gap=gap(evidence.scores.sparse, relative=True),
            unit_sim=float(sims[best]),
            answer_text=normalize(answer_text),
            passage_text=normalize(passage_text),
            other_text=normalize(other_text),
            unit_gap=_unit_gap(sims, cands, best),
            opening=float(not evidence.index.documents[cands[best].doc_id].text[: cands[best].start].strip()),
            unit_rank=float(cands[best].rank),
            type_absent=_type_absent(kind, [c.text for c in cands]),
        )
        values = features(signals)
        probability = 1.0 if record is not None else self.model.probability(values)
        if (
            ordinal
            and not missing_item
            and _holds(kind, cands[best].text)
            and _counted(evidence, cands[best])
        ):
            probability = 1.0  # the numbered line the question names, holding what it asks for
        unsaid = life_event_unsaid(normalize(evidence.question), normalize(answer_text))
        if missing_item or (record is None and (unsaid or _profile_only(evidence, cands, answer_text))):
            probability = 0.0  # a line the sources do not have; what only a bio line mentions
        return Draft(quotes, signals, values, probability, record is not None, kind)

    def features(self, evidence: Evidence) -> dict[str, float]:
        """The answerability features of the answer this question would get."""
        draft = self.draft(evidence)
        return draft.features if draft else {}

    def answer(self, evidence: Evidence) -> Answer:
        draft = self.draft(evidence)
        if draft is None or draft.probability < self.model.threshold:
            return self.abstain(evidence)
        return self.render(evidence, draft)

    def render(self, evidence: Evidence, draft: Draft) -> Answer:
        return self.quote(evidence.question, evidence.index, draft.quotes, draft.kind)

    @staticmethod
    def quote(question: str, index: Index, quotes: list[Quote], kind: QuestionKind | None = None) -> Answer:
        """Quotes as an answer: ``text [n]`` each, list items on their own lines."""
        sentences, citations = [], []
        for n, q in enumerate(quotes, 1):
            citations.append(citation(index, n, q.doc_id, q.start, q.end, q.score, q.chunk_id))
            sentences.append(AnswerSentence(text=display(citations[-1].text), citations=(n,), score=q.score))
        parts = [f"{s.text} [{s.citations[0]}]" for s in sentences]
        if any(q.item for q in quotes):
            text = parts[0] + "".join(f"\n- {p}" for p in parts[1:])
        else:
            text = " ".join(parts)
        marked = kind is not None and not quotes[0].item
        return Answer(
            question=question,
            text=text,
            abstained=False,
            sentences=sentences,
            citations=citations,
            related=[],
            answer_span=answer_span(kind, citations[0].text) if marked else None,
        )

    def abstain(self, evidence: Evidence) -> Answer:
        return Answer(
            question=evidence.question,
            text=ABSTAIN_TEXT,
            abstained=True,
            related=passage_citations(
                evidence.index, [h for h in evidence.hits[:3] if h.dense >= RELATED_FLOOR]
            ),
        )


_KEYCAP = re.compile(r"[0-9۰-۹]{1,2}(?:\ufe0f\u20e3?|\u20e3)\s*")


def display(text: str) -> str:
    """A quote as shown: whitespace runs as one space, keycap digits («1️») dropped."""
    return " ".join(_KEYCAP.sub("", text).split())


def _undecorated(index: Index, q: Quote) -> Quote:
    """The quote without a leading keycap digit: offsets move, so they stay exact."""
    skip = decoration_end(index.documents[q.doc_id].text[q.start : q.end])
    return replace(q, start=q.start + skip) if 0 < skip < q.end - q.start else q


def _numbered(cands: list[Candidate], order: list[int]) -> dict[int, int]:
    """Item number → the best candidate whose line starts with it («1️ …», «2️ …»)."""
    out: dict[int, int] = {}
    for i in order:
        n = number_of(cands[i].text)
        if n is not None and n not in out:
            out[n] = i
    return out


def _type_absent(kind: QuestionKind, texts: list[str]) -> float:
    """1 when a when / how-many question finds no date / number in any candidate unit."""
    if kind.expected not in ("date", "number"):
        return 0.0
    return float(not any(has_span(kind.expected, t) for t in texts))


def _counted(evidence: Evidence, cand: Candidate) -> bool:
    """The noun the ordinal counts («کارگاه» of «کارگاه دوم») is in the numbered line's passage."""
    match = ORDINAL_NOUN.search(normalize(evidence.question).replace("\u200c", " "))
    if not match:
        return False
    passage = next((h.chunk.text for h in evidence.hits if h.chunk.chunk_id == cand.chunk_id), cand.text)
    return WordSet(normalize(passage)).found(match.group("noun")) >= 1


def _holds(kind: QuestionKind, text: str) -> bool:
    """The unit holds what the question asks for (its own item number aside)."""
    return kind.expected in ("", "definition") or has_span(kind.expected, text[decoration_end(text) :])


def _profile_only(evidence: Evidence, cands: list[Candidate], answer_text: str) -> bool:
    """A question whose words missing from the answer are found in a speaker's name or bio line
    («… تحلیلگر شبکه‌های اجتماعی …»): that says what the speaker is, not what they said about it."""
    said = WordSet(normalize(answer_text))
    absent = [w for w in content_words(normalize(evidence.question)) if said.found(w) < 1]
    docs = evidence.index.documents
    profile = [is_profile(docs[c.doc_id], c.text, title=False) for c in cands]
    bios = [WordSet(normalize(c.text)) for c, p in zip(cands, profile, strict=True) if p]
    rest = WordSet(normalize(" ".join(c.text for c, p in zip(cands, profile, strict=True) if not p)))
    return any(b.found(w) >= 1 and rest.found(w) < 1 for b in bios for w in absent)


def answer_span(kind: QuestionKind, quote: str) -> tuple[int, int] | None:
    """The marked phrase, found in the quote as written (its lines) and given as offsets into the
    sentence as shown (:func:`display`)."""
    found = find_span(kind.expected, quote) if kind.expected else None
    if found is None:
        return None
    shown, phrase = display(quote), display(quote[found[0] : found[1]])
    at = shown.find(phrase, max(0, len(display(quote[: found[0]])) - 1)) if phrase else -1
    return (at, at + len(phrase)) if at >= 0 else None


def _unit_gap(sims: np.ndarray, cands: list[Candidate], best: int) -> float:
    """How far the chosen unit's cosine stands above every other unit's (0 when it is alone)."""
    others = [float(sims[i]) for i in range(len(cands)) if i != best]
    return float(sims[best]) - max(others) if others else 0.0


def _scoring_text(index: Index, cand: Candidate) -> str:
    """What a unit is compared with: a lead-in together with its items' terms (or first words)."""
    if cand.unit.kind != LEAD_IN or not cand.unit.items:
        return cand.text
    text = index.documents[cand.doc_id].text
    names = []
    for item in cand.unit.items:
        line = text[item.start : item.end]
        term = definition_term(line)
        names.append(line[term[0] : term[1]] if term else " ".join(line.split()[:6]))
    return cand.text + " " + "، ".join(names)


def _term_asked(cand: Candidate, question: str) -> bool:
    """A definition line whose term the question names (all of the term's words), not its lack:
    «نبود شفافیت چه پیامدی دارد؟» is not asking what شفافیت is."""
    if cand.unit.kind != DEFINITION or cand.unit.term is None:
        return False
    a, b = cand.unit.term
    term_words = content_words(normalize(cand.text[a - cand.start : b - cand.start]))
    asked = WordSet(question)
    if not term_words or not all(asked.found(w) >= 1 for w in term_words):
        return False
    return not re.search(rf"(?:نبود|عدم|فقدان|بدون|نداشتن)\s+{re.escape(term_words[0])}", question)
