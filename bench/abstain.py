"""Answerability: the abstain-vs-answer trade-off, per set, and the fit of its parameters.

    python bench/abstain.py [--eval-dir ../shared/eval] [--rows rows.json] [--fit]

Sets (each question's answer is drafted once; the decision is a threshold on it):
  persianqa       PersianQA test (651 answerable) + its 141 unanswerable dev questions, one
                  corpus of all 93 paragraphs; split in two folds by paragraph (A, B)
  parsinlu_train  ParsiNLU train: answerable as is, and leave-gold-out (the question's own
                  passage masked: in-domain unanswerable)
  parsinlu_dev    the same on ParsiNLU dev
  own             tests/data/qa.jsonl over corpus/ (answerable, off-topic, in-domain unanswerable)

``--fit`` refits assistant/data/answerable.json on parsinlu_train (both sides) and persianqa
fold A only; the threshold is the highest that keeps ParsiNLU train answer_contains >= 0.742
and fold A answered >= 93%.  Everything else is held out.  Prints JSON: the curve for every
set (abstained of unanswerable, answered of answerable, answer_contains), the chosen point
and its numbers per set.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from assistant.answerable import FEATURES, MODEL_PATH, AnswerabilityModel, fit_logistic
from assistant.config import Settings
from assistant.embed import Embedder
from assistant.evaluate import QAItem, contains, evidence_for, read_qa, write_qa_corpus
from assistant.pipeline import Assistant

ROOT = Path(__file__).resolve().parent.parent
GRID = [round(t, 3) for t in np.arange(0.05, 0.96, 0.025)]


def _fold(context: str) -> str:
    return "A" if hashlib.sha1(context.encode()).digest()[0] % 2 == 0 else "B"


def draft_rows(assistant: Assistant, items: list[QAItem], name: str, leave_gold_out: bool) -> list[dict]:
    rows = []
    answerer = assistant.answerer
    for item in items:
        if leave_gold_out and not item.answers:
            continue
        evidence = evidence_for(assistant, item, 10, leave_gold_out)
        draft = answerer.draft(evidence)
        text = answerer.render(evidence, draft).text if draft else ""
        answerable = bool(item.answers) and not leave_gold_out
        rows.append(
            {
                "set": name + ("_lgo" if leave_gold_out else ""),
                "id": item.id,
                "fold": _fold(item.context) if item.context else "",
                "answerable": answerable,
                "contains": bool(answerable and draft and contains(text, item.answers)),
                "features": draft.features if draft else dict.fromkeys(FEATURES, 0.0),
            }
        )
    return rows


def collect(eval_dir: Path, embedder: Embedder, only: set[str] | None = None) -> list[dict]:
    """Draft every question of every set; the answer text is independent of the threshold."""
    sets = {
        "persianqa": [eval_dir / "persianqa_test.jsonl", eval_dir / "persianqa_unanswerable_dev.jsonl"],
        "parsinlu_train": [eval_dir / "parsinlu_rc_train.jsonl"],
        "parsinlu_dev": [eval_dir / "parsinlu_rc_dev.jsonl"],
        "own": [ROOT / "tests" / "data" / "qa.jsonl"],
    }
    rows: list[dict] = []
    for name, files in sets.items():
        if only and name not in only:
            continue
        items = [i for f in files for i in read_qa(f)]
        with tempfile.TemporaryDirectory(prefix="bench-abstain-") as tmp:
            corpus = ROOT / "corpus"
            if name != "own":
                corpus = Path(tmp) / "corpus"
                write_qa_corpus(items, corpus)
            settings = Settings.from_env(corpus_dir=corpus, index_dir=Path(tmp) / "index")
            assistant = Assistant(settings, embedder=embedder, say=lambda m: None)
            rows += draft_rows(assistant, items, name, False)
            if name.startswith("parsinlu"):
                rows += draft_rows(assistant, items, name, True)
        print(f"{name}: {len(items)} questions drafted", file=sys.stderr)
    return rows


def point(rows: list[dict], model: AnswerabilityModel, threshold: float) -> dict[str, float]:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    answers = {id(r): model.probability(r["features"]) >= threshold for r in rows}
    out: dict[str, float] = {}
    if unanswerable:
        out["abstained_of_unanswerable"] = round(
            float(np.mean([not answers[id(r)] for r in unanswerable])), 3
        )
    if answerable:
        out["answered_of_answerable"] = round(float(np.mean([answers[id(r)] for r in answerable])), 3)
        out["answer_contains"] = round(
            float(np.mean([answers[id(r)] and r["contains"] for r in answerable])), 3
        )
    return out


def groups(rows: list[dict]) -> dict[str, list[dict]]:
    own_unanswerable = [r for r in rows if r["set"] == "own" and r["id"].startswith("unans")]
    return {
        "persianqa": [r for r in rows if r["set"] == "persianqa"],
        "persianqa_fold_A (fit)": [r for r in rows if r["set"] == "persianqa" and r["fold"] == "A"],
        "persianqa_fold_B (held out)": [r for r in rows if r["set"] == "persianqa" and r["fold"] == "B"],
        "parsinlu_train (fit)": [r for r in rows if r["set"] == "parsinlu_train"],
        "parsinlu_train_leave_gold_out (fit)": [r for r in rows if r["set"] == "parsinlu_train_lgo"],
        "parsinlu_dev": [r for r in rows if r["set"] == "parsinlu_dev"],
        "parsinlu_dev_leave_gold_out": [r for r in rows if r["set"] == "parsinlu_dev_lgo"],
        "own": [r for r in rows if r["set"] == "own"],
        "own_in_domain_unanswerable": own_unanswerable,
    }


def fit(rows: list[dict]) -> AnswerabilityModel:
    train = [
        r
        for r in rows
        if r["set"].startswith("parsinlu_train") or (r["set"] == "persianqa" and r["fold"] == "A")
    ]
    x = np.array([[r["features"][f] for f in FEATURES] for r in train])
    y = np.array([float(r["answerable"]) for r in train])
    # each source counts the same, whatever its size
    sizes = {s: sum(r["set"] == s for r in train) for s in {r["set"] for r in train}}
    weight = np.array([len(train) / (len(sizes) * sizes[r["set"]]) for r in train])
    mean, scale, weights, bias = fit_logistic(x, y, weight)
    model = AnswerabilityModel(
        tuple(mean.round(6)),
        tuple(scale.round(6)),
        tuple(weights.round(6)),
        round(bias, 6),
        0.5,
        fitted_on="ParsiNLU train (answerable + leave-gold-out), PersianQA fold A (test + unanswerable dev)",
    )
    by = groups(rows)
    chosen = GRID[0]
    for t in GRID:
        train_pt = point(by["parsinlu_train (fit)"], model, t)
        fold_a = point(by["persianqa_fold_A (fit)"], model, t)
        if train_pt["answer_contains"] >= 0.742 and fold_a["answered_of_answerable"] >= 0.93:
            chosen = t
    return AnswerabilityModel(model.mean, model.scale, model.weights, model.bias, chosen, model.fitted_on)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--rows", type=Path, help="cache of drafted rows (read if it exists, else written)")
    parser.add_argument("--redo", nargs="*", default=[], help="with --rows: draft these sets again")
    parser.add_argument("--fit", action="store_true", help=f"refit and write {MODEL_PATH.name}")
    args = parser.parse_args()
    rows: list[dict] = []
    if args.rows and args.rows.exists():
        rows = json.loads(args.rows.read_text(encoding="utf-8"))
        rows = [r for r in rows if r["set"].removesuffix("_lgo") not in args.redo]
    if not rows or args.redo:
        embedder = Embedder(Settings.from_env(), say=lambda m: print(m, file=sys.stderr))
        rows += collect(args.eval_dir, embedder, set(args.redo) if rows else None)
        if args.rows:
            args.rows.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    model = AnswerabilityModel.load()
    if args.fit:
        model = fit(rows)
        model.save()
    by = groups(rows)
    curve = {name: {str(t): point(g, model, t) for t in GRID} for name, g in by.items() if g}
    chosen = {name: point(g, model, model.threshold) for name, g in by.items() if g}
    report = {
        "model": {
            "threshold": model.threshold,
            "fitted_on": model.fitted_on,
            "weights": dict(zip(FEATURES, model.weights, strict=True)),
        },
        "chosen": chosen,
        "curve": curve,
    }
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
