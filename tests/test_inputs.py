"""Typed, clean input checked once where it enters: the rules, then the CLI's ``ask --file``.

(The same inputs through ``/ask`` and the chat, on the real server, are in ``test_limits_server.py``.)
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from test_conversation import cli_env

from assistant.core.errors import QuestionError
from assistant.core.inputs import (
    MAX_HISTORY_CHARS,
    MAX_HISTORY_ITEMS,
    MAX_HISTORY_TURNS,
    keep_recent,
    read_query,
    read_query_line,
)

LIMIT = 1000


@pytest.mark.parametrize(
    ("question", "history", "says"),
    [
        (42, None, "must be text, not int"),
        ({"q": 1}, None, "must be text, not dict"),
        (None, None, "must be text, not nothing"),
        ("\x00\x01\u202e", None, "empty"),
        ("x" * (LIMIT + 1), None, "longer than 1000"),
        ("ok", {"question": "a"}, "must be a list of earlier questions, not dict"),
        ("ok", "earlier question", "must be a list of earlier questions, not str"),
        ("ok", [42], "history item"),
        ("ok", [{"question": "a", "answer": {"answer": 5}}], "history item"),
        ("ok", [{"question": "a", "answer": {"answer": "t", "sentences": {"x": 1}}}], "history item"),
        ("ok", [{"question": "a", "answer": {"answer": "t", "citations": [{"n": "1"}]}}], "history item"),
        ("ok", ["q"] * 10_000, "10,000 items"),
    ],
)
def test_bad_input_gets_a_clear_bilingual_error(question, history, says):
    with pytest.raises(QuestionError) as info:
        read_query(question, history, LIMIT)
    message = str(info.value)
    assert says in message and " / " in message and any("\u0600" <= ch <= "\u06ff" for ch in message)


def test_control_bidi_and_surrogates_are_removed_and_zwnj_kept():
    query = read_query("شفافیت\x00\u202e یعنی\ud800 چه\u200cها؟\n", ["قبلی\x07"], LIMIT)
    assert query.question == "شفافیت یعنی چه\u200cها؟"
    assert query.history[0].question == "قبلی"
    json.dumps(query.question).encode("utf-8")  # storable as UTF-8 anywhere


def test_a_long_history_is_cut_to_the_last_turns_and_characters():
    query = read_query("ok", [f"پرسش {n}" for n in range(MAX_HISTORY_ITEMS)], LIMIT)
    assert (
        len(query.history) == MAX_HISTORY_TURNS
        and query.history[-1].question == f"پرسش {MAX_HISTORY_ITEMS - 1}"
    )
    big = [{"question": "q", "answer": "x" * (MAX_HISTORY_CHARS // 3)} for _ in range(5)]
    assert len(read_query("ok", big, LIMIT).history) == 2  # the newest ones that fit 20,000 characters


def test_an_earlier_answer_object_is_read_in_its_own_fields_and_types():
    citation = {"n": 1, "doc_id": "d.md", "title": "t", "source": "s", "start": 0, "end": 4, "text": "متن",
                "score": 0.5, "slide": None, "extra": {"ignored": True}}  # fmt: skip
    answer = {"answer": "پاسخ [1]", "abstained": False, "citations": [citation] * 80,
              "sentences": [{"text": "پاسخ", "citations": [1]}]}  # fmt: skip
    (turn,) = read_query("ok", [{"question": "q", "answer": answer}], LIMIT).history
    assert turn.answer.text == "پاسخ [1]" and len(turn.answer.citations) == 50  # at most 50 parts read
    assert turn.answer.sentences[0].citations == (1,)


def test_the_chat_window_sent_back_is_cut_and_its_records_follow():
    messages = [{"role": "user", "content": str(n)} for n in range(10_000)]
    kept, records = keep_recent(messages, {1: "old", 9_999: "newest", 9_900: "recent"})
    assert len(kept) == 200 and kept[-1]["content"] == "9999"
    assert records == {199: "newest", 100: "recent"}
    assert keep_recent(None, None) == ([], {})
    assert keep_recent([1, 2], {0: "a"}) == ([1, 2], {0: "a"})


def test_a_file_line_is_a_question_or_a_json_object():
    assert read_query_line("سلام\x00 دنیا\n", LIMIT).question == "سلام دنیا"
    for line, says in (('{"question": 5}', "must be text"), ('{"q": 1}', "JSON"), ("{oops", "JSON")):
        with pytest.raises(QuestionError, match=says):
            read_query_line(line, LIMIT)


def test_cli_ask_file_gives_each_bad_line_its_error_and_answers_the_rest(settings, assistant, home, tmp_path):
    """Integer, dict, string, NUL and 10,000-item histories through `assistant ask --file`, in order."""
    lines = [
        json.dumps({"question": 7}),
        json.dumps({"question": "شفافیت یعنی چه؟", "history": {"question": "x"}}),
        json.dumps({"question": "شفافیت یعنی چه؟", "history": "not a list"}),
        json.dumps({"question": "شفافیت\u0000 یعنی چه؟"}),
        json.dumps({"question": "شفافیت یعنی چه؟", "history": ["q"] * 10_000}),
        "ارکان اعتماد در روابط عمومی کدام‌اند؟",
    ]
    questions = tmp_path / "bad.jsonl"
    questions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", "--file", str(questions), "--json"],
        env=cli_env(settings, home), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == 6
    assert "must be text" in out[0]["error"]
    assert "not dict" in out[1]["error"] and "not str" in out[2]["error"]
    assert out[3]["question"] == "شفافیت یعنی چه؟" and out[3]["citations"]  # NUL removed, then answered
    assert "10,000 items" in out[4]["error"]
    assert not out[5]["abstained"] and out[5]["citations"]
