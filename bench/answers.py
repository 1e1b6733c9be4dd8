"""What a student reads: is the answering sentence first, and how much rides along?

    python bench/answers.py [--eval-dir ../shared/eval] [--sets parsinlu_train parsinlu_dev persianqa own]
                            [--limit N] [--no-baseline]

Public sets (ParsiNLU RC train and dev, PersianQA test): an index over each set's distinct
contexts, every question through ``Assistant.ask`` (what ``assistant ask --file --json`` runs).
Per set, over the answerable questions: ``answered``, ``abstained``, ``contains_any`` (a gold
answer inside some answer sentence), ``contains_first`` (inside the first), mean sentences and
characters per answer given, ``span_f1`` (SQuAD-style token F1 of the marked ``answer_span``,
or where none the first sentence, against the best gold; 0 for an abstention), ``answer_ms_p50``;
and the e5 nearest-sentence baseline (the one sentence of all the set's contexts nearest the
question by e5 alone) beside it.

The own set (``tests/data/qa.jsonl`` over ``corpus/``) adds ``sentence_precision`` (share of
answer sentences labelled relevant in ``tests/data/answer_labels.jsonl``), ``first_unit_correct``,
``lists_complete``, the in-domain unanswerable and off-topic questions abstained, and the
colloquial / misspelled variants (``tests/data/variants.jsonl``) given the same answer as their
originals.  Follow-up turns: ``bench/conversations.py``.  Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.core.records import Answer
from assistant.core.settings import Settings
from assistant.evaluate import QAItem, _folded, contains, read_qa, token_f1, write_qa_corpus
from assistant.model.embed import Embedder
from assistant.pipeline import Assistant
from assistant.text.chunk import sentence_spans
from assistant.text.normalize import normalize

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
PUBLIC = {
    "parsinlu_train": "parsinlu_rc_train.jsonl",
    "parsinlu_dev": "parsinlu_rc_dev.jsonl",
    "persianqa": "persianqa_test.jsonl",
}


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def sentences(answer: Answer) -> list[str]:
    return [s.text for s in answer.sentences] if not answer.abstained else []


def marked(answer: Answer) -> str:
    """The marked span, or the first sentence where none is marked."""
    if answer.abstained or not answer.sentences:
        return ""
    span = getattr(answer, "answer_span", None)  # absent before issue 15
    return answer.sentences[0].text[span[0] : span[1]] if span else answer.sentences[0].text


def _mean(values: list[float]) -> float:
    return round(float(np.mean(values)), 3) if values else 0.0


def answer_metrics(items: list[QAItem], answers: list[Answer], ms: list[float]) -> dict:
    given = [a for a in answers if not a.abstained]
    pairs = list(zip(items, answers, strict=True))
    return {
        "questions": len(items),
        "answered": _mean([not a.abstained for a in answers]),
        "abstained": _mean([a.abstained for a in answers]),
        "contains_any": _mean([any(contains(s, i.answers) for s in sentences(a)) for i, a in pairs]),
        "contains_first": _mean(
            [bool(sentences(a)) and contains(sentences(a)[0], i.answers) for i, a in pairs]
        ),
        "sentences_per_answer": _mean([len(a.sentences) for a in given]),
        "chars_per_answer": round(float(np.mean([sum(len(s) for s in sentences(a)) for a in given])), 1)
        if given
        else 0.0,
        "span_f1": _mean([token_f1(marked(a), i.answers) for i, a in pairs]),
        "spans_marked": _mean([getattr(a, "answer_span", None) is not None for a in given]),
        "answer_ms_p50": round(float(np.median(ms)), 1) if ms else 0.0,
    }


def ask_all(assistant: Assistant, questions: list[str]) -> tuple[list[Answer], list[float]]:
    answers, ms = [], []
    for q in questions:
        started = time.perf_counter()
        answers.append(assistant.ask(q))
        ms.append((time.perf_counter() - started) * 1000)
    return answers, ms


def baseline(embedder: Embedder, items: list[QAItem]) -> dict:
    """The one sentence nearest the question by e5 alone, over every sentence of the set's contexts."""
    texts = []
    for context in dict.fromkeys(i.context for i in items if i.context):
        texts += [context[s.start : s.end] for s in sentence_spans(context)]
    texts = list(dict.fromkeys(texts))
    vectors = embedder.embed([normalize(t) for t in texts], kind="passage")
    questions = embedder.embed([normalize(i.question) for i in items], kind="query")
    nearest = [texts[int(j)] for j in np.argmax(questions @ vectors.T, axis=1)]
    return {
        "contains_first": _mean([contains(t, i.answers) for t, i in zip(nearest, items, strict=True)]),
        "span_f1": _mean([token_f1(t, i.answers) for t, i in zip(nearest, items, strict=True)]),
        "chars_per_answer": round(float(np.mean([len(t) for t in nearest])), 1),
    }


def public_set(eval_dir: Path, name: str, embedder: Embedder, limit: int | None, base: bool) -> dict:
    items = [i for i in read_qa(eval_dir / PUBLIC[name]) if i.answers]
    with tempfile.TemporaryDirectory(prefix="bench-answers-") as tmp:
        corpus = Path(tmp) / "corpus"
        write_qa_corpus(items, corpus)  # the index is over every context of the set, like bench/abstain.py
        items = items[:limit] if limit else items
        settings = Settings.from_env(corpus_dir=corpus, index_dir=Path(tmp) / "index")
        assistant = Assistant(settings, embedder=embedder, say=lambda m: None)
        answers, ms = ask_all(assistant, [i.question for i in items])
    out = answer_metrics(items, answers, ms)
    if base:
        out["e5_nearest_sentence"] = baseline(embedder, items)
    return out


def relevant(sentence: str, labels: list[str]) -> bool:
    hay = _folded(sentence)
    return any(_folded(label) in hay or hay in _folded(label) for label in labels)


def _same(a: Answer, b: Answer) -> bool:
    """The same answer: both abstain, or the same first quote."""
    if a.abstained or b.abstained:
        return a.abstained and b.abstained
    first_a, first_b = a.citations[0], b.citations[0]
    return (first_a.doc_id, first_a.start, first_a.end) == (first_b.doc_id, first_b.start, first_b.end)


def own_set(embedder: Embedder) -> dict:
    items = read_qa(DATA / "qa.jsonl")
    labels = {row["id"]: row for row in read_jsonl(DATA / "answer_labels.jsonl")}
    variants = read_jsonl(DATA / "variants.jsonl")
    with tempfile.TemporaryDirectory(prefix="bench-answers-") as tmp:
        settings = Settings.from_env(corpus_dir=ROOT / "corpus", index_dir=Path(tmp) / "index")
        assistant = Assistant(settings, embedder=embedder, say=lambda m: None)
        answers, ms = ask_all(assistant, [i.question for i in items])
        by_id = dict(zip((i.id for i in items), answers, strict=True))
        variant_answers, _ = ask_all(assistant, [v["question"] for v in variants])
    answerable = [(i, a) for i, a in zip(items, answers, strict=True) if i.answers]
    out = answer_metrics([i for i, _ in answerable], [a for _, a in answerable], ms)
    labelled = [(i, a) for i, a in answerable if i.id in labels and not a.abstained]
    quoted = [relevant(s, labels[i.id]["relevant"]) for i, a in labelled for s in sentences(a)]
    lists = [(i, a) for i, a in answerable if labels.get(i.id, {}).get("items")]
    wrong_first = [i.id for i, a in labelled if not relevant(sentences(a)[0], labels[i.id]["relevant"])]
    complete = sum(all(contains(a.text, (t,)) for t in labels[i.id]["items"]) for i, a in lists)
    unans = [i.id for i in items if i.id.startswith("unans")]
    off = [i.id for i in items if i.id.startswith("off")]
    same = [_same(by_id[v["of"]], a) for v, a in zip(variants, variant_answers, strict=True)]
    out.update(
        {
            "sentence_precision": _mean(quoted),
            "first_unit_correct": f"{len(labelled) - len(wrong_first)}/{len(answerable)}",
            "first_unit_wrong": wrong_first,
            "lists_complete": f"{complete}/{len(lists)}",
            "in_domain_unanswerable_abstained": _count([by_id[i].abstained for i in unans]),
            "unanswerable_answered": [i for i in unans if not by_id[i].abstained],
            "off_topic_abstained": _count([by_id[i].abstained for i in off]),
            "off_topic_related_shown": sum(bool(by_id[i].related) for i in off),
            "variants_same": _count(same),
            "variants_differing": [v["id"] for v, ok in zip(variants, same, strict=True) if not ok],
        }
    )
    return out


def _count(flags: list[bool]) -> str:
    return f"{sum(flags)}/{len(flags)}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--sets", nargs="*", default=[*PUBLIC, "own"])
    parser.add_argument("--limit", type=int, default=None, help="first N questions of each public set")
    parser.add_argument("--no-baseline", action="store_true", help="skip the e5 nearest-sentence baseline")
    args = parser.parse_args()
    embedder = Embedder(Settings.from_env(), say=lambda m: print(m, file=sys.stderr))
    report = {}
    for name in args.sets:
        if name == "own":
            report[name] = own_set(embedder)
        else:
            report[name] = public_set(args.eval_dir, name, embedder, args.limit, not args.no_baseline)
        print(json.dumps({name: report[name]}, ensure_ascii=False), file=sys.stderr)
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
