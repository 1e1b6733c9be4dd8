"""The index folder: build, info, mismatch refusal, crash safety, bad files, updates."""

from __future__ import annotations

import json
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.answering.retrieve import Searcher
from assistant.cli import main
from assistant.core.settings import Settings
from assistant.indexing import IndexMismatch, build_index, current_build, load_index
from assistant.model.embed import Embedder

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "000_trust_building_webinar.md"
WORDS = [
    "اعتماد",
    "سازمان",
    "رسانه",
    "مخاطب",
    "پیام",
    "بحران",
    "شفافیت",
    "گزارش",
    "مدیر",
    "کارکنان",
    "مشتری",
    "برند",
    "اعتبار",
    "ارتباط",
    "گفتگو",
    "تصمیم",
    "برنامه",
    "پژوهش",
    "آموزش",
    "خبر",
    "شبکه",
    "روابط",
    "عمومی",
    "سیاست",
    "افکار",
    "جامعه",
    "فرهنگ",
    "نقش",
]


RUN = uuid.uuid4().hex  # texts unique to this run: the embedding cache has never seen them


def persian_doc(seed: int, sentences: int = 12) -> str:
    rng = random.Random(seed)
    lines = [" ".join(rng.choice(WORDS) for _ in range(14)) + "." for _ in range(sentences)]
    return f"{RUN}\n" + "\n".join(lines)


def make_settings(tmp_path: Path, home: Path, **files: str) -> Settings:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return Settings.from_env(home=home, corpus_dir=corpus, index_dir=tmp_path / "index")


def test_info_json_describes_the_index(assistant, settings):
    result = CliRunner().invoke(main, ["index", "info", "--json", "--index", str(settings.index_dir)])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    for key in (
        "format_version",
        "embedding_model",
        "model_fingerprint",
        "dimension",
        "normalizer_version",
        "documents",
        "chunks",
        "built_at",
    ):
        assert key in info
    assert info["dimension"] == 384
    assert info["documents"] == len(assistant.index.documents) >= 1
    assert info["chunks"] == len(assistant.index.chunks)


def test_index_built_with_another_model_is_refused(assistant, settings, embedder, tmp_path):
    other = tmp_path / "other-model"
    shutil.copytree(embedder.path, other, ignore=shutil.ignore_patterns("model.safetensors"))
    (other / "model.safetensors").symlink_to(Path(embedder.path) / "model.safetensors")
    config = json.loads((other / "config_sentence_transformers.json").read_text())
    config["prompts"] = {"query": "", "passage": ""}  # same weights, other vectors: another model
    (other / "config_sentence_transformers.json").write_text(json.dumps(config))
    other_embedder = Embedder(replace(settings, embed_model=str(other)))
    assert other_embedder.fingerprint != embedder.fingerprint
    with pytest.raises(IndexMismatch) as error:
        load_index(settings.index_dir, other_embedder)
    assert "assistant index build" in str(error.value)
    assert "مدل" in str(error.value)


def test_killed_build_leaves_the_old_index_serving(home, embedder, tmp_path):
    settings = make_settings(tmp_path, home, **{"seed.md": SEED.read_text(encoding="utf-8")})
    build_index(settings, embedder=embedder)
    before = current_build(settings.index_dir)
    for i in range(80):
        (settings.corpus_dir / f"extra-{i:03d}.txt").write_text(persian_doc(1000 + i), encoding="utf-8")

    env = {**os.environ, "ASSISTANT_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "assistant",
            "index",
            "build",
            "--corpus",
            str(settings.corpus_dir),
            "--index",
            str(settings.index_dir),
        ],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    seen = ""
    deadline = time.time() + 240
    while "embed:" not in seen and time.time() < deadline and proc.poll() is None:  # wait for embedding
        ready, _, _ = select.select([proc.stderr], [], [], 1.0)
        if ready:
            seen += os.read(proc.stderr.fileno(), 4096).decode(errors="replace")
    assert proc.poll() is None, f"build finished before it could be killed: {seen[-500:]}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    assert current_build(settings.index_dir) == before
    index = load_index(settings.index_dir, embedder)
    assert len(index.documents) == 1
    hits = Searcher(index, embedder).search("ارکان اعتماد", 3)
    assert hits and hits[0].chunk.doc_id == "seed.md"

    report = build_index(settings, embedder=embedder)  # the next build cleans up and completes
    assert report.documents == 81
    assert not list((settings.index_dir / "builds").glob(".tmp-*"))
    assert current_build(settings.index_dir) != before


def test_bad_files_are_reported_not_fatal(home, fake_encoder, tmp_path):
    settings = make_settings(
        tmp_path, home, **{"seed.md": SEED.read_text(encoding="utf-8"), "empty.txt": "  \n"}
    )
    (settings.corpus_dir / "broken.pdf").write_bytes(os.urandom(2048))
    (settings.corpus_dir / "sheet.xlsx").write_bytes(b"PK\x03\x04 not really")
    (settings.corpus_dir / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    report = build_index(settings, embedder=fake_encoder)
    assert report.documents == 1
    skipped = {s.path: s.reason for s in report.skipped}
    assert set(skipped) == {"empty.txt", "broken.pdf", "sheet.xlsx", "latin1.txt"}
    assert all(" / " in reason for reason in skipped.values())  # Persian / English
    result = CliRunner().invoke(main, ["index", "info", "--index", str(settings.index_dir)])
    assert "skipped: broken.pdf" in result.output


def test_update_reembeds_only_changed_chunks(home, fake_encoder, tmp_path):
    settings = make_settings(
        tmp_path, home, **{"a.txt": persian_doc(1), "b.txt": persian_doc(2), "c.txt": persian_doc(3)}
    )
    first = build_index(settings, embedder=fake_encoder, use_cache=False)
    assert first.embedded == first.chunks and first.reused == 0
    old_hashes = {c.text_hash for c in load_index(settings.index_dir, fake_encoder).chunks}

    unchanged = build_index(settings, embedder=fake_encoder)
    assert (unchanged.embedded, unchanged.reused) == (0, first.chunks)

    (settings.corpus_dir / "b.txt").write_text(
        persian_doc(2) + "\nاین جملهٔ تازه‌ای دربارهٔ اعتماد است.", "utf-8"
    )
    (settings.corpus_dir / "d.txt").write_text(persian_doc(4), encoding="utf-8")
    (settings.corpus_dir / "c.txt").unlink()
    update = build_index(settings, embedder=fake_encoder)
    new_hashes = [c.text_hash for c in load_index(settings.index_dir, fake_encoder).chunks]
    fresh = set(new_hashes) - old_hashes
    assert update.embedded == len(fresh) >= 2  # b's changed chunk(s) and d's
    assert update.reused == len(new_hashes) - update.embedded > 0
    assert update.removed_documents == ["c.txt"]
    assert update.documents == 3


@pytest.fixture
def small_disk(tmp_path):
    """A 160 KiB tmpfs: room for a tiny index, not for a bigger one (needs root, as in CI)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_disk_full_mid_build_keeps_the_old_index(home, fake_encoder, tmp_path, small_disk):
    from assistant.indexing.layout import BuildFailed

    settings = make_settings(tmp_path, home, **{"a.txt": persian_doc(7, 4)})
    settings = replace(settings, index_dir=small_disk / "index")
    build_index(settings, embedder=fake_encoder)
    before = current_build(settings.index_dir)
    for i in range(60):
        (settings.corpus_dir / f"big-{i:02d}.txt").write_text(persian_doc(2000 + i, 20), encoding="utf-8")
    with pytest.raises(BuildFailed, match="Disk full") as error:
        build_index(settings, embedder=fake_encoder)
    assert "دیسک پر است" in str(error.value)
    assert current_build(settings.index_dir) == before
    assert len(load_index(settings.index_dir, fake_encoder).documents) == 1
    assert not list((settings.index_dir / "builds").glob(".tmp-*"))
