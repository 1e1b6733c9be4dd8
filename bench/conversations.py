"""Follow-up questions over corpus/: resolved, answered, abstained.

    python bench/conversations.py [--data tests/data/conversations.jsonl]

Each conversation is asked turn by turn through ``Assistant.ask(history=...)``,
with the earlier answers in the history (what the chat holds), with the
earlier questions only (what a JSONL client may send; the assistant then
re-runs an earlier question when it needs its answer), and, as a baseline,
with no history at all.  Prints JSON, over the
follow-up turns (the second and later): the share whose resolved question
contains the expected words, answered-of-answerable (and of those, the share
containing a gold answer), abstained-of-unanswerable; and every turn's row.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from assistant.core.records import Turn
from assistant.core.settings import Settings
from assistant.evaluate import contains
from assistant.pipeline import Assistant
from assistant.text.normalize import normalize

ROOT = Path(__file__).resolve().parent.parent


def fold(text: str) -> str:
    return normalize(text).replace("\u200c", "")


def run(assistant: Assistant, conversations: list[dict], history_kind: str) -> list[dict]:
    """history_kind: "answers" (questions and answers), "questions" (questions only) or "none"."""
    rows = []
    for conv in conversations:
        history: list[Turn | str] = []
        for n, turn in enumerate(conv["turns"]):
            answer = assistant.ask(turn["question"], history=history if history_kind != "none" else None)
            history.append(Turn(turn["question"], answer) if history_kind == "answers" else turn["question"])
            rows.append(
                {
                    "id": f"{conv['id']}/{n + 1}",
                    "follow_up": n > 0,
                    "answerable": bool(turn["answers"]),
                    "resolved_question": answer.resolved_question,
                    "resolved_ok": fold(turn["resolved_contains"]) in fold(answer.resolved_question)
                    if turn.get("resolved_contains")
                    else None,
                    "abstained": answer.abstained,
                    "correct": contains(answer.text, tuple(turn["answers"])) if turn["answers"] else None,
                }
            )
    return rows


def rate(rows: list[dict], key: str, want=True) -> float:
    return round(sum(r[key] == want for r in rows) / len(rows), 3) if rows else 0.0


def summary(rows: list[dict]) -> dict:
    follow = [r for r in rows if r["follow_up"]]
    checked = [r for r in follow if r["resolved_ok"] is not None]
    answerable = [r for r in follow if r["answerable"]]
    unanswerable = [r for r in follow if not r["answerable"]]
    right = [r["abstained"] if not r["answerable"] else bool(r["correct"]) for r in follow]
    return {
        "follow_up_turns": len(follow),
        "follow_ups_correct": f"{sum(right)}/{len(right)}",
        "resolved_rate": rate(checked, "resolved_ok"),
        "answered_of_answerable": rate(answerable, "abstained", False),
        "correct_of_answerable": rate(answerable, "correct"),
        "abstained_of_unanswerable": rate(unanswerable, "abstained"),
        "first_turns_answered_of_answerable": rate(
            [r for r in rows if not r["follow_up"] and r["answerable"]], "abstained", False
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT / "tests/data/conversations.jsonl")
    args = parser.parse_args()
    conversations = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(corpus_dir=ROOT / "corpus", index_dir=Path(tmp) / "index")
        assistant = Assistant(settings, say=lambda m: None)
        with_answers = run(assistant, conversations, "answers")
        questions_only = run(assistant, conversations, "questions")
        no_history = run(assistant, conversations, "none")
    print(
        json.dumps(
            {
                "conversations": len(conversations),
                "with_answers": summary(with_answers),
                "questions_only": summary(questions_only),
                "baseline_without_history": summary(no_history),
                "rows": with_answers,
            },
            ensure_ascii=False,
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
