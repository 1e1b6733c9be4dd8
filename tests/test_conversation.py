"""Follow-up questions: resolved against the conversation, then answered with citations.

Pure rules first (no model), then the real assistant over corpus/ through
``Assistant.ask(history=...)``, the real ``assistant ask --file`` JSONL and
``assistant chat`` processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.answering.conversation import last_context, list_items, resolve
from assistant.core.errors import QuestionError
from assistant.core.inputs import read_history
from assistant.core.records import Answer, AnswerSentence, Turn
from assistant.evaluate import contains
from assistant.text.normalize import normalize

ROOT = Path(__file__).resolve().parent.parent
CONVERSATIONS = ROOT / "tests" / "data" / "conversations.jsonl"
PILLARS = (
    "دکتر حسین امامی در وبینار مهارتهای اعتمادسازی در روابط عمومی گفت: "
    "شفافیت، پاسخگویی، صداقت و مسئولیتپذیری از مهمترین ارکان اعتماد به شمار میروند."
)


def fold(text: str) -> str:
    return normalize(text).replace("\u200c", "")


@pytest.fixture()
def pillars():
    answer = Answer("ارکان اعتماد کدام‌اند؟", f"{PILLARS} [1]", False, [AnswerSentence(PILLARS, (1,))])
    return last_context([Turn("ارکان اعتماد کدام‌اند؟", answer)])


def test_list_items_from_inline_lists_and_labelled_lines():
    assert list_items([PILLARS]) == ["شفافیت", "پاسخگویی", "صداقت", "مسئولیتپذیری"]
    lines = ["همدلی: توانایی درک و احساسات", "عدالت: رفتار منصفانه", "ثبات: رفتاری قابل پیشبینی"]
    assert list_items(lines) == ["همدلی", "عدالت", "ثبات"]
    assert list_items(["شفافیت: به معنای آشکارسازی اطلاعات و عدم پنهانکاری است."]) == []


@pytest.mark.parametrize(
    ("question", "resolved"),
    [
        ("دومی یعنی چه؟", "پاسخگویی یعنی چه؟"),
        ("مورد آخر را توضیح بده", "مسئولیتپذیری را توضیح بده"),
        ("سومین رکن چیست؟", "صداقت چیست؟"),
        ("چرا؟", "چرا ارکان اعتماد مهم است؟"),
        ("چرا این مهم است؟", "چرا ارکان اعتماد مهم است؟"),
        ("بیشتر توضیح بده", "دربارهٔ ارکان اعتماد بیشتر توضیح بده"),
    ],
)
def test_follow_ups_resolve_against_the_previous_answer(pillars, question, resolved):
    assert resolve(question, pillars) == resolved


@pytest.mark.parametrize(
    "question",
    ["شفافیت یعنی چه؟", "این وبینار کی برگزار شد؟", "کارگاه دوم توسط چه کسی برگزار شد؟", "پنجمی یعنی چه؟"],
)
def test_self_contained_or_unresolvable_questions_stay_unchanged(pillars, question):
    assert resolve(question, pillars) == question
    assert resolve(question, None) == question


def test_how_about_and_chains_use_the_resolved_previous_question(pillars):
    answer = pillars.answer
    chain = last_context([Turn("ارکان اعتماد کدام‌اند؟", answer), Turn("دومی یعنی چه؟")])
    assert chain.question == "پاسخگویی یعنی چه؟"
    assert resolve("صداقت چطور؟", chain) == "صداقت یعنی چه؟"
    assert resolve("و عدالت؟", chain) == "عدالت یعنی چه؟"
    assert resolve("آن را بیشتر توضیح بده", chain) == "پاسخگویی را بیشتر توضیح بده"
    assert resolve("سومی چطور؟", chain) == "صداقت چطور؟"  # the list asked about first still counts


def test_history_json_forms(pillars):
    data = Answer("ارکان اعتماد کدام‌اند؟", PILLARS, False, [AnswerSentence(PILLARS, (1,))]).to_dict()
    turns = read_history(
        ["شفافیت یعنی چه؟", {"question": "q2", "answer": "متن پاسخ"}, {"question": "q3", "answer": data}]
    )
    assert [t.question for t in turns] == ["شفافیت یعنی چه؟", "q2", "q3"]
    assert turns[0].answer is None and turns[1].answer.text == "متن پاسخ"
    assert turns[2].answer.sentences[0].text == PILLARS
    assert Answer.from_dict(data).to_dict()["sentences"] == data["sentences"]
    with pytest.raises(QuestionError, match="history item"):
        read_history([42])


def test_a_text_only_history_reruns_the_earlier_question_only_when_needed():
    calls = []

    def rerun(question):
        calls.append(question)
        return Answer(question, PILLARS, False, [AnswerSentence(PILLARS, (1,))])

    context = last_context([Turn("ارکان اعتماد کدام‌اند؟")], rerun=rerun)
    assert resolve("شفافیت یعنی چه؟", context) == "شفافیت یعنی چه؟" and calls == []
    assert resolve("دومی یعنی چه؟", context) == "پاسخگویی یعنی چه؟"
    assert calls == ["ارکان اعتماد کدام‌اند؟"]


def run_conversations(assistant, with_answers: bool) -> list[dict]:
    rows = []
    for line in CONVERSATIONS.read_text(encoding="utf-8").splitlines():
        conv, history = json.loads(line), []
        for n, turn in enumerate(conv["turns"]):
            answer = assistant.ask(turn["question"], history=history)
            history.append(Turn(turn["question"], answer) if with_answers else turn["question"])
            if n:
                rows.append({**turn, "answer": answer})
    return rows


def test_own_conversations_resolve_answer_and_abstain(assistant):
    rows = run_conversations(assistant, with_answers=True)
    assert len(rows) >= 20
    checked = [r for r in rows if r.get("resolved_contains")]
    resolved = [r for r in checked if fold(r["resolved_contains"]) in fold(r["answer"].resolved_question)]
    assert len(resolved) / len(checked) >= 0.9, [r["answer"].resolved_question for r in checked]
    answerable = [r for r in rows if r["answers"]]
    answered = [r for r in answerable if not r["answer"].abstained]
    correct = [r for r in answered if contains(r["answer"].text, tuple(r["answers"]))]
    assert len(answered) / len(answerable) >= 0.9 and len(correct) / len(answerable) >= 0.9
    unanswerable = [r for r in rows if not r["answers"]]
    abstained = [r for r in unanswerable if r["answer"].abstained]
    assert len(abstained) / len(unanswerable) >= 0.75, [
        r["question"] for r in unanswerable if r not in abstained
    ]
    for r in answered:
        doc = assistant.index.documents
        assert all(doc[c.doc_id].text[c.start : c.end] == c.text for c in r["answer"].citations)


def test_ask_with_history_records_what_it_retrieved_with(assistant):
    answer = assistant.ask("dovomi yani chi?", history=["ارکان اعتماد کدام‌اند؟"])
    assert answer.question == "dovomi yani chi?"
    assert answer.understood_as == "دومی یعنی چی؟"
    assert answer.resolved_question == "پاسخگویی یعنی چی؟"
    assert not answer.abstained and "قبول مسئولیت اعمال" in answer.text
    data = answer.to_dict()
    assert data["resolved_question"] == "پاسخگویی یعنی چی؟" and data["understood_as"] == "دومی یعنی چی؟"
    plain = assistant.ask("شفافیت یعنی چه؟")
    assert plain.resolved_question == plain.question and plain.understood_as == ""


def cli_env(settings, home) -> dict:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ASSISTANT_HOME": str(home),
        "ASSISTANT_CORPUS": str(settings.corpus_dir),
        "ASSISTANT_INDEX": str(settings.index_dir),
        "HF_HUB_OFFLINE": "1",
    }


def test_cli_ask_file_jsonl_with_history(settings, assistant, home, tmp_path):
    lines = [
        json.dumps({"question": "دومی یعنی چه؟", "history": ["ارکان اعتماد کدام‌اند؟"]}, ensure_ascii=False),
        json.dumps(
            {
                "question": "chera mohem ast?",
                "history": [{"question": "شفافیت یعنی چه؟", "answer": "شفافیت: به معنای آشکارسازی است."}],
            },
            ensure_ascii=False,
        ),
        "athtdj dukd ]i?",
        '{"question": 5}',
        '{"question": "q", "history": "not a list"',
    ]
    questions = tmp_path / "conversation.jsonl"
    questions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", "--file", str(questions), "--json"],
        env=cli_env(settings, home),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == 5
    assert out[0]["resolved_question"] == "پاسخگویی یعنی چه؟" and not out[0]["abstained"]
    assert out[1]["understood_as"] == "چرا مهم است؟"
    assert out[1]["resolved_question"] == "چرا شفافیت مهم است؟" and out[1]["citations"]
    assert out[2]["understood_as"] == "شفافیت یعنی چه؟" and "آشکارسازی اطلاعات" in out[2]["answer"]
    assert "must be text" in out[3]["error"] and "متن" in out[3]["error"]  # the one entry check
    assert "JSON" in out[4]["error"]


def test_cli_chat_keeps_the_conversation(settings, assistant, home):
    stdin = "ارکان اعتماد کدام‌اند؟\nمورد آخر را توضیح بده\n\nexit\nشفافیت یعنی چه؟\n"
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "chat"],
        input=stdin,
        env=cli_env(settings, home),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "مسئولیتپذیری را توضیح بده" in done.stdout  # shown as what the follow-up was read as
    assert "تعهد به انجام وظایف" in done.stdout and "منابع:" in done.stdout
    assert "آشکارسازی" not in done.stdout  # nothing after exit is asked
