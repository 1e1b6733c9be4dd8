"""One real `assistant serve` for the benches that need a server (attack, soak): started, waited for."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

HOST = "127.0.0.1"


def start_server(
    code: Path,
    home: Path,
    tmp: Path,
    port: int,
    env: dict[str, str] | None = None,
    verbose: bool = False,
    corpus: Path | None = None,
) -> subprocess.Popen:
    """The server from ``code`` on ``corpus`` (default ``code/corpus``), its index and log (``server.log``)
    in ``tmp``."""
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(code), "ASSISTANT_HOME": str(home),
           "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "ASSISTANT_INDEX": str(tmp / "index"),
           "ASSISTANT_CORPUS": str(corpus or code / "corpus")}  # fmt: skip
    log = (tmp / "server.log").open("w")
    command = [sys.executable, "-m", "assistant", *(["-v"] if verbose else []), "serve"]
    command += ["--host", HOST, "--port", str(port)]
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp)


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 600, poll: float = 0.5) -> None:
    """Until the page answers (asked every ``poll`` seconds); a server that exits first ends the bench."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(base + "/", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(poll)
    raise SystemExit("server did not come up")


def borrow_home(source: Path, tmp: Path) -> Path:
    """A fresh ASSISTANT_HOME in ``tmp`` that links the converted model of ``source`` (no log shared)."""
    home = tmp / "home"
    home.mkdir()
    if (source / "models").is_dir():
        (home / "models").symlink_to((source / "models").resolve())
    if (source / "embeddings.sqlite").is_file():
        shutil.copy2(source / "embeddings.sqlite", home / "embeddings.sqlite")
    return home
