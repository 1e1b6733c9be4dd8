"""Store throughput and size: logging answers, thumbs, gaps and the review queue.

    python bench/store.py [--url postgresql+psycopg://…] [--answers 2000]

Without ``--url`` a SQLite file in a tmp dir.  Answers are shaped like the
chat's (``Answer.to_dict()`` of a real-sized answer: 3 citations, 3 related
passages); a third are abstentions over 50 distinct questions.  Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from assistant.store import ReviewQuery, Store


def _answer(i: int, abstained: bool) -> dict:
    passage = "روابط عمومی با شفافیت و پاسخ‌گویی اعتماد مخاطبان را جلب می‌کند. " * 8
    cites = [
        {"n": n, "doc_id": f"doc{(i + n) % 20}.md", "title": "عنوان", "source": "s", "start": 0, "end": 500}
        | {"text": passage, "score": 0.9, "chunk_id": f"c{n}", "speaker": "", "date": ""}
        for n in (1, 2, 3)
    ]
    return {
        "question": f"پرسش شماره {i % 50}",
        "answer": "منابع موجود پاسخ این پرسش را ندارند." if abstained else passage[:300] + " [1]",
        "abstained": abstained,
        "sentences": [] if abstained else [{"text": passage[:300], "citations": [1], "score": 0.8}],
        "citations": [] if abstained else cites,
        "related": cites if abstained else [],
        "timings_ms": {"retrieve": 20.0, "answer": 40.0},
    }


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95)] * 1000, 2),
    }


def run(url: str, n: int) -> dict:
    store = Store(url)
    log_times = []
    ids = []
    for i in range(n):
        start = time.perf_counter()
        ids.append(store.log_answer(f"پرسش {i % 50}", _answer(i, i % 3 == 0), build_id="bench"))
        log_times.append(time.perf_counter() - start)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda i: store.rate(1 if i % 4 else -1, answer_id=ids[i], vote_key=f"s{i}"), range(n)))
    rate_s = time.perf_counter() - start
    queue_times = []
    for query in (
        ReviewQuery(),
        ReviewQuery(order="lowest_rated"),
        ReviewQuery(doc_id="doc3.md", thumbs="down"),
    ):
        start = time.perf_counter()
        store.review_queue(query)
        queue_times.append(time.perf_counter() - start)
    counts = store.counts()
    store.close()
    return {
        "url": url.split("@")[-1],
        "answers": counts.answers,
        "log_answer": _ms(log_times),
        "ratings_per_s_16_threads": round(n / rate_s, 1),
        "review_queue": _ms(queue_times),
        "gap_rows": counts.gap_questions,
        "gap_askings": counts.gaps,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="")
    parser.add_argument("--answers", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite"
        result = run(args.url or f"sqlite:///{db}", args.answers)
        if not args.url:
            result["sqlite_bytes_per_answer"] = round(
                sum(p.stat().st_size for p in Path(tmp).iterdir()) / args.answers
            )
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
