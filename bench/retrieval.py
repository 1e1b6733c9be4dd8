"""Retrieval quality and query latency: dense, BM25, RRF and the chosen hybrid.

    python bench/retrieval.py [--eval-dir ../shared/eval] [--limit N]

Each QA file's distinct contexts are indexed afresh in a temporary folder
(vectors come from the embedding cache in ASSISTANT_HOME after the first
run), then every mode ranks every question.  Prints one
JSON object: {set: {mode: {recall@1, recall@5, recall@10, mrr@10, query_ms_p50}}}.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.answering.retrieve import MODES, Searcher
from assistant.core.settings import Settings
from assistant.evaluate import gold_rank, read_qa, recall_metrics, write_qa_corpus
from assistant.indexing import build_index, load_index
from assistant.model.embed import Embedder

SETS = ("parsinlu_rc_train", "parsinlu_rc_dev", "persianqa_test")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--eval-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "eval"
    )
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()

    base = Settings.from_env()
    embedder = Embedder(base, say=lambda m: print(m, file=sys.stderr))
    table: dict[str, dict] = {}
    for name in SETS:
        items = [i for i in read_qa(args.eval_dir / f"{name}.jsonl", args.limit) if i.answers]
        with tempfile.TemporaryDirectory(prefix="bench-retrieval-") as tmp:
            corpus = Path(tmp) / "corpus"
            write_qa_corpus(items, corpus)
            settings = Settings.from_env(corpus_dir=corpus, index_dir=Path(tmp) / "index")
            build_index(settings, embedder=embedder)
            index = load_index(settings.index_dir, embedder)
        table[name] = {"questions": len(items), "passages": len(index.documents), "chunks": len(index.chunks)}
        for mode in MODES:
            searcher = Searcher(index, embedder, mode=mode)
            ranks, times = [], []
            for item in items:
                started = time.perf_counter()
                hits = searcher.search(item.question, 10)
                times.append((time.perf_counter() - started) * 1000)
                ranks.append(gold_rank(index, hits, item.context))
            table[name][mode] = {**recall_metrics(ranks), "query_ms_p50": round(float(np.median(times)), 1)}
        print(json.dumps({name: table[name]}, ensure_ascii=False), file=sys.stderr)
    print(json.dumps(table, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
