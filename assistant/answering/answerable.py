"""Does the quoted text answer the question? A small calibrated decision.

Being on topic is not enough: inside one domain every question retrieves a
passage about the right subject.  What gives an unanswerable question away is
that its own words are missing from the quoted sentence and its passage —
counted per word, so a plain relation word («مادر» over a paragraph that names
only the person) counts as much as a rare name, and weighted by how rare they
are in Persian generally (shekar's word counts) — or found only in another
retrieved passage (an entity swapped); that the quoted unit barely stands out
from the others or is just the document's opening sentence; and that the best
passage does not stand out from the rest.  Words are matched loosely (spelling
variants, verb stems, spoken endings, one-letter typos) so a paraphrase is not
mistaken for a missing word.  These features feed a logistic regression whose
parameters are plain JSON in ``assistant/data/answerable.json`` (refitted by
``bench/abstain.py --fit`` from cached raw :class:`Signals`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
from shekar import data as shekar_data

from ..text.tokens import STOPWORDS, ZWNJ, stem, words
from .lexicon import ANSWER_TYPES, NEGATION, QUESTION_WORDS, UNIT_TYPES
from .verbs import verb_stems

MODEL_PATH = Path(__file__).resolve().parent / "data" / "answerable.json"
_MAX_RARITY = 12.0


@lru_cache(maxsize=1)
def _counts() -> tuple[dict[str, int], float]:
    vocab = shekar_data.vocab
    return vocab, float(sum(vocab.values()))


@lru_cache(maxsize=100_000)
def rarity(word: str) -> float:
    """How rare a word is in Persian generally, 0 (very common) .. 1 (unseen): log inverse frequency."""
    vocab, total = _counts()
    plain = word.replace(ZWNJ, "")
    count = vocab.get(word) or vocab.get(plain) or vocab.get(stem(word)) or 0
    if not count:
        return 1.0
    return min(math.log(total / (count + 1)), _MAX_RARITY) / _MAX_RARITY


def content_words(normalized_question: str) -> list[str]:
    """The question's own words: no stopwords, no question words, no one-letter words."""
    out = []
    for word in words(normalized_question):
        plain = word.replace(ZWNJ, "")
        if plain in STOPWORDS or plain in QUESTION_WORDS or len(plain) < 2:
            continue
        out.append(word)
    return list(dict.fromkeys(out))


def expected_type(normalized_question: str) -> str:
    text = normalized_question.replace(ZWNJ, " ")
    return next((name for name, pattern in ANSWER_TYPES.items() if pattern.search(text)), "")


def has_type(kind: str, normalized_text: str) -> bool:
    return bool(kind) and bool(UNIT_TYPES[kind].search(normalized_text.replace(ZWNJ, " ")))


_DIACRITICS = re.compile("[\u064b-\u065f\u0670]")
_LETTERS = str.maketrans({"آ": "ا", "أ": "ا", "إ": "ا", "ؤ": "و", "ۀ": "ه", "ة": "ه", "ي": "ی", "ك": "ک"})


def fold(word: str) -> str:
    """A word as spelled loosely: no ZWNJ or diacritics, «آ/أ/ؤ/ۀ» as «ا/ا/و/ه» (تأسیس = تاسیس)."""
    return _DIACRITICS.sub("", word.replace(ZWNJ, "")).translate(_LETTERS)


@lru_cache(maxsize=100_000)
def _forms(word: str) -> tuple[str, ...]:
    """The folded surface, stem and verb stems («می‌گویند» → گفت, گوی) of one word."""
    forms = {fold(word), fold(stem(word))}
    if len(word) > 2:
        forms.update(fold(s) for s in verb_stems().get(word, ()) if len(s) > 1)
    return tuple(sorted(f for f in forms if f))


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class WordSet:
    """A text's words in loose forms, for 'is this question word here?'.

    1 for the same word, stem or verb stem (also a spoken «-ه» ending: «کشوره» = کشور, and a
    ZWNJ compound whose parts are all here), 0.75 for one letter off (a typo), 0.5 when only
    the first four letters of the stem match, else 0.
    """

    def __init__(self, normalized_text: str):
        self.forms: set[str] = set()
        for w in words(normalized_text):
            self.forms.update(_forms(w))
        self.prefixes = {f[:4] for f in self.forms if len(f) >= 5}

    @cached_property
    def near(self) -> set[str]:
        """Long forms and their one-letter deletions: built only when an exact match fails."""
        long = [f for f in self.forms if len(f) >= 5]
        return set(long).union(*(_deletions(f) for f in long))

    def _exact(self, word: str) -> bool:
        if any(f in self.forms for f in _forms(word)):
            return True
        plain = fold(word)
        for ending in ("یه", "ه"):  # spoken copula: «رنگیه», «شرکته»
            stripped = plain[: -len(ending)]
            if plain.endswith(ending) and len(stripped) >= 3 and stripped in self.forms:
                return True
        parts = [p for p in word.split(ZWNJ) if len(p) > 1]
        return len(parts) > 1 and all(any(f in self.forms for f in _forms(p)) for p in parts)

    def found(self, word: str) -> float:
        if self._exact(word):
            return 1.0
        plain = fold(word)
        if len(plain) >= 5 and (plain in self.near or not _deletions(plain).isdisjoint(self.near)):
            return 0.75
        s = fold(stem(word))
        return 0.5 if len(s) >= 5 and s[:4] in self.prefixes else 0.0


def missing_share(found: list[float], rare: list[float]) -> tuple[float, float]:
    """Rarity-weighted share of the question's words absent from a text, and the rarest one absent
    (``found`` and ``rare``: per question word, :meth:`WordSet.found` and :func:`rarity`)."""
    total = sum(rare)
    if not total:
        return 0.0, 0.0
    missing = sum((1 - f) * r for f, r in zip(found, rare, strict=True))
    return missing / total, max((r for f, r in zip(found, rare, strict=True) if f < 1), default=0.0)


FEATURES = (
    "dense",
    "dense_gap",
    "sparse_gap",
    "unit_sim",
    "agreement",
    "missing_answer",
    "missing_passage",
    "rarest_missing",
    "type_missing",
    "negation",
    "absent_passage",
    "absent_answer",
    "rarest_absent_answer",
    "elsewhere_in_passage",
    "elsewhere_retrieved",
    "question_words",
    "unit_gap",
    "opening",
    "unit_rank",
    "type_absent",
)


@dataclass(frozen=True)
class Signals:
    """What the decision reads from retrieval and from the chosen quote: plain numbers and
    normalized texts, so the benchmark can cache them and refit without drafting again."""

    question: str  # normalized
    best_dense: float  # the quoted passage's cosine
    dense_gap: float  # best dense cosine minus the second
    sparse_gap: float  # (best BM25 - second) / best
    unit_sim: float  # the best quoted unit's cosine
    answer_text: str  # normalized text of what would be quoted
    passage_text: str  # normalized text of the passage(s) it comes from
    other_text: str = ""  # normalized text of the other retrieved passages
    unit_gap: float = 0.0  # the best unit's cosine minus the next best unit's
    opening: float = 0.0  # 1 when the quote opens its document (what a mere topic match falls back on)
    unit_rank: float = 1.0  # retrieval rank of the passage the quote comes from
    type_absent: float = 0.0  # 1 when no candidate unit holds the expected date / number


def gap(values: np.ndarray, relative: bool) -> float:
    """The best value's lead over the second (as a share of the best when ``relative``)."""
    if values.size < 2:
        return 0.0
    top = np.partition(values, -2)[-2:]
    first, second = float(top[1]), float(top[0])
    if relative:
        return (first - second) / first if first > 0 else 0.0
    return first - second


def features(s: Signals) -> dict[str, float]:
    q_words = content_words(s.question)
    answer, passage, others = WordSet(s.answer_text), WordSet(s.passage_text), WordSet(s.other_text)
    kind = expected_type(s.question)
    in_answer = [answer.found(w) for w in q_words]
    in_passage = [passage.found(w) for w in q_words]
    rare = [rarity(w) for w in q_words]
    missing_answer, _ = missing_share(in_answer, rare)
    missing_passage, rarest = missing_share(in_passage, rare)
    return {
        "dense": s.best_dense,
        "dense_gap": s.dense_gap,
        "sparse_gap": s.sparse_gap,
        "unit_sim": s.unit_sim,
        "agreement": s.unit_sim - s.best_dense,
        "missing_answer": missing_answer,
        "missing_passage": missing_passage,
        "rarest_missing": rarest,
        "type_missing": float(bool(kind) and not has_type(kind, s.answer_text)),
        "negation": float(bool(NEGATION.search(s.question.replace(ZWNJ, " ")))),
        # per word, unweighted: a plain relation word («مادر») missing counts as much as a name
        "absent_passage": sum(1 - f for f in in_passage),
        "absent_answer": sum(1 - f for f in in_answer),
        "rarest_absent_answer": max((r for r, f in zip(rare, in_answer, strict=True) if f < 1), default=0.0),
        # the question's word is in the passage but not in the quoted sentence: it quotes another thing
        "elsewhere_in_passage": max(
            (r for r, a, p in zip(rare, in_answer, in_passage, strict=True) if a < 1 <= p), default=0.0
        ),
        # the word is in another retrieved passage, not the quoted one: an entity swapped
        "elsewhere_retrieved": max(
            (r for w, r, p in zip(q_words, rare, in_passage, strict=True) if p < 1 and others.found(w) >= 1),
            default=0.0,
        ),
        "question_words": float(len(q_words)),
        "unit_gap": s.unit_gap,
        "opening": s.opening,
        "unit_rank": s.unit_rank,
        "type_absent": s.type_absent,
    }


@dataclass(frozen=True)
class AnswerabilityModel:
    """Logistic regression over standardized :data:`FEATURES`; answers when p >= threshold."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    fitted_on: str = ""

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> AnswerabilityModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(
                f"{path}: features {data['features']} != {FEATURES}; refit with bench/abstain.py --fit"
            )
        return cls(
            tuple(data["mean"]),
            tuple(data["scale"]),
            tuple(data["weights"]),
            data["bias"],
            data["threshold"],
            data.get("fitted_on", ""),
        )

    def save(self, path: Path = MODEL_PATH) -> None:
        data = {"features": list(FEATURES), **{k: v for k, v in self.__dict__.items()}}
        data = {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    def probability(self, values: dict[str, float]) -> float:
        x = (np.array([values[f] for f in FEATURES]) - np.array(self.mean)) / np.array(self.scale)
        return float(1 / (1 + np.exp(-(x @ np.array(self.weights) + self.bias))))

    def answerable(self, values: dict[str, float]) -> bool:
        return self.probability(values) >= self.threshold


def fit_logistic(
    x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None, l2: float = 1.0, steps: int = 50
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Newton's method on the L2-penalized log loss; returns (mean, scale, weights, bias)."""
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    sw = np.ones(len(x)) if sample_weight is None else sample_weight
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w)))
        grad = z.T @ (sw * (p - y)) + penalty * w
        hess = (z * (sw * p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return mean, scale, w[:-1], float(w[-1])
