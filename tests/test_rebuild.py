"""Builds in a child process (real CLI, real model) and the watcher that notices a new ``current``."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from assistant.core.records import BuildReport
from assistant.core.settings import Settings
from assistant.indexing import build_index, current_build, index_info, load_index
from assistant.indexing.jobs import build_command, start_build
from assistant.indexing.progress import BuildDone, BuildError, BuildProgress, parse_line, to_line
from assistant.indexing.watch import IndexWatcher

ROOT = Path(__file__).resolve().parent.parent


def add_document(corpus: Path) -> str:
    """A new document whose text no earlier run has embedded (the cache in ``home`` outlives runs)."""
    tag = uuid.uuid4().hex[:8]
    (corpus / "crisis.md").write_text(
        "---\ntitle: مدیریت بحران رسانه‌ای\n---\n"
        f"در بحران رسانه‌ای {tag}، سخنگوی سازمان باید در نخستین ساعت بیانیه‌ای کوتاه و صادقانه منتشر کند.\n"
        "پنهان‌کاری اعتماد مخاطبان را از بین می‌برد و شایعه را تقویت می‌کند.\n",
        encoding="utf-8",
    )
    return "crisis.md"


@pytest.fixture
def indexed(home, embedder, tmp_path) -> Settings:
    """A corpus copy with its own built index (the embedding cache in ``home`` keeps this quick)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for file in (ROOT / "corpus").iterdir():
        if file.is_file():
            shutil.copy(file, corpus / file.name)
    settings = Settings.from_env(home=home, corpus_dir=corpus, index_dir=tmp_path / "index")
    build_index(settings, embedder=embedder)
    return settings


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_watcher_fires_after_a_cli_update_in_another_process(indexed):
    before = current_build(indexed.index_dir)
    documents_before = index_info(indexed.index_dir)["documents"]
    seen: list[Path] = []
    fired = threading.Event()

    def reload(build: Path) -> None:
        seen.append(build)
        fired.set()

    with IndexWatcher(indexed.index_dir, reload):  # the production interval, ~2 s
        add_document(indexed.corpus_dir)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "assistant",
                "index",
                "update",
                "--corpus",
                str(indexed.corpus_dir),
                "--index",
                str(indexed.index_dir),
            ],
            env=child_env(),
            check=True,
            capture_output=True,
            timeout=600,
        )
        finished = time.monotonic()
        assert fired.wait(10), "the watcher did not notice the new build within 10 s"
        delay = time.monotonic() - finished
    assert seen == [current_build(indexed.index_dir)] and seen[0] != before
    assert delay < 10
    assert index_info(indexed.index_dir)["documents"] == documents_before + 1
    assert "crisis.md" in load_index(indexed.index_dir).documents


def test_watcher_keeps_going_after_a_failing_callback(indexed, embedder):
    calls: list[Path] = []

    def broken(build: Path) -> None:
        calls.append(build)
        raise RuntimeError("reload bug")

    watcher = IndexWatcher(indexed.index_dir, broken, current=None)  # nothing loaded yet
    assert watcher.poll() == current_build(indexed.index_dir)  # logged, not raised
    assert watcher.poll() is None  # not retried for the same build
    build_index(indexed, embedder=embedder)
    assert watcher.poll() == current_build(indexed.index_dir) and len(calls) == 2


def test_build_job_streams_progress_and_ends_with_a_report(indexed):
    add_document(indexed.corpus_dir)
    job = start_build(indexed, nice=0)  # nice: see the cancel test
    events = list(job.events())
    progress = [e for e in events if isinstance(e, BuildProgress)]
    assert {"chunk", "embed", "write"} <= {e.stage for e in progress}
    chunked = [e for e in progress if e.stage == "chunk"]
    assert chunked[-1].done == chunked[-1].total == len(list(indexed.corpus_dir.iterdir()))
    final = events[-1]
    assert isinstance(final, BuildDone) and job.last == final
    assert final.report.embedded >= 1 and final.report.reused >= 1  # only the new document
    assert final.report.index_path == str(current_build(indexed.index_dir))
    assert not job.running and job.process.returncode == 0


def test_a_second_build_reports_the_running_one_and_the_first_still_finishes(indexed):
    first = start_build(indexed, nice=0)
    events = first.events()
    try:
        assert isinstance(next(events), BuildProgress)  # it holds the build lock now
        os.kill(first.pid, signal.SIGSTOP)  # and keeps holding it while the second one starts
        second = start_build(indexed, nice=0)
        refused = second.wait()
        assert isinstance(refused, BuildError)
        assert "Another build of this index is running" in refused.message
        assert "ساخت دیگری در جریان است" in refused.message
    finally:
        os.kill(first.pid, signal.SIGCONT)
    assert isinstance(first.wait(), BuildDone)


def test_cancel_leaves_the_previous_index_in_place(indexed):
    before = current_build(indexed.index_dir)
    job = start_build(indexed, full=True)
    events = job.events()
    assert isinstance(next(events), BuildProgress)
    assert os.getpriority(os.PRIO_PROCESS, job.pid) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10)
    job.cancel()
    final = list(events)[-1]
    assert isinstance(final, BuildError) and "cancelled" in final.message and "لغو" in final.message
    assert current_build(indexed.index_dir) == before
    assert load_index(indexed.index_dir).chunks


def test_a_crashing_child_is_reported_with_its_last_error_line(indexed, tmp_path):
    settings = Settings.from_env(home=indexed.home, corpus_dir=indexed.corpus_dir, index_dir=tmp_path / "idx")
    (tmp_path / "idx").write_text("not a folder")  # the build cannot create its lock there
    final = start_build(settings, nice=0).wait()
    assert isinstance(final, BuildError)
    assert "ناموفق" in final.message and "(exit 1)" in final.message and "FileExistsError" in final.message


def test_command_and_event_parsing(indexed):
    command = build_command(indexed, full=True, nice=7)
    assert command[:4] == [sys.executable, "-m", "assistant.indexing", "build"]
    assert command[command.index("--nice") + 1] == "7"
    assert parse_line('{"stage": "embed", "done": 3, "total": 9}') == BuildProgress("embed", 3, 9)
    assert parse_line('{"error": "x / y"}') == BuildError("x / y")
    assert parse_line('{"done": true, "report": {"chunks": 2}}') == BuildDone(BuildReport(chunks=2))
    assert parse_line("Loading weights 100%") is None and parse_line("[1, 2]") is None
    for event in (BuildProgress("chunk", 1, 2), BuildError("x / y"), BuildDone(BuildReport(documents=3))):
        assert parse_line(to_line(event)) == event  # one format, written and read in one module
