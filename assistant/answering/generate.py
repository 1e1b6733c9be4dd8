"""The generative answerer, held to the extractive answerer's citation standard.

A chat model (Ollama or any OpenAI-compatible server, through LangChain)
writes a short Persian answer citing numbered passages.  Three guards keep
it honest:

1. answerability is decided before any model is called: the extractive
   answerer runs first, and when it abstains its abstention is returned;
2. every sentence is checked against the passages it cites: ``support`` is
   the mean of (a) the best e5 cosine between the sentence and the cited
   passage's sentences and (b) the share of the sentence's content words
   found in that passage; a sentence citing nothing, or nothing that
   supports it, is kept out of the answer text and flagged ``supported=False``;
3. citations are the cited passages quoted verbatim, renumbered 1..n in the
   order the supported sentences use them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..core.errors import AssistantError
from ..core.records import Answer, AnswerSentence, Citation
from ..text.chunk import sentence_spans
from ..text.normalize import normalize
from ..text.tokens import terms
from .base import Evidence
from .cite import citation, passage_citations
from .extractive import ABSTAIN_TEXT, ExtractiveAnswerer

LLM_PROMPT = """تو دستیار آموزش روابط عمومی هستی.
فقط بر اساس بخش‌های شماره‌دار زیر به فارسی و کوتاه (حداکثر چهار جمله) پاسخ بده.
پس از هر جمله شمارهٔ بخشی را که آن را پشتیبانی می‌کند به شکل [n] بنویس.
اگر پاسخ در بخش‌ها نیست، فقط بنویس: {abstain}

بخش‌ها:
{passages}

پرسش: {question}
پاسخ:"""

_MARKERS = re.compile(r"\[([\d۰-۹\s,،]+)\]")
_SENTENCE_END = re.compile(r"(?<=\])\s+|(?<=[.!؟?])\s+(?!\[)")
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")


@dataclass(frozen=True)
class Checked:
    """One generated sentence: its text without markers, the passages it cites, their support."""

    text: str
    cited: tuple[int, ...]
    support: dict[int, float]


def split_sentences(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """Generated text → (sentence without markers, cited passage numbers in order)."""
    out = []
    for part in _SENTENCE_END.split(text.strip()):
        numbers = [
            int(n.translate(_DIGITS))
            for group in _MARKERS.findall(part)
            for n in re.split(r"[\s,،]+", group)
            if n
        ]
        clean = re.sub(r"\s+([.!؟?،])", r"\1", " ".join(_MARKERS.sub(" ", part).split()))
        if clean:
            out.append((clean, tuple(dict.fromkeys(numbers))))
    return out


class LLMAnswerer:
    """Generative answers through a LangChain chat model; only supported sentences are shown as cited."""

    def __init__(
        self, chat_model, extractive: ExtractiveAnswerer, passages: int = 5, min_support: float = 0.6
    ):
        self.chat_model = chat_model
        self.extractive = extractive
        self.embedder = extractive.embedder
        self.passages = passages
        self.min_support = min_support

    def prompt(self, evidence: Evidence) -> tuple[str, list[Citation]]:
        numbered = passage_citations(evidence.index, evidence.hits[: self.passages])
        text = LLM_PROMPT.format(
            abstain=ABSTAIN_TEXT,
            passages="\n\n".join(f"[{c.n}] {c.text}" for c in numbered),
            question=evidence.question,
        )
        return text, numbered

    def answer(self, evidence: Evidence) -> Answer:
        gate = self.extractive.answer(evidence)
        if gate.abstained:
            return gate
        prompt, numbered = self.prompt(evidence)
        reply = self.chat_model.invoke(prompt)
        return self.check(evidence, numbered, str(getattr(reply, "content", reply)))

    def stream(self, evidence: Evidence) -> Iterator[str | Answer]:
        """Text deltas as the model streams them, then the checked Answer."""
        gate = self.extractive.answer(evidence)
        if gate.abstained:
            yield gate
            return
        prompt, numbered = self.prompt(evidence)
        parts = []
        for chunk in self.chat_model.stream(prompt):
            delta = chunk.content if isinstance(chunk.content, str) else ""
            if delta:
                parts.append(delta)
                yield delta
        yield self.check(evidence, numbered, "".join(parts))

    def support(self, sentence: str, passage: Citation) -> float:
        """Best cosine to one of the passage's sentences, averaged with content-word overlap."""
        spans = sentence_spans(passage.text, 0, len(passage.text)) or []
        pieces = [normalize(passage.text[s.start : s.end]) for s in spans] or [normalize(passage.text)]
        vectors = self.embedder.embed([normalize(sentence), *pieces], kind="passage")
        cosine = float(np.max(vectors[1:] @ vectors[0]))
        own = set(terms(normalize(sentence)))
        overlap = len(own & set(terms(normalize(passage.text)))) / len(own) if own else 0.0
        return (cosine + overlap) / 2

    def check(self, evidence: Evidence, numbered: list[Citation], text: str) -> Answer:
        by_n = {c.n: c for c in numbered}
        checked = [
            Checked(s, cited, {n: self.support(s, by_n[n]) for n in cited if n in by_n})
            for s, cited in split_sentences(text)
        ]
        if ABSTAIN_TEXT in text:
            checked = []
        renumber: dict[int, int] = {}
        sentences = []
        for c in checked:
            backing = [n for n in c.cited if c.support.get(n, 0.0) >= self.min_support]
            best = max(c.support.values(), default=0.0)
            for n in backing:
                renumber.setdefault(n, len(renumber) + 1)
            cites = tuple(renumber[n] for n in backing)
            sentences.append(AnswerSentence(c.text, cites, score=best, support=best, supported=bool(backing)))
        shown = [s for s in sentences if s.supported]
        if not shown:
            related = passage_citations(evidence.index, evidence.hits[:3])
            return Answer(evidence.question, ABSTAIN_TEXT, True, sentences, related=related)
        citations = [
            citation(index, new, cited.doc_id, cited.start, cited.end, cited.score, cited.chunk_id)
            for old, new in renumber.items()
            for index, cited in [(evidence.index, by_n[old])]
        ]
        body = " ".join(f"{s.text} " + "".join(f"[{n}]" for n in s.citations) for s in shown)
        return Answer(evidence.question, body, False, sentences, citations)


def chat_model_from_settings(provider: str, model: str, base_url: str = ""):
    """Build a LangChain chat model; the packages are optional (``pip install '.[llm]'``)."""
    try:
        if provider == "ollama":
            from langchain_ollama import ChatOllama

            return ChatOllama(model=model, base_url=base_url or "http://127.0.0.1:11434", temperature=0)
        if provider == "openai":
            from langchain_openai import ChatOpenAI

            # a local OpenAI-compatible server needs no key; the client insists on one
            key = {} if os.environ.get("OPENAI_API_KEY") or not base_url else {"api_key": "unused"}
            return ChatOpenAI(model=model, base_url=base_url or None, temperature=0, **key)
    except ImportError as exc:
        raise AssistantError(
            "بستهٔ مدل زبانی نصب نیست. / The LLM integration is not installed: pip install '.[llm]'"
        ) from exc
    raise AssistantError(
        f"فراهم‌کنندهٔ مدل زبانی ناشناخته است. / Unknown LLM provider {provider!r}: use 'ollama' or 'openai'."
    )
