"""Cited answers over corpus/ with the project's own QA set (real model, real index)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.answering.extractive import ABSTAIN_TEXT
from assistant.cli import main
from assistant.core.errors import QuestionError
from assistant.evaluate import contains, evaluate, read_qa

QA = Path(__file__).resolve().parent / "data" / "qa.jsonl"


@pytest.fixture(scope="module")
def answers(assistant, qa_items):
    return {item["id"]: assistant.ask(item["question"]) for item in qa_items}


def test_every_citation_quotes_its_source_file_verbatim(assistant, settings, answers):
    cited = 0
    for answer in answers.values():
        for c in answer.citations + answer.related:
            doc = assistant.index.documents[c.doc_id]
            on_disk = (settings.corpus_dir / doc.doc_id).read_text(encoding="utf-8")
            assert on_disk[c.start : c.end] == c.text
            assert c.title and c.source.endswith(doc.doc_id)
            cited += 1
    assert cited >= 30


def test_answers_are_short_and_every_sentence_is_cited(answers):
    for answer in answers.values():
        if answer.abstained:
            continue
        # prose: up to 3 sentences (4 with a heading); a list: its lead-in and items
        assert 1 <= len(answer.sentences) <= (13 if "\n- " in answer.text else 4)
        numbers = {c.n for c in answer.citations}
        for sentence in answer.sentences:
            assert sentence.citations and set(sentence.citations) <= numbers
            assert f"[{sentence.citations[0]}]" in answer.text


def test_answerable_questions_are_answered_and_off_topic_abstains(answers, qa_items):
    answerable = [i for i in qa_items if i["answers"]]
    off_topic = [i for i in qa_items if not i["answers"]]
    answered = [i for i in answerable if not answers[i["id"]].abstained]
    abstained = [i for i in off_topic if answers[i["id"]].abstained]
    assert len(answered) / len(answerable) >= 0.95, [i["id"] for i in answerable if i not in answered]
    assert len(abstained) / len(off_topic) >= 0.9
    correct = [i for i in answered if contains(answers[i["id"]].text, tuple(i["answers"]))]
    assert len(correct) / len(answerable) >= 0.8


def test_abstention_lists_related_passages_not_citations(answers):
    answer = answers["unans-26"]  # crisis tools on social media: close to the webinar, not in it
    assert answer.abstained and answer.text == ABSTAIN_TEXT
    assert answer.citations == [] and answer.related
    off_topic = answers["off-01"]  # nothing in the sources is close: no "related" passages at all
    assert off_topic.abstained and off_topic.citations == [] and off_topic.related == []


def test_eval_metrics_on_own_set(assistant):
    metrics = evaluate(assistant, read_qa(QA))
    assert metrics["count"] == 80 and metrics["answerable"] == 40
    assert metrics["recall@5"] >= 0.9
    assert metrics["abstain_accuracy"] >= 0.9
    assert 0 < metrics["answer_f1"] <= 1


def test_bad_questions_get_a_clear_error(assistant):
    with pytest.raises(QuestionError, match="empty"):
        assistant.ask("   ")
    with pytest.raises(QuestionError, match="longer than"):
        assistant.ask("الف" * 5000)


def test_chain_and_langchain_retriever(assistant):
    answer = assistant.chain.invoke("شفافیت به چه معناست؟")
    assert not answer.abstained and "آشکارسازی اطلاعات" in answer.text
    docs = assistant.retriever(k=3).invoke("عوامل از دست رفتن اعتماد")
    assert len(docs) == 3
    meta = docs[0].metadata
    doc = assistant.index.documents[meta["doc_id"]]
    assert doc.text[meta["start"] : meta["end"]] == docs[0].page_content
    assert {"title", "score", "dense", "sparse", "chunk_id"} <= set(meta)


def test_cli_ask_json_and_file(settings, assistant, tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        main, ["ask", "ارکان اعتماد در روابط عمومی کدام‌اند؟", "--json", "--index", str(settings.index_dir)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {"question", "answer", "abstained", "citations", "related", "timings_ms"}
    assert not data["abstained"] and data["citations"]
    assert set(data["citations"][0]) >= {"n", "doc_id", "title", "source", "start", "end", "text", "score"}
    assert set(data["timings_ms"]) >= {"retrieve", "answer", "total"}

    questions = tmp_path / "q.txt"
    questions.write_text("شفافیت یعنی چه؟\nپایتخت فرانسه کجاست؟\n", encoding="utf-8")
    result = runner.invoke(
        main, ["ask", "--file", str(questions), "--json", "--index", str(settings.index_dir)]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["question"] for line in lines] == ["شفافیت یعنی چه؟", "پایتخت فرانسه کجاست؟"]
    assert [line["abstained"] for line in lines] == [False, True]


def test_cli_plain_output_is_readable_persian(settings, assistant):
    result = CliRunner().invoke(main, ["ask", "شفافیت به چه معناست؟", "--index", str(settings.index_dir)])
    assert result.exit_code == 0
    assert "منابع:" in result.output and "[1]" in result.output
