"""The LLM answerer through the real langchain-openai ChatOpenAI, against a fake LLM server.

No LLM can run here, so ``FakeOpenAIServer`` (tests/conftest.py) speaks the
OpenAI chat-completions protocol on 127.0.0.1 with scripted replies; the
retrieval, the extractive gate, the support check and the citations are real.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from assistant.answering.extractive import ABSTAIN_TEXT
from assistant.answering.generate import split_sentences
from assistant.core.records import Answer
from assistant.pipeline import Assistant


def passage_with(prompt: str, phrase: str) -> int:
    """The number the prompt gave to the passage containing ``phrase``."""
    for number, text in re.findall(r"^\[(\d+)\] (.*?)(?=^\[\d+\] |\nپرسش:)", prompt, re.S | re.M):
        if phrase in text:
            return int(number)
    raise AssertionError(f"no passage with {phrase!r}")


def passage_without(prompt: str, *phrases: str) -> int:
    for number, text in re.findall(r"^\[(\d+)\] (.*?)(?=^\[\d+\] |\nپرسش:)", prompt, re.S | re.M):
        if not any(p in text for p in phrases):
            return int(number)
    raise AssertionError("every passage has one of the phrases")


@pytest.fixture(scope="module")
def llm_assistant(settings, embedder, assistant, fake_llm_server):
    """The real Assistant with the LLM answerer built from settings, as a user configures it."""
    llm = {"llm_provider": "openai", "llm_model": "fake-model", "llm_base_url": fake_llm_server.url}
    llm_settings = replace(settings, answerer="llm", **llm)
    return Assistant(llm_settings, embedder=embedder)


def verbatim(assistant: Assistant, answer: Answer) -> bool:
    return all(assistant.index.documents[c.doc_id].text[c.start : c.end] == c.text for c in answer.citations)


def accountability_reply(prompt: str) -> str:
    n = passage_with(prompt, "پاسخگویی: به معنای")
    return (
        f"پاسخگویی به معنای قبول مسئولیت اعمال و تعهدات خود است [{n}]. "
        f"کسی که پاسخگو است نشان می‌دهد قابل اتکاست و به وعده‌هایش عمل می‌کند [{n}]."
    )


def test_supported_sentences_are_cited_verbatim(llm_assistant, fake_llm_server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    fake_llm_server.reply = accountability_reply
    answer = llm_assistant.ask("پاسخگویی یعنی چه؟")
    assert not answer.abstained
    assert [c.n for c in answer.citations] == [1]
    assert verbatim(llm_assistant, answer) and "پاسخگویی: به معنای" in answer.citations[0].text
    assert len(answer.sentences) == 2 and all(s.supported and s.citations == (1,) for s in answer.sentences)
    assert all(s.support >= llm_assistant.answerer.min_support for s in answer.sentences)
    assert answer.text.count("[1]") == 2
    data = answer.to_dict()
    assert {"support", "supported"} <= set(data["sentences"][0])
    assert not fake_llm_server.requests[-1].get("stream")


def test_a_sentence_citing_the_wrong_passage_is_flagged_not_shown(llm_assistant, fake_llm_server):
    def reply(prompt: str) -> str:
        right = passage_with(prompt, "صداقت: به معنای")
        wrong = passage_without(prompt, "صداقت", "راستگویی", "دروغ")
        return (
            f"صداقت یعنی راستگویی و پرهیز از دروغ و فریب [{right}]. "
            f"صداقت مهم‌ترین عامل موفقیت در بازاریابی دیجیتال است [{wrong}]."
        )

    fake_llm_server.reply = reply
    answer = llm_assistant.ask("صداقت یعنی چه؟")
    assert not answer.abstained
    shown, flagged = answer.sentences
    assert shown.supported and shown.citations == (1,)
    assert not flagged.supported and flagged.citations == () and flagged.support < shown.support
    assert "بازاریابی" not in answer.text and len(answer.citations) == 1 and verbatim(llm_assistant, answer)
    assert answer.to_dict()["sentences"][1]["supported"] is False


def test_a_reply_citing_nothing_becomes_an_abstention(llm_assistant, fake_llm_server):
    fake_llm_server.reply = lambda prompt: "شفافیت برای هر سازمانی حیاتی است و همه باید آن را رعایت کنند."
    answer = llm_assistant.ask("شفافیت یعنی چه؟")
    assert answer.abstained and answer.text == ABSTAIN_TEXT and answer.citations == []
    assert answer.sentences and not any(s.supported for s in answer.sentences)
    assert answer.related


def test_off_topic_questions_never_reach_the_llm(llm_assistant, fake_llm_server):
    before = len(fake_llm_server.requests)
    answer = llm_assistant.ask("پایتخت فرانسه کجاست؟")
    assert answer.abstained and len(fake_llm_server.requests) == before


def test_tokens_stream_then_the_checked_answer(llm_assistant, fake_llm_server):
    fake_llm_server.reply = accountability_reply
    parts = list(llm_assistant.ask_stream("dovomi yani chi?", history=["ارکان اعتماد کدام‌اند؟"]))
    deltas, final = parts[:-1], parts[-1]
    assert isinstance(final, Answer) and all(isinstance(p, str) for p in deltas)
    assert len(deltas) > 3
    assert fake_llm_server.requests[-1]["stream"] is True
    assert "".join(deltas) == accountability_reply(fake_llm_server.requests[-1]["messages"][-1]["content"])
    assert final.resolved_question == "پاسخگویی یعنی چی؟" and final.understood_as == "دومی یعنی چی؟"
    assert not final.abstained and verbatim(llm_assistant, final)
    assert {"retrieve", "answer", "total"} <= set(final.timings_ms)


def test_the_extractive_answerer_streams_just_the_answer(assistant):
    parts = list(assistant.ask_stream("شفافیت یعنی چه؟"))
    assert len(parts) == 1 and isinstance(parts[0], Answer) and parts[0].citations


def test_markers_are_split_from_sentences():
    assert split_sentences("الف است [1]. ب است [۲، 3] ج بدون استناد.") == [
        ("الف است.", (1,)),
        ("ب است", (2, 3)),
        ("ج بدون استناد.", ()),
    ]
