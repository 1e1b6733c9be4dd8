"""Everyday Persian read as the corpus writes it: spoken forms and one-letter typos.

«چه عواملی باعث میشه اعتماد مردم به یه سازمان از بین بره» and «صداقط یعنی
چی؟» should find what «… می‌شود … یک … برود» and «صداقت» find.  The
answerability features already match such words loosely; retrieval and the
choice of the answer's units did not, so the question itself is rewritten:

- spoken forms from a table («میشه» → «می‌شود», «یه» → «یک», «رو» → «را»), and
  spoken plurals and verb endings when the written form is a corpus word
  («سازمانا» → «سازمان‌ها», «میاره» → «میآورد»);
- a word one edit away from a corpus word, when it is neither a corpus word
  nor a common Persian word itself, is read as that corpus word.

The chat shows what the question was read as.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from shekar import data as shekar_data

from ..text.tokens import ZWNJ

SPOKEN = {
    "میشه": "می‌شود",
    "نمیشه": "نمی‌شود",
    "میشن": "می‌شوند",
    "بره": "برود",
    "برن": "بروند",
    "یه": "یک",
    "چی": "چه",
    "چیه": "چیست",
    "چیا": "چه چیزهایی",
    "رو": "را",
    "تو": "در",
    "داره": "دارد",
    "دارن": "دارند",
    "میده": "می‌دهد",
    "میدن": "می‌دهند",
    "میدیم": "می‌دهیم",
    "میکنه": "می‌کند",
    "میکنن": "می‌کنند",
    "کنه": "کند",
    "کنن": "کنند",
    "میزنه": "می‌زند",
    "میزنن": "می‌زنند",
    "میاره": "می‌آورد",
    "میارن": "می‌آورند",
    "میذاره": "می‌گذارد",
    "میرسه": "می‌رسد",
    "باشه": "باشد",
    "هستن": "هستند",
    "شدن": "شدند",
    "نشون": "نشان",
    "نشونه": "نشانه",
    "چجوری": "چگونه",
    "چطوری": "چگونه",
    "چیکار": "چه کاری",
    "چندتا": "چند",
    "اگه": "اگر",
    "دیگه": "دیگر",
    "بقیه": "دیگران",
    "اون": "آن",
    "اونا": "آن‌ها",
    "اینا": "این‌ها",
    "بهشون": "به آن‌ها",
    "ازشون": "از آن‌ها",
    "کدوم": "کدام",
    "کدوما": "کدام‌ها",
    "خوبه": "خوب است",
    "مهمه": "مهم است",
}
#: a word at least this frequent in Persian generally is a word, not a typo (shekar's counts)
COMMON = 50_000
_EDGE = "،,.:؛؟?!«»\"'()"
_TIME = re.compile(r"زمان|وقت|تاریخ|سال|روز|ماه|ساعت")
_WHO_VERBS = frozenset(["بود", "است", "هست", "بودند", "هستند", "بوده"])


def fold(word: str) -> str:
    return word.replace(ZWNJ, "")


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _one_edit(a: str, b: str) -> bool:
    """Levenshtein distance 1, or two neighbouring letters swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        swapped = (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
        return len(diff) == 1 or swapped
    short, long = sorted((a, b), key=len)
    return short in _deletions(long)


@lru_cache(maxsize=100_000)
def common(word: str) -> bool:
    vocab = shekar_data.vocab
    return (vocab.get(word) or vocab.get(fold(word)) or 0) >= COMMON


class SpokenReader:
    """Rewrites a Persian question's spoken forms and typos against a corpus ``vocabulary``."""

    def __init__(self, vocabulary: Iterable[str]):
        counts = Counter(fold(w) for w in vocabulary)
        self.vocabulary = counts
        self._near: dict[str, list[str]] = {}
        for word in counts:
            if len(word) >= 4 and not word.isdigit():
                for key in {word, *_deletions(word)}:
                    self._near.setdefault(key, []).append(word)

    def known(self, word: str) -> bool:
        return fold(word) in self.vocabulary

    def correct(self, word: str) -> str:
        """The corpus word one edit away from a word that is no corpus or common word, else the word."""
        plain = fold(word)
        if len(plain) < 4 or self.known(plain) or common(plain) or not plain.isalpha():
            return word
        keys = {plain, *_deletions(plain)}
        # a letter added at the end is a suffix («عواملی»), not a typo
        found = {
            w for k in keys for w in self._near.get(k, ()) if _one_edit(plain, w) and not plain.startswith(w)
        }
        if not found:
            return word
        return max(sorted(found), key=lambda w: self.vocabulary[w])

    def written(self, word: str) -> str:
        """A spoken form's written form: the table, then plurals and endings the corpus uses."""
        plain = fold(word)
        if plain in SPOKEN:
            return SPOKEN[plain]
        if self.known(plain) or common(plain):
            return word
        stem = plain[:-1]
        for ending, options in (("ا", ("ها", "ان")), ("ای", ("های", "ان"))):
            if plain.endswith(ending) and len(plain) > len(ending) + 2:
                base = plain[: -len(ending)]
                for option in options:
                    if self.known(base + option):
                        return base + (ZWNJ if option.startswith("ه") else "") + option
        if plain.endswith("ه") and (self.known(stem + "د") or common(stem + "د")):
            return stem + "د"  # «میاره» → «میآرد»-like verb endings the corpus writes with «د»
        return word

    def read(self, question: str) -> str:
        """The question with each word in its written, correctly spelled form."""
        out = []
        tokens = question.split()
        for n, token in enumerate(tokens):
            after = tokens[n + 1].strip(_EDGE) if n + 1 < len(tokens) else ""
            who = n == 0 or (after in _WHO_VERBS and not _TIME.search(question))
            if token.strip(_EDGE) == "کی" and who:
                out.append(token.replace("کی", "چه کسی"))  # «کی بود؟» asks who; «کی برگزار شد؟» when
                continue
            core = token.strip(_EDGE)
            if not core:
                out.append(token)
                continue
            left, right = token[: token.find(core)], token[token.find(core) + len(core) :]
            word = self.written(core)
            if word == core:
                word = self.correct(core)
            out.append(left + word + right)
        return " ".join(out)
