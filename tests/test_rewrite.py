"""Questions typed other ways: Finglish, Persian on the English layout, English.

The reading rules are checked on the project's own Finglish list (no model);
then the real assistant answers each kind with verbatim Persian citations.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answering.rewrite import LAYOUT, QuestionReader, from_layout, gloss
from assistant.text.normalize import normalize
from assistant.text.tokens import words

ROOT = Path(__file__).resolve().parent.parent
FINGLISH = ROOT / "tests" / "data" / "finglish.tsv"
KEYS = {persian: key for key, persian in reversed(LAYOUT.items())}


def fold(text: str) -> str:
    return "".join(normalize(text).replace("\u200c", "").replace("؟", "").split())


@pytest.fixture(scope="module")
def reader():
    corpus = " ".join(p.read_text(encoding="utf-8") for p in (ROOT / "corpus").glob("*.md"))
    return QuestionReader(words(normalize(corpus)))


@pytest.fixture(scope="module")
def pairs():
    lines = FINGLISH.read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t")) for line in lines if line.strip() and not line.startswith("#")]


def test_finglish_word_list_accuracy(reader, pairs):
    assert len(pairs) >= 60
    right = [f for f, p in pairs if fold(reader.read(f).text) == fold(p)]
    assert len(right) / len(pairs) >= 0.9, [f for f, _ in pairs if f not in right]
    assert sum(reader.read(f).kind == "finglish" for f, _ in pairs) / len(pairs) >= 0.9


def test_wrong_layout_typing_of_the_same_list_is_read_back(reader, pairs):
    keys = {**KEYS, " ": " "}
    typed = [("".join(keys[ch] for ch in p), p) for _, p in pairs if set(p) <= set(keys)]
    assert len(typed) >= 60
    right = [t for t, p in typed if reader.read(t).kind == "layout" and fold(reader.read(t).text) == fold(p)]
    assert len(right) / len(typed) >= 0.9


@pytest.mark.parametrize(
    ("typed", "kind", "read"),
    [
        ("athtdj dukd ]i?", "layout", "شفافیت یعنی چه؟"),
        ("sedaghat yani chi?", "finglish", "صداقت یعنی چی؟"),
        ("What are the pillars of trust according to Dr. Emami?", "english", "ارکان اعتماد دکتر امامی چیست؟"),
        ("What is transparency?", "english", "شفافیت چیست؟"),
        ("شفافیت یعنی چه؟", "persian", "شفافیت یعنی چه؟"),
    ],
)
def test_each_kind_is_told_apart(reader, typed, kind, read):
    result = reader.read(typed)
    assert (result.kind, result.text) == (kind, read)
    assert result.understood_as == ("" if kind == "persian" else read)


def test_layout_map_and_glossary_pieces():
    assert from_layout("athtdj") == "شفافیت" and from_layout("]") == "چ"
    assert gloss("What about the second one?") == "دومی چطور؟"
    assert gloss("What is the capital of France?") == "capital france چیست؟"  # unknown words stay English


@pytest.mark.parametrize(
    ("typed", "quote"),
    [
        ("What are the pillars of trust according to Dr. Emami?", "شفافیت، پاسخگویی، صداقت"),
        ("What does accountability mean?", "قبول مسئولیت اعمال"),
        ("sedaghat yani chi?", "راستگویی"),
        ("hamdeli yani chi?", "توانایی درک"),
        ("athtdj dukd ]i?", "آشکارسازی اطلاعات"),
    ],
)
def test_typed_questions_are_answered_with_verbatim_persian_citations(assistant, settings, typed, quote):
    answer = assistant.ask(typed)
    assert not answer.abstained and answer.understood_as and answer.question == typed
    assert quote in "".join(c.text for c in answer.citations)
    for c in answer.citations:
        on_disk = (settings.corpus_dir / c.doc_id).read_text(encoding="utf-8")
        assert on_disk[c.start : c.end] == c.text


@pytest.mark.parametrize("typed", ["What is the capital of France?", "paytakhte faranse koja ast?"])
def test_off_topic_typed_questions_still_abstain(assistant, typed):
    answer = assistant.ask(typed)
    assert answer.abstained and answer.understood_as
