"""How well typed questions are read: Finglish, Persian on the English layout, English.

    python bench/rewrite.py [--words tests/data/finglish.tsv]

Finglish: each word or phrase of the list transliterated, compared with its
Persian (spaces and ZWNJ folded), by our reader (finglish + corpus words
preferred) and by the finglish package alone.  Wrong layout: each Persian
entry of the same list typed on the English layout (the keys are derived
from the standard Persian layout) and read back.  Detection: the share of
each kind read as that kind (Finglish entries must not be taken for
English or layout, English questions must be read as English).
Prints JSON; no model or index needed (the corpus words come from corpus/).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from assistant.answering.rewrite import LAYOUT, QuestionReader, _finglish
from assistant.text.normalize import normalize
from assistant.text.tokens import words

ROOT = Path(__file__).resolve().parent.parent
ENGLISH = [
    "What are the pillars of trust according to Dr. Emami?",
    "What is transparency?",
    "What does accountability mean?",
    "Why do organizations lose public trust?",
    "How does poor crisis management affect trust?",
    "What is empathy?",
    "Who held the webinar on trust building?",
    "What is the capital of France?",
    "Tell me about data security",
    "Why is honesty important in public relations?",
]
KEYS = {persian: key for key, persian in reversed(LAYOUT.items())}  # the first key wins: m for پ


def fold(text: str) -> str:
    return "".join(normalize(text).replace("\u200c", "").replace("؟", "").split())


def typed_on_english_layout(persian: str) -> str | None:
    keys = [KEYS.get(ch, ch if ch == " " else None) for ch in persian]
    return None if None in keys else "".join(keys)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--words", type=Path, default=ROOT / "tests/data/finglish.tsv")
    args = parser.parse_args()
    pairs = [
        tuple(line.split("\t"))
        for line in args.words.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    corpus = " ".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").glob("*.md")))
    reader = QuestionReader(words(normalize(corpus)))
    rows = []
    for finglish, persian in pairs:
        read = reader.read(finglish)
        layout_typed = typed_on_english_layout(persian)
        layout = reader.read(layout_typed) if layout_typed else None
        package = " ".join(_finglish()(t)[0][0] for t in finglish.split())  # finglish's own best guess
        rows.append(
            {
                "finglish": finglish,
                "persian": persian,
                "ours": read.text,
                "ours_ok": fold(read.text) == fold(persian),
                "kind_ok": read.kind == "finglish",
                "package": package,
                "package_ok": fold(package) == fold(persian),
                "layout_typed": layout_typed,
                "layout_ok": bool(layout and layout.kind == "layout" and fold(layout.text) == fold(persian)),
            }
        )
    english = [reader.read(q) for q in ENGLISH]
    n = len(rows)
    layout_rows = [r for r in rows if r["layout_typed"]]
    print(
        json.dumps(
            {
                "finglish_items": n,
                "finglish_accuracy": round(sum(r["ours_ok"] for r in rows) / n, 3),
                "finglish_package_alone_accuracy": round(sum(r["package_ok"] for r in rows) / n, 3),
                "finglish_detected_as_finglish": round(sum(r["kind_ok"] for r in rows) / n, 3),
                "layout_items": len(layout_rows),
                "layout_accuracy": round(sum(r["layout_ok"] for r in layout_rows) / len(layout_rows), 3),
                "english_detected_as_english": round(
                    sum(e.kind == "english" for e in english) / len(english), 3
                ),
                "english": [{"typed": e.typed, "kind": e.kind, "read": e.text} for e in english],
                "errors": [r for r in rows if not (r["ours_ok"] and r["kind_ok"] and r["layout_ok"])],
            },
            ensure_ascii=False,
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
