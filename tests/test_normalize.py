"""The normalization table: documents and questions go through the same function."""

import pytest

from assistant.text.normalize import NORMALIZER_VERSION, normalize
from assistant.text.tokens import STOPWORDS, terms, words

ZWNJ = "\u200c"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("كتاب", "کتاب"),  # Arabic kaf → Persian keheh
        ("علي", "علی"),  # Arabic yeh → Persian yeh
        ("ى", "ی"),  # alef maksura → Persian yeh
        ("١٢٣", "۱۲۳"),  # Arabic-Indic digits → Persian
        ("123", "۱۲۳"),  # Latin digits → Persian
        ("۱۲۳", "۱۲۳"),
        ("سَلامٌ", "سلام"),  # diacritics removed
        ("میروم", f"می{ZWNJ}روم"),  # verbal prefix gets its ZWNJ
        ("می روم", f"می{ZWNJ}روم"),
        (f"می{ZWNJ}روم", f"می{ZWNJ}روم"),
        ("خانه ی من", "خانۀ من"),  # ezafe
        ("3.5", "۳٫۵"),  # decimals survive, with the Persian separator
        ("  فاصله   زیاد  ", "فاصله زیاد"),
        ("\u200fمتن\u200e", "متن"),  # bidi marks dropped
        ("ﻻ", "لا"),  # presentation forms
    ],
)
def test_normalization_table(raw, expected):
    assert normalize(raw) == expected


def test_query_and_passage_variants_meet():
    doc = "مسئولیت‌پذیری از مهمترین ارکان اعتماد است"
    query = "مسئوليت پذيري و اركان اعتماد"  # Arabic ي/ك, no ZWNJ
    assert set(terms(normalize(query))) & set(terms(normalize(doc))) >= {"ارکان", "اعتماد"}


def test_version_names_shekar():
    assert NORMALIZER_VERSION.startswith("shekar-")


def test_words_keep_zwnj_words_whole_and_one_letter_words():
    assert words(f"می{ZWNJ}روم و کتاب{ZWNJ}ها") == [f"می{ZWNJ}روم", "و", f"کتاب{ZWNJ}ها"]


def test_stopwords_are_dropped_from_terms():
    assert "از" in STOPWORDS
    assert "از" not in terms(normalize("از سازمان"))
