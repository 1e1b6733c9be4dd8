"""Does the quoted text answer the question? A small calibrated decision.

Being on topic is not enough: inside one domain every question retrieves a
passage about the right subject.  What gives an unanswerable question away is
that its *specific* words — the rare ones, weighted by how rare they are in
Persian generally (shekar's word counts) — are missing from the quoted
sentence and its passage, that the sentence lacks the kind of thing asked for
(a person, a date, a number, a place, a reason), and that the best passage
does not stand out from the rest.  These features feed a logistic regression
whose parameters are plain JSON in ``assistant/data/answerable.json``
(refitted by ``bench/abstain.py --fit``).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from shekar import data as shekar_data

from .tokens import STOPWORDS, ZWNJ, stem, words

MODEL_PATH = Path(__file__).resolve().parent / "data" / "answerable.json"
_MAX_RARITY = 12.0
_QUESTION_WORDS = frozenset(
    [
        "چیست",
        "چی",
        "چیه",
        "کیست",
        "کی",
        "کجا",
        "کجاست",
        "چرا",
        "چگونه",
        "چطور",
        "چند",
        "چندم",
        "چقدر",
        "کدام",
        "کدامند",
        "کدامین",
        "آیا",
        "سالی",
        "زمانی",
        "میشود",
        "میشوند",
        "میکند",
        "میکنند",
        "است",
        "هست",
        "بود",
        "شد",
        "دارد",
        "دارند",
        "نام",
        "اسم",
    ]
)

#: expected answer type → question pattern (normalized text, ZWNJ folded to space)
ANSWER_TYPES: dict[str, re.Pattern[str]] = {
    "person": re.compile(r"چه کس|کیست|که بود|چه شخص|توسط چه|چه فرد"),
    "date": re.compile(r"چه (?:زمان|سال|تاریخ|روز|ماه|قرن|سده|دوره)|\bکی\b|چه وقت|از کی|تا کی"),
    "number": re.compile(r"\bچند|چقدر|چه تعداد|چه مقدار|چه میزان"),
    "place": re.compile(r"کجا|چه (?:شهر|کشور|استان|منطقه|مکان|جای)|کدام (?:شهر|کشور|استان|منطقه)"),
    "reason": re.compile(r"چرا|چه دلیل|چه علت|علت .* چیست|دلیل .* چیست"),
}
#: the Persian solar months, which the webinar write-ups date by
JALALI_MONTHS = (
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)
_MONTHS = [
    *JALALI_MONTHS,
    "ژانویه",
    "فوریه",
    "مارس",
    "آوریل",
    "مه",
    "ژوئن",
    "ژوئیه",
    "ژوئیه",
    "اوت",
    "سپتامبر",
    "اکتبر",
    "نوامبر",
    "دسامبر",
    "محرم",
    "صفر",
    "ربیع",
    "جمادی",
    "رجب",
    "شعبان",
    "رمضان",
    "شوال",
    "ذیقعده",
    "ذیحجه",
]
_NUMBER_WORDS = [
    "یک",
    "دو",
    "سه",
    "چهار",
    "پنج",
    "شش",
    "هفت",
    "هشت",
    "نه",
    "ده",
    "صد",
    "هزار",
    "میلیون",
    "میلیارد",
    "نیم",
    "اول",
    "دوم",
    "سوم",
]
#: evidence a unit holds each answer type
UNIT_TYPES: dict[str, re.Pattern[str]] = {
    "person": re.compile(
        r"دکتر|آقای|خانم|مهندس|استاد|توسط|پادشاه|شاه\b|امام|نویسنده|بنیانگذار|بنیان گذار|رئیس|مدیر"
    ),
    "date": re.compile(r"\d{3,4}|\b(?:" + "|".join(_MONTHS) + r")\b|سال|قرن|سده|میلادی|شمسی|هجری|شنبه|دهه"),
    "number": re.compile(r"\d|\b(?:" + "|".join(_NUMBER_WORDS) + r")\b|درصد"),
    "place": re.compile(r"شهر|کشور|استان|منطقه|قاره|روستا|جزیره|کوه|رود|دریا|خیابان|پایتخت|واقع|\bدر\s+\S+"),
    "reason": re.compile(
        r"زیرا|چون|چرا که|به دلیل|به علت|باعث|سبب|بنابراین|به خاطر|در نتیجه|برای اینکه|تا\s"
    ),
}
_NEGATION = re.compile(r"(?:^|\s)(?:نمی|نمی |ن(?:دار|یست|بود|کرد|شد|کن|ده|ست))")


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
        if plain in STOPWORDS or plain in _QUESTION_WORDS or len(plain) < 2:
            continue
        out.append(word)
    return list(dict.fromkeys(out))


def expected_type(normalized_question: str) -> str:
    text = normalized_question.replace(ZWNJ, " ")
    return next((name for name, pattern in ANSWER_TYPES.items() if pattern.search(text)), "")


def has_type(kind: str, normalized_text: str) -> bool:
    return bool(kind) and bool(UNIT_TYPES[kind].search(normalized_text.replace(ZWNJ, " ")))


class WordSet:
    """A text's words and stems, for 'is this question word here?' (prefix match counts half)."""

    def __init__(self, normalized_text: str):
        surface = words(normalized_text)
        self.words = {w.replace(ZWNJ, "") for w in surface}
        self.stems = {stem(w) for w in surface}
        self.prefixes = {s[:4] for s in self.stems if len(s) >= 5}

    def found(self, word: str) -> float:
        s = stem(word)
        if word.replace(ZWNJ, "") in self.words or s in self.stems:
            return 1.0
        return 0.5 if len(s) >= 5 and s[:4] in self.prefixes else 0.0


def missing_share(question_words: list[str], text: WordSet) -> tuple[float, float]:
    """Rarity-weighted share of the question's words absent from a text, and the rarest one absent."""
    weights = [rarity(w) for w in question_words]
    total = sum(weights)
    if not total:
        return 0.0, 0.0
    missing = [(1 - text.found(w)) * r for w, r in zip(question_words, weights, strict=True)]
    return sum(missing) / total, max(
        (r for w, r in zip(question_words, weights, strict=True) if text.found(w) < 1), default=0.0
    )


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
)


@dataclass(frozen=True)
class Signals:
    """What the decision needs from retrieval and from the chosen quote."""

    question: str  # normalized
    dense: np.ndarray  # every passage's dense cosine
    sparse: np.ndarray  # every passage's BM25 score
    best_dense: float  # the quoted passage's cosine
    unit_sim: float  # the best quoted unit's cosine
    answer_text: str  # normalized text of what would be quoted
    passage_text: str  # normalized text of the passage(s) it comes from


def _gap(values: np.ndarray, relative: bool) -> float:
    if values.size < 2:
        return 0.0
    top = np.partition(values, -2)[-2:]
    first, second = float(top[1]), float(top[0])
    if relative:
        return (first - second) / first if first > 0 else 0.0
    return first - second


def features(s: Signals) -> dict[str, float]:
    q_words = content_words(s.question)
    missing_answer, _ = missing_share(q_words, WordSet(s.answer_text))
    missing_passage, rarest = missing_share(q_words, WordSet(s.passage_text))
    kind = expected_type(s.question)
    return {
        "dense": s.best_dense,
        "dense_gap": _gap(s.dense, relative=False),
        "sparse_gap": _gap(s.sparse, relative=True),
        "unit_sim": s.unit_sim,
        "agreement": s.unit_sim - s.best_dense,
        "missing_answer": missing_answer,
        "missing_passage": missing_passage,
        "rarest_missing": rarest,
        "type_missing": float(bool(kind) and not has_type(kind, s.answer_text)),
        "negation": float(bool(_NEGATION.search(s.question.replace(ZWNJ, " ")))),
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
