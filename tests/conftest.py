"""Shared, session-scoped real parts: the converted model, a built index of corpus/.

Nothing here touches the real ``index/`` or the user's cache: ASSISTANT_HOME
and every index live under pytest's tmp dirs (the converted model is built
once per session, ~20 s).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QA_FILE = ROOT / "tests" / "data" / "qa.jsonl"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture(scope="session", autouse=True)
def home(tmp_path_factory):
    """Every test runs with ASSISTANT_HOME in a tmp dir, never the user's cache.

    ASSISTANT_TEST_HOME reuses a converted model between local runs.
    """
    path = Path(os.environ.get("ASSISTANT_TEST_HOME") or tmp_path_factory.mktemp("home"))
    previous = os.environ.get("ASSISTANT_HOME")
    os.environ["ASSISTANT_HOME"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("ASSISTANT_HOME", None)
    else:
        os.environ["ASSISTANT_HOME"] = previous


@pytest.fixture(scope="session")
def settings(home, tmp_path_factory):
    from assistant.config import Settings

    corpus = tmp_path_factory.mktemp("corpus")
    for file in (ROOT / "corpus").iterdir():
        if file.is_file():
            shutil.copy(file, corpus / file.name)
    return Settings.from_env(home=home, corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="session")
def embedder(settings):
    from assistant.embed import Embedder

    return Embedder(settings)


@pytest.fixture(scope="session")
def assistant(settings, embedder):
    from assistant.pipeline import Assistant

    return Assistant(settings, embedder=embedder)


@pytest.fixture(scope="session")
def qa_items():
    return [json.loads(line) for line in QA_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def serve_ui():
    """Start the real Gradio app for some settings on a free port; all stop at module end."""
    from assistant.web import serve

    apps = []

    def start(settings) -> str:
        app = serve("127.0.0.1", free_port(), settings, block=False)
        apps.append(app)
        return app.local_url

    yield start
    for app in apps:
        app.close()
