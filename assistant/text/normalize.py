"""Persian normalization, applied identically to documents and questions.

Built on shekar's maintained normalizers (Arabic ي/ك → ی/ک, Arabic and Latin
digits → Persian, diacritics removed, ZWNJ and spacing fixed, ه ی → هٔ).
Its punctuation step is left out on purpose: it rewrites quotes and breaks
decimals (``3.5`` → ``۳. ۵``).  The version string is stored in every index,
so changing a step here makes old indexes refuse to load instead of silently
mismatching queries.
"""

from __future__ import annotations

import re
from functools import lru_cache

import shekar
from shekar.pipeline import Pipeline
from shekar.preprocessing import (
    AlphabetNormalizer,
    ArabicUnicodeNormalizer,
    DigitNormalizer,
    RemoveDiacritics,
    RepeatedLetterNormalizer,
    SpacingNormalizer,
    YaNormalizer,
)

NORMALIZER_VERSION = f"shekar-{shekar.__version__}+pr.1"

_DECIMAL = re.compile(r"(?<=[0-9۰-۹٠-٩])[.٫](?=[0-9۰-۹٠-٩])")
_BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


@lru_cache(maxsize=1)
def _pipeline() -> Pipeline:
    steps = [
        AlphabetNormalizer(),
        ArabicUnicodeNormalizer(),
        DigitNormalizer(),
        RemoveDiacritics(),
        RepeatedLetterNormalizer(),
        SpacingNormalizer(),
        YaNormalizer(),
    ]
    return Pipeline(steps=[(type(step).__name__, step) for step in steps])


@lru_cache(maxsize=100_000)
def normalize(text: str) -> str:
    """Normalize one text; the same function serves passages and queries.

    Memoized: the answerer normalizes the same source sentences for question
    after question (a third of an answer's CPU before); it is a pure function.
    """
    text = _BIDI_CONTROLS.sub("", text)
    text = _DECIMAL.sub("٫", text)  # the Persian decimal separator survives spacing fixes
    return _pipeline()(text).strip()
