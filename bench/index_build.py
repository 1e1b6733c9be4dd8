"""Indexing speed: a full build of a QA file's contexts, then a no-change update.

    python bench/index_build.py [--qa ../shared/eval/parsinlu_rc_train.jsonl]

Prints JSON: for the build and for the update, documents, chunks, tokens,
chunks embedded (the update should embed none), seconds and tokens/s.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from assistant.core.settings import Settings
from assistant.evaluate import read_qa, write_qa_corpus
from assistant.indexing import build_index
from assistant.model.embed import Embedder


def run(settings: Settings, embedder: Embedder, use_cache: bool) -> dict:
    started = time.perf_counter()
    report = build_index(settings, embedder=embedder, use_cache=use_cache)
    seconds = time.perf_counter() - started
    return {
        "documents": report.documents,
        "chunks": report.chunks,
        "tokens": report.tokens,
        "embedded": report.embedded,
        "reused": report.reused,
        "seconds": round(seconds, 2),
        "tokens_per_s": round(report.tokens / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default_qa = Path(__file__).resolve().parents[2] / "shared" / "eval" / "parsinlu_rc_train.jsonl"
    parser.add_argument("--qa", type=Path, default=default_qa)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        corpus = Path(tmp) / "corpus"
        write_qa_corpus(read_qa(args.qa), corpus)
        settings = Settings.from_env(corpus_dir=corpus, index_dir=Path(tmp) / "index")
        embedder = Embedder(settings)
        started = time.perf_counter()
        embedder.embed(["گرم کردن"], kind="query")  # load once, outside the timings
        load_s = time.perf_counter() - started
        result = {
            "qa_file": str(args.qa),
            "model_load_s": round(load_s, 2),
            "build": run(settings, embedder, use_cache=False),
            "update_no_change": run(settings, embedder, use_cache=True),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
