"""Retrieval at scale: query latency, index load time, RAM and disk at 10k and 100k chunks.

    python bench/scale.py [--chunks 10000 100000] [--reuse] [--queries 200] [--eval-dir ../shared/eval]

Passages are real Persian text from the eval sets' contexts: every context,
then its sentences, then runs of two and three consecutive sentences, until
there are enough (about 10k).  Their vectors come from the real e5 model
through the project's embedding cache in ASSISTANT_HOME, so only the first
run pays for embedding (about 10-20 min on 2 shared cores; it resumes where
it stopped); ``--reuse`` never embeds passages and uses only those already
cached (fewer than 10k if the first run was stopped early).
Sizes above the real set (100k) repeat the real passages, each vector plus
small Gaussian noise and renormalized (cosine ≈ 0.96 to its source): fine for
timing, meaningless for quality, and the JSON says so.

Each size is written in the project's own index format (``dense.faiss``,
``bm25/``, ``store.json``, ``manifest.json``) and measured in a fresh
process: ``load_index`` seconds, RSS before/after, then ``Searcher.search``
for real questions (p50/p95 wall and CPU time, and a
per-stage breakdown).  ``search_cpu_ms`` is the process CPU time of a search
(all threads): on a machine shared with other work, wall time mostly measures
waiting for a core.  Prints one JSON object keyed by chunk count.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from assistant.core.records import Chunk, Document
from assistant.core.settings import Settings
from assistant.indexing.dense import DenseIndex
from assistant.indexing.layout import FORMAT_VERSION
from assistant.indexing.sparse import SparseIndex
from assistant.model.embed import Embedder, EmbeddingCache
from assistant.text.chunk import sentence_spans, text_hash
from assistant.text.normalize import NORMALIZER_VERSION, normalize
from assistant.text.tokens import TERMS_VERSION, terms

EVAL_FILES = ("parsinlu_rc_train", "parsinlu_rc_dev", "persianqa_test", "persianqa_unanswerable_dev")
REAL_MAX = 10_000
STAGE_QUERIES = 50  # questions timed stage by stage
NOISE = 0.3  # norm of the noise added to a real vector for the synthetic copies


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def read_eval(eval_dir: Path) -> tuple[list[str], list[str]]:
    """Distinct contexts and all questions of the eval sets, in file order."""
    contexts: dict[str, None] = {}
    questions: list[str] = []
    for name in EVAL_FILES:
        path = eval_dir / f"{name}.jsonl"
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                questions.append(row["question"])
                if row.get("context"):
                    contexts[row["context"]] = None
    return list(contexts), questions


def passage_texts(contexts: list[str], n: int) -> list[str]:
    """Up to n distinct chunk-sized texts: contexts, sentences, then 2- and 3-sentence runs."""
    sentences = [[c[s.start : s.end] for s in sentence_spans(c)] for c in contexts]
    pool: dict[str, None] = dict.fromkeys(contexts)
    for width in (1, 2, 3):
        for sents in sentences:
            for i in range(len(sents) - width + 1):
                text = " ".join(sents[i : i + width])
                if len(text) >= 30:
                    pool[text] = None
    return list(pool)[:n]


def real_vectors(
    settings: Settings, embedder: Embedder, texts: list[str], reuse: bool
) -> tuple[list[str], np.ndarray]:
    """The texts with their e5 vectors from the cache; missing ones are embedded and cached in batches.

    With ``reuse`` nothing is embedded: only the texts already cached are kept.
    """
    normalized = [normalize(t) for t in texts]
    hashes = [text_hash(t) for t in texts]
    cache = EmbeddingCache(settings.cache_db)
    try:
        known = cache.get(embedder.fingerprint, hashes)
        todo = [] if reuse else [i for i, h in enumerate(hashes) if h not in known]
        started = time.perf_counter()
        for done in range(0, len(todo), 256):
            part = todo[done : done + 256]
            vectors = embedder.embed([normalized[i] for i in part], kind="passage")
            fresh = {hashes[i]: v for i, v in zip(part, vectors, strict=True)}
            cache.put(embedder.fingerprint, fresh)
            known.update(fresh)
            rate = (done + len(part)) / (time.perf_counter() - started)
            say(f"embedded {done + len(part)}/{len(todo)} ({rate:.1f} passages/s)")
    finally:
        cache.close()
    kept = [i for i, h in enumerate(hashes) if h in known]
    if not kept:
        raise SystemExit(f"--reuse: no passage vectors cached in {settings.home}; run once without it")
    return [texts[i] for i in kept], np.stack([known[hashes[i]] for i in kept]).astype(np.float32)


def scaled(texts: list[str], vectors: np.ndarray, n: int, seed: int = 0) -> tuple[list[int], np.ndarray]:
    """n (source index, vector) pairs: the real ones first, then noisy renormalized copies."""
    base = len(texts)
    source = [i % base for i in range(n)]
    out = vectors[np.asarray(source)].copy()
    if n > base:
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal((n - base, vectors.shape[1])).astype(np.float32)
        noise *= NOISE / np.linalg.norm(noise, axis=1, keepdims=True)
        out[base:] += noise
        out[base:] /= np.linalg.norm(out[base:], axis=1, keepdims=True)
    return source, out


def write_index(
    folder: Path, texts: list[str], source: list[int], vectors: np.ndarray, embedder: Embedder
) -> None:
    """The project's index format, one document per chunk (what ``load_index`` reads)."""
    folder.mkdir(parents=True)
    base_terms = [terms(normalize(t)) for t in texts]
    base_hashes = [text_hash(t) for t in texts]  # normalizing is slow: once per distinct text
    docs, chunks = [], []
    for i, s in enumerate(source):
        text = texts[s]
        doc_id = f"scale/{i:06d}.txt"
        docs.append(Document(doc_id=doc_id, source=doc_id, text=text, title=f"passage {i}"))
        chunks.append(Chunk(f"{doc_id}#0-{len(text)}", doc_id, 0, len(text), text, "", 0, base_hashes[s]))
    DenseIndex.build(vectors).save(folder / "dense.faiss")
    SparseIndex.build([base_terms[s] for s in source]).save(folder / "bm25")
    store = {"documents": [asdict(d) for d in docs], "chunks": [asdict(c) for c in chunks]}
    (folder / "store.json").write_text(json.dumps(store, ensure_ascii=False), encoding="utf-8")
    manifest = {
        "format_version": FORMAT_VERSION,
        "build_id": "bench-scale",
        "embedding_model": embedder.name,
        "model_fingerprint": embedder.fingerprint,
        "dimension": int(vectors.shape[1]),
        "normalizer_version": NORMALIZER_VERSION,
        "terms_version": TERMS_VERSION,
        "documents": len(docs),
        "chunks": len(chunks),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def disk_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20, 1)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2) if values else 0.0


def measure(folder: Path, questions: list[str]) -> dict:
    """Runs in a fresh process: load time, RSS and query latency of one index folder."""
    from assistant.answering.retrieve import Searcher
    from assistant.indexing.layout import load_index

    settings = Settings.from_env()
    embedder = Embedder(settings)
    embedder.embed(["گرم کردن"], kind="query")  # model loaded and warm before the baseline
    rss_before = rss_mb()
    started = time.perf_counter()
    index = load_index(folder, embedder)
    load_s = time.perf_counter() - started
    rss_after = rss_mb()
    searcher = Searcher(index, embedder)
    for q in questions[:5]:
        searcher.search(q, 5)
    total, cpu, stages = [], [], {}
    for q in questions:
        started, cpu_started = time.perf_counter(), time.process_time()
        searcher.search(q, 5)
        total.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    for q in questions[:STAGE_QUERIES]:
        for name, ms in stage_times(searcher, q).items():
            stages.setdefault(name, []).append(ms)
    agreement = exhaustive_agreement(searcher, questions[:100]) if index.dense.approximate else None
    return {
        "load_index_s": round(load_s, 2),
        "rss_index_mb": round(rss_after - rss_before, 1),
        "rss_process_mb": rss_after,
        "queries": len(questions),
        "search_ms_p50": pct(total, 50),
        "search_ms_p95": pct(total, 95),
        "search_cpu_ms_p50": pct(cpu, 50),
        "search_cpu_ms_p95": pct(cpu, 95),
        "stages_ms_p50": {name: pct(ms, 50) for name, ms in stages.items()},
        "dense_index": type(index.dense.index).__name__,
        "top5_same_as_exhaustive": agreement,
    }


def exhaustive_agreement(searcher, questions: list[str]) -> float:
    """Share of questions whose top 5 equals that of scoring every passage (flat index, same vectors)."""
    from dataclasses import replace

    from assistant.answering.retrieve import Searcher

    flat = DenseIndex.build(searcher.index.dense.matrix, ann_threshold=searcher.index.dense.size)
    exact = Searcher(replace(searcher.index, dense=flat), searcher.embedder)
    same = 0
    for q in questions:
        scores = searcher.score(q)
        mine = [h.chunk.chunk_id for h in searcher.hits(scores, 5)]
        theirs = exact.hits(exact.score_query(scores.query_vector, scores.query_terms), 5)
        same += mine == [h.chunk.chunk_id for h in theirs]
    return round(same / len(questions), 3)


def stage_times(searcher, question: str) -> dict[str, float]:
    """Where a search spends its time, stage by stage (the calls ``Searcher.search`` makes)."""
    out: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        out[name] = (now - clock) * 1000
        clock = now

    normalized = normalize(question)
    qv = searcher.embedder.embed([normalized], kind="query")[0]
    lap("embed_query")
    q_terms = terms(normalized)
    lap("terms")
    searcher.index.sparse.scores(q_terms)
    lap("bm25_alone")
    scores = searcher.score_query(qv, q_terms)
    lap("score_query (bm25 + dense + fusion)")
    searcher.hits(scores, 5)
    lap("top_k_hits")
    return out


def run_size(n: int, texts: list[str], vectors: np.ndarray, embedder: Embedder, questions: list[str]) -> dict:
    source, vecs = scaled(texts, vectors, n)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        folder = Path(tmp) / "index"
        started = time.perf_counter()
        write_index(folder, texts, source, vecs, embedder)
        write_s = time.perf_counter() - started
        qfile = Path(tmp) / "questions.json"
        qfile.write_text(json.dumps(questions, ensure_ascii=False), encoding="utf-8")
        say(f"{n} chunks written in {write_s:.1f}s; measuring in a fresh process …")
        out = subprocess.run(
            [sys.executable, __file__, "--measure", str(folder), "--questions-file", str(qfile)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        result = json.loads(out.stdout)
        result["disk_mb"] = disk_mb(folder)
    real = min(n, len(texts))
    result["vectors"] = (
        f"{real} real e5 passage vectors"
        + (f" + {n - real} synthetic (real vector + noise of norm {NOISE}, renormalized; texts repeated)"
           if n > real else "")
    )  # fmt: skip
    result["index_write_s"] = round(write_s, 1)
    return {"chunks": n, **result}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--eval-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "eval"
    )
    parser.add_argument("--chunks", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--reuse", action="store_true", help="never embed: use only passages already cached")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--questions-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        questions = json.loads(args.questions_file.read_text(encoding="utf-8"))
        print(json.dumps(measure(args.measure, questions)))
        return

    settings = Settings.from_env()
    embedder = Embedder(settings, say=say)
    contexts, questions = read_eval(args.eval_dir)
    rng = np.random.default_rng(1)
    picked = [questions[i] for i in sorted(rng.choice(len(questions), args.queries, replace=False))]
    texts = passage_texts(contexts, min(max(args.chunks), REAL_MAX))
    say(f"{len(texts)} passages; fetching or embedding their vectors …")
    texts, vectors = real_vectors(settings, embedder, texts, args.reuse)
    say(f"{len(texts)} real passage vectors")
    table = {}
    for n in args.chunks:
        table[str(n)] = run_size(n, texts, vectors, embedder, picked)
        say(json.dumps({n: table[str(n)]}, ensure_ascii=False))
    print(json.dumps(table, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
