"""Abstention calibration on the project's own QA set over corpus/.

    python bench/abstain.py [--qa tests/data/qa.jsonl]

For each question: the best passage's dense cosine and the share of the
question's terms found in it, which are what ``AbstainPolicy`` looks at.
Prints JSON: the features, then answered / abstained rates for the chosen
policy and for a sweep of dense-only thresholds (to show why terms matter).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import replace
from pathlib import Path

from assistant.answer import AbstainPolicy
from assistant.config import Settings
from assistant.evaluate import read_qa
from assistant.pipeline import Assistant

ROOT = Path(__file__).resolve().parent.parent


def rates(rows: list[dict], policy: AbstainPolicy) -> dict[str, float]:
    answerable = [r for r in rows if r["answerable"]]
    off_topic = [r for r in rows if not r["answerable"]]
    answered = sum(not policy.should_abstain(r["dense"], r["coverage"]) for r in answerable)
    abstained = sum(policy.should_abstain(r["dense"], r["coverage"]) for r in off_topic)
    return {
        "answered_answerable": round(answered / len(answerable), 3),
        "abstained_off_topic": round(abstained / len(off_topic), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--qa", type=Path, default=Path(__file__).resolve().parent.parent / "tests/data/qa.jsonl"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        assistant = Assistant(Settings.from_env(index_dir=Path(tmp) / "index"), say=lambda m: None)
        rows = []
        for item in read_qa(args.qa):
            dense, coverage = assistant.answerer.features(assistant.retrieve(item.question))
            row = {"id": item.id, "answerable": bool(item.answers), "dense": round(dense, 4)}
            rows.append({**row, "coverage": round(coverage, 3)})
    policy = AbstainPolicy()
    sweep = {
        f"dense>={t:.2f} only": rates(rows, replace(policy, min_dense=t, min_dense_with_terms=t))
        for t in (0.78, 0.80, 0.82, 0.84)
    }
    print(
        json.dumps(
            {"policy": {**policy.__dict__, **rates(rows, policy)}, "dense_only": sweep, "rows": rows},
            ensure_ascii=False,
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
