"""Other ways to type a question: Finglish, Persian on the English layout, English.

Students type Persian in Latin letters ("sedaghat yani chi?"), forget to
switch the keyboard ("athtdj dukd ]i?" is «شفافیت یعنی چه؟» typed on the
English layout), or simply ask in English.  All three arrive as Latin text;
this module decides which it is and turns it into Persian the index can
match, recording what it was read as so the reader can see it.

- wrong layout: every key mapped back through the standard Persian layout
  (ISIRI 9147); chosen when the mapped words are Persian words and the raw
  ones are not English words;
- English: content words read through a small public-relations glossary
  (``data/glossary_en_fa.tsv``).  e5 is multilingual, but an English
  question's cosine to the Persian passages is lower and its BM25 terms
  match nothing, so abstention (rightly, on those features) refuses it; a
  glossed Persian question meets the same bar as a Persian one.  Words the
  glossary lacks stay in English and so count against term coverage;
- Finglish: the ``finglish`` package (offline rules + a Persian word
  frequency list), its candidate spellings re-ranked so that words of our
  own corpus win («sabat» → «ثبات», not the more frequent «ثبت»).
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from shekar import data as shekar_data

from ..text.normalize import normalize
from ..text.tokens import ZWNJ, words
from .spoken import SpokenReader

GLOSSARY_FILE = Path(__file__).resolve().parent / "data" / "glossary_en_fa.tsv"

#: The standard Persian layout (ISIRI 9147): what each key of an English keyboard types.
LAYOUT = dict(
    zip(
        "qwertyuiop[]asdfghjkl;'zxcvbnm,\\?HC`1234567890",
        "ضصثقفغعهخحجچشسیبلاتنمکگظطزرذدپوپ؟آژپ۱۲۳۴۵۶۷۸۹۰",
        strict=True,
    )
)
_PERSIAN = re.compile(r"[\u0600-\u06ff]")
_LATIN = re.compile(r"[A-Za-z]")
_LATIN_WORD = re.compile(r"[A-Za-z']+")
_EN_STOP_WORDS = """a an the of to in on at by for from with about according is are was were be been
do does did can could would should will shall may might must has have had and or
as it its this that these those there their they them he she his her i you we
our your me my tell say says said please one"""
_EN_STOP = frozenset(_EN_STOP_WORDS.split())
_PUNCT = {"?": "؟", ",": "،", ";": "؛"}
_EDGE = '?!.,:;"()'
_VOWEL = re.compile(r"[aeiouyAEIOUY]")
_LAYOUT_ONLY = re.compile(r"[A-Za-z][\[\];',`\\]|[\[\];',`\\][A-Za-z]")
#: Chat words finglish spells as a rarer word («bede» → «بعد»): read these as people mean them.
CHAT_WORDS = {
    "chi": "چی",
    "bede": "بده",
    "begoo": "بگو",
    "begu": "بگو",
    "chie": "چیه",
    "chiye": "چیه",
    "kodaman": "کدامند",
    "kodoman": "کدومن",
    "kojast": "کجاست",
    "chetori": "چطوری",
    "mishe": "میشه",
}


@dataclass(frozen=True)
class Rewrite:
    """A question as typed and as retrieval should read it."""

    typed: str
    text: str
    kind: str  # "persian", "layout", "english" or "finglish"
    shown: str = ""  # the read-back line when it differs from ``text`` (the student's own words kept)

    @property
    def understood_as(self) -> str:
        return "" if self.text == self.typed else self.shown or self.text


def read_back(typed: str, plain: str, written: str) -> str:
    """The student's own words with only the words read differently replaced: «روابط عمومی» typed
    apart stays apart, though the normalizer joins it («روابط‌عمومی») for retrieval."""
    typed_words, plain_words, written_words = typed.split(), plain.split(), written.split()
    if len(plain_words) != len(written_words):  # «کی» read as «چه کسی»: no word-for-word line
        return written
    out, i = [], 0
    for p, w in zip(plain_words, written_words, strict=True):
        group, joined = [], ""
        while i < len(typed_words) and len(joined) < len(fold(p)):
            group.append(typed_words[i])
            joined += fold(normalize(typed_words[i])).replace(" ", "")
            i += 1
        if joined != fold(p):
            return written
        out.append(" ".join(group) if p == w else w)
    return " ".join(out)


def fold(word: str) -> str:
    return word.replace(ZWNJ, "")


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """GCIDE's English dictionary (the ``english-words`` package, shipped offline)."""
    from english_words import get_english_words_set

    return frozenset(get_english_words_set(["gcide"], alpha=True, lower=True))


@lru_cache(maxsize=1)
def glossary() -> dict[str, str]:
    entries = {}
    for line in GLOSSARY_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            english, persian = line.split("\t")
            entries[english.strip().lower()] = persian.strip()
    return entries


@lru_cache(maxsize=1)
def _finglish():
    """The finglish converter; it prints while loading its 400k-word list, which we keep quiet."""
    with contextlib.redirect_stdout(io.StringIO()):
        from finglish import f2p_word

    return f2p_word


def _forms(word: str) -> list[str]:
    """The word and its likely singular/stem: enough for glossary and dictionary look-ups."""
    forms = [word]
    if word.endswith("'s"):
        forms.append(word[:-2])
    if word.endswith("ies"):
        forms.append(word[:-3] + "y")
    if word.endswith("es"):
        forms.append(word[:-2])
    if word.endswith("s"):
        forms.append(word[:-1])
    return forms


def is_english(token: str) -> bool:
    """An English dictionary word (names in our glossary, like «emami», are not English)."""
    word = token.lower().strip("'")
    if not word.isascii() or not word.replace("'", "").isalpha():
        return False
    return any(f in english_words() or f in _EN_STOP for f in _forms(word))


def from_layout(text: str) -> str:
    """Map each key back to the Persian letter it types (lower case; H and C are آ and ژ)."""
    return "".join(LAYOUT.get(ch, LAYOUT.get(ch.lower(), ch)) for ch in text)


def gloss(text: str) -> str:
    """English → Persian through the glossary, longest phrase first; unknown words stay."""
    tokens = re.findall(r"[A-Za-z']+|[?]", text.lower())
    table = glossary()
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for size in (3, 2, 1):
            phrase = tokens[i : i + size]
            if len(phrase) < size:
                continue
            found = next((table[f] for f in _phrase_forms(phrase) if f in table), None)
            if found:
                out.append(found)
                i += size
                break
        else:
            token = tokens[i]
            if token == "?":
                out.append("؟")
            elif token not in _EN_STOP:
                out.append(token)
            i += 1
    if out and out[0] in {"چیست", "چطور"}:  # "what is X?" → «X چیست؟»: Persian puts it last
        out = [*out[1:-1], out[0], out[-1]] if out[-1] == "؟" else [*out[1:], out[0]]
    return " ".join(out).replace(" ؟", "؟")


def _phrase_forms(phrase: list[str]) -> list[str]:
    head, last = phrase[:-1], phrase[-1]
    return [" ".join([*head, form]) for form in _forms(last)]


class QuestionReader:
    """Read a typed question; ``vocabulary`` is our corpus's words, preferred among spellings."""

    def __init__(self, vocabulary: Iterable[str] = ()):
        self.vocabulary = frozenset(fold(w) for w in vocabulary)
        self.spoken = SpokenReader(self.vocabulary)

    def persian_word(self, word: str) -> bool:
        word = fold(word)
        return word in self.vocabulary or word in shekar_data.vocab or word in CHAT_WORDS.values()

    def read(self, question: str) -> Rewrite:
        latin = len(_LATIN.findall(question))
        if latin == 0 or len(_PERSIAN.findall(question)) >= latin:
            plain = normalize(question)
            written = self.spoken.read(plain) if self.vocabulary else plain
            if written == plain:
                return Rewrite(question, question, "persian")
            return Rewrite(question, written, "spoken", read_back(question, plain, written))
        tokens = [t.strip(_EDGE) for t in question.split() if _LATIN.search(t)]
        english = sum(is_english(t) for t in tokens) / len(tokens) if tokens else 0.0
        layout = self._score(words(normalize(from_layout(question))))
        if layout >= 0.5 and layout > english and layout > self._finglish_score(tokens, question):
            return Rewrite(question, normalize(from_layout(question)), "layout")
        if english >= 0.6:
            return Rewrite(question, gloss(question), "english")
        return Rewrite(question, self.transliterate(question), "finglish")

    def _score(self, persian: list[str]) -> float:
        """Share of Persian words, plus a bonus for words of our own corpus (it breaks ties)."""
        if not persian:
            return 0.0
        known = sum(self.persian_word(w) for w in persian) / len(persian)
        return known + 0.5 * sum(fold(w) in self.vocabulary for w in persian) / len(persian)

    def _finglish_score(self, tokens: list[str], typed: str) -> float:
        """The same score for the Finglish reading.  A key typed only for a Persian letter
        ([ ] ; ' , inside a word) settles it for the layout, and Finglish words have vowels."""
        if _LAYOUT_ONLY.search(typed) or not tokens:
            return 0.0
        spelled = [self.spell(t) if _VOWEL.search(t) else "" for t in tokens]
        return self._score([w for w in spelled if w]) * sum(bool(w) for w in spelled) / len(tokens)

    def transliterate(self, text: str) -> str:
        """Finglish → Persian, word by word; punctuation becomes Persian punctuation."""
        out = []
        for token in re.findall(r"[A-Za-z']+|[^\sA-Za-z']", text):
            if _LATIN.search(token):
                out.append(self.spell(token))
            else:
                out.append(_PUNCT.get(token, token))
        return re.sub(r" ([؟،؛.!])", r"\1", " ".join(out))

    def spell(self, word: str) -> str:
        """finglish's candidates; the first one our corpus uses, else finglish's best."""
        word = word.lower()
        if word in CHAT_WORDS:
            return CHAT_WORDS[word]
        convert = _finglish()
        candidates = convert(word, cutoff=12)
        if "iy" in word:  # «shafafiyat»: finglish reads each y as a letter of its own
            candidates += convert(word.replace("iy", "i"), cutoff=12)
        if not candidates:
            return word
        for candidate, _ in candidates:
            if fold(candidate) in self.vocabulary:
                return candidate
        known = [c for c, _ in candidates if fold(c) in shekar_data.vocab]
        return known[0] if known else candidates[0][0]
