"""Answerability: the abstain-vs-answer trade-off, per set, and the fit of its parameters.

    python bench/abstain.py [--eval-dir ../shared/eval] [--rows rows.json] [--fit]

Sets (each question's answer is drafted once; the decision is a threshold on it):
  persianqa       PersianQA test (651 answerable) + its 141 unanswerable dev questions, one
                  corpus of all 93 paragraphs; split in two folds by paragraph (A, B)
  parsinlu_train  ParsiNLU train: answerable as is, and leave-gold-out (the question's own
                  passage and every other passage holding its answer masked: in-domain
                  unanswerable; see assistant.evaluate.GoldMask)
  parsinlu_dev    the same on ParsiNLU dev
  own             tests/data/qa.jsonl over corpus/ (answerable, off-topic, in-domain unanswerable)

``--fit`` refits assistant/data/answerable.json on parsinlu_train (both sides), persianqa
fold A and the own set (weighted twice); the threshold is the highest that still answers 95%
of the own set's answerable questions and 93% of fold A's, with ParsiNLU train's
answer_contains at most 0.055 below what answering everything gives.
PersianQA fold B and ParsiNLU dev are held out.
Prints JSON: the curve for every set (abstained of unanswerable, answered of answerable,
answer_contains), the chosen point and its numbers per set.  ``--rows DIR`` caches the drafts:
each row keeps the raw signals (texts and scores), so a change of features refits without
drafting again; a change of the answerer needs ``--redo``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

from assistant.answering.answerable import (
    FEATURES,
    MODEL_PATH,
    AnswerabilityModel,
    Signals,
    features,
    fit_logistic,
)
from assistant.answering.base import Evidence
from assistant.answering.extractive import Draft, ExtractiveAnswerer
from assistant.answering.retrieve import without
from assistant.core.settings import Settings
from assistant.evaluate import (
    GoldMask,
    QAItem,
    contains,
    read_qa,
    write_qa_corpus,
)
from assistant.model.embed import Embedder
from assistant.pipeline import Assistant

ROOT = Path(__file__).resolve().parent.parent
GRID = [round(t, 3) for t in np.arange(0.05, 0.96, 0.025)]


def _fold(context: str) -> str:
    return "A" if hashlib.sha1(context.encode()).digest()[0] % 2 == 0 else "B"


def _row(name: str, item: QAItem, answerable: bool, text: str, draft: Draft | None) -> dict:
    """One drafted answer: its text and the raw signals (features are recomputed from them)."""
    return {
        "set": name,
        "id": item.id,
        "question": item.question,
        "fold": _fold(item.context) if item.context else "",
        "answerable": answerable,
        "text": text,
        "contains": bool(answerable and draft and contains(text, item.answers)),
        "record": bool(draft and draft.record),
        "signals": asdict(draft.signals) if draft else None,
    }


def draft_rows(assistant: Assistant, items: list[QAItem], name: str, leave_gold_out: bool) -> list[dict]:
    """One row per question; with ``leave_gold_out`` also one per answerable question with its
    gold passage masked (the question is embedded once for both)."""
    rows = []
    answerer = assistant.quoter
    mask = GoldMask(assistant.index)
    for item in items:
        scores = assistant.searcher.score(item.question)
        sides = [(name, bool(item.answers), scores, np.zeros(0, np.int64))]
        if leave_gold_out and item.answers:
            gold = mask(item)
            sides.append((name + "_lgo", False, without(scores, gold), gold))
        for set_name, answerable, side_scores, hidden in sides:
            hits = assistant.searcher.hits(side_scores, 10, hidden)
            evidence = Evidence(item.question, hits, side_scores, assistant.index)
            draft = answerer.draft(evidence)
            text = answerer.render(evidence, draft).text if draft else ""
            rows.append(_row(set_name, item, answerable, text, draft))
    return rows


SETS = {
    "persianqa": ["persianqa_test.jsonl", "persianqa_unanswerable_dev.jsonl"],
    "parsinlu_train": ["parsinlu_rc_train.jsonl"],
    "parsinlu_dev": ["parsinlu_rc_dev.jsonl"],
    "own": [],
}


def collect(eval_dir: Path, embedder: Embedder, name: str) -> list[dict]:
    """Draft every question of one set; the answer text is independent of the threshold."""
    files = [eval_dir / f for f in SETS[name]] or [ROOT / "tests" / "data" / "qa.jsonl"]
    items = [i for f in files for i in read_qa(f)]
    with tempfile.TemporaryDirectory(prefix="bench-abstain-") as tmp:
        corpus = ROOT / "corpus"
        if name != "own":
            corpus = Path(tmp) / "corpus"
            write_qa_corpus(items, corpus)
        settings = Settings.from_env(corpus_dir=corpus, index_dir=Path(tmp) / "index")
        # drafts do not depend on the fitted model: a neutral one, so new features need no refit first
        zeros, ones = (0.0,) * len(FEATURES), (1.0,) * len(FEATURES)
        answerer = ExtractiveAnswerer(embedder, model=AnswerabilityModel(zeros, ones, zeros, 0.0, 0.5))
        assistant = Assistant(settings, embedder=embedder, answerer=answerer, say=lambda m: None)
        rows = draft_rows(assistant, items, name, name.startswith("parsinlu"))
    print(f"{name}: {len(items)} questions drafted", file=sys.stderr)
    return rows


def point(rows: list[dict], model: AnswerabilityModel, threshold: float) -> dict[str, float]:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    answers = {id(r): r["record"] or model.probability(r["features"]) >= threshold for r in rows}
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
        "own (fit)": [r for r in rows if r["set"] == "own"],
        "own_in_domain_unanswerable (fit)": own_unanswerable,
    }


FIT_SETS = ("parsinlu_train", "parsinlu_train_lgo", "own")
CONTAINS_GIVE = 0.055  # measured: 0.045 chose 0.325, and PersianQA abstained 0.163 < 0.206 before
OWN_WEIGHT = {"own": 2.0}


def fit(rows: list[dict]) -> AnswerabilityModel:
    """Fit on ParsiNLU train (both sides), PersianQA fold A and the own set; pick the threshold."""
    train = [r for r in rows if r["set"] in FIT_SETS or (r["set"] == "persianqa" and r["fold"] == "A")]
    x = np.array([[r["features"][f] for f in FEATURES] for r in train])
    y = np.array([float(r["answerable"]) for r in train])
    # each source counts the same whatever its size, the project's own domain twice (measured:
    # own x2 abstains more on PersianQA and leave-gold-out at the same answered rates than x1, x3, x5)
    sizes = {s: sum(r["set"] == s for r in train) for s in {r["set"] for r in train}}
    share = {s: len(train) / (len(sizes) * n) for s, n in sizes.items()}
    weight = np.array([OWN_WEIGHT.get(r["set"], 1.0) * share[r["set"]] for r in train])
    mean, scale, weights, bias = fit_logistic(x, y, weight)
    model = AnswerabilityModel(
        tuple(mean.round(6)),
        tuple(scale.round(6)),
        tuple(weights.round(6)),
        round(bias, 6),
        0.5,
        fitted_on="ParsiNLU train (answerable + leave-gold-out), PersianQA fold A, tests/data/qa.jsonl",
    )
    by = groups(rows)
    chosen = GRID[0]
    # answer_contains may fall at most CONTAINS_GIVE below what answering everything gives (the
    # answers' shape sets that ceiling: one unit and a hedge hold less than three sentences did)
    ceiling = point(by["parsinlu_train (fit)"], model, GRID[0])["answer_contains"]
    for t in GRID:  # the strictest point that keeps the answered side's targets on the fit sets
        own = point(by["own (fit)"], model, t)
        fold_a = point(by["persianqa_fold_A (fit)"], model, t)
        parsinlu = point(by["parsinlu_train (fit)"], model, t)
        if (
            own["answered_of_answerable"] >= 0.95
            and fold_a["answered_of_answerable"] >= 0.93
            and parsinlu["answer_contains"] >= ceiling - CONTAINS_GIVE
        ):
            chosen = t
    return AnswerabilityModel(model.mean, model.scale, model.weights, model.bias, chosen, model.fitted_on)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--rows", type=Path, help="folder caching each set's drafted rows (SET.json)")
    parser.add_argument("--sets", nargs="*", default=list(SETS), help="sets to draft when not cached")
    parser.add_argument("--redo", nargs="*", default=[], help="with --rows: draft these sets again")
    parser.add_argument("--draft-only", action="store_true", help="only draft (and cache) the rows")
    parser.add_argument("--fit", action="store_true", help=f"refit and write {MODEL_PATH.name}")
    args = parser.parse_args()
    rows: list[dict] = []
    embedder = None
    for name in SETS:
        cached = args.rows / f"{name}.json" if args.rows else None
        if cached and cached.exists() and name not in args.redo:
            rows += json.loads(cached.read_text(encoding="utf-8"))
        elif name in args.sets:
            embedder = embedder or Embedder(Settings.from_env(), say=lambda m: print(m, file=sys.stderr))
            drafted = collect(args.eval_dir, embedder, name)
            if cached:
                cached.parent.mkdir(parents=True, exist_ok=True)
                cached.write_text(json.dumps(drafted, ensure_ascii=False), encoding="utf-8")
            rows += drafted
    if args.draft_only:
        return
    for r in rows:  # recomputed, so a change of features needs no new drafts
        signals = r["signals"]
        r["features"] = features(Signals(**signals)) if signals else dict.fromkeys(FEATURES, 0.0)
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
