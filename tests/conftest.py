"""Shared, session-scoped parts: the real converted model and an index of corpus/, and the fakes.

Nothing here touches the real ``index/`` or the user's cache: ASSISTANT_HOME
and every index live under pytest's tmp dirs (the converted model is built
once per session).  What a test needs is a marker: ``model`` (the real e5),
``server`` (the real Gradio server), ``browser`` (headless Chromium),
``postgres`` (a real PostgreSQL server).  Tests get them from the fixtures
they use (below) or from a ``pytestmark``; ``make test-fast`` runs the tests
that need none of them, on ``fakes.HashEncoder`` where they need an encoder.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

import pytest

import assistant.web  # before any test imports Gradio: its stub writer is skipped (web.gradio_import)

ROOT = Path(__file__).resolve().parent.parent
QA_FILE = ROOT / "tests" / "data" / "qa.jsonl"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

#: fixture → what a test that uses it needs
NEEDS = {
    "embedder": "model",
    "assistant": "model",
    "serve_ui": "server",
    "browser": "browser",
    "postgres_server": "postgres",
}


def pytest_collection_modifyitems(items):
    """Mark each test by the real parts its fixtures bring (the postgres half of a store test too)."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for fixture, marker in NEEDS.items():
            if fixture in used:
                item.add_marker(marker)
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "postgres" in (params.get("database_url"), params.get("two_databases")):
            item.add_marker("postgres")
        if item.get_closest_marker("browser"):
            item.add_marker("server")


@pytest.fixture(scope="session", autouse=True)
def home(tmp_path_factory):
    """Every test runs with ASSISTANT_HOME in a tmp dir, never the user's cache.

    ASSISTANT_TEST_HOME reuses a converted model between local runs.
    """
    path = Path(os.environ.get("ASSISTANT_TEST_HOME") or tmp_path_factory.mktemp("home"))
    if not os.environ.get("ASSISTANT_TEST_HOME"):  # one converted model for both xdist workers
        (path / "models").symlink_to(_shared_models(tmp_path_factory), target_is_directory=True)
    previous = os.environ.get("ASSISTANT_HOME")
    os.environ["ASSISTANT_HOME"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("ASSISTANT_HOME", None)
    else:
        os.environ["ASSISTANT_HOME"] = previous


@pytest.fixture(scope="session")
def settings(home, tmp_path_factory):
    from assistant.core.settings import Settings

    corpus = tmp_path_factory.mktemp("corpus")
    for file in (ROOT / "corpus").iterdir():
        if file.is_file():
            shutil.copy(file, corpus / file.name)
    return Settings.from_env(home=home, corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="session")
def fake_encoder():
    """A deterministic hash embedder (``fakes.HashEncoder``): pure logic without the model."""
    from fakes import HashEncoder

    return HashEncoder()


@pytest.fixture(scope="session")
def embedder(settings):
    from assistant.model.embed import Embedder
    from assistant.model.install import install_model

    install_model(settings.models_dir)  # graph and folder: the first worker converts, the other waits for it
    return Embedder(settings)


def _shared_models(tmp_path_factory) -> Path:
    """The models folder every test home links to: this run's, shared by its xdist workers."""
    base = tmp_path_factory.getbasetemp()
    models = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared-models"
    models.mkdir(exist_ok=True)
    return models


@pytest.fixture(scope="session")
def assistant(settings, embedder):
    from assistant.pipeline import Assistant

    return Assistant(settings, embedder=embedder)


@pytest.fixture(scope="session")
def qa_items():
    return [json.loads(line) for line in QA_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]


#: per-client limits out of the way, for servers whose tests ask from one address faster than a student
#: can type: the limits have their own tests (test_limits_server, test_serving), with their own settings
ROOMY_LIMITS = {
    "rate_per_minute": 6000,
    "rate_burst": 500,
    "requests_per_minute": 60000,
    "request_burst": 5000,
}


def corpus_settings(base: Path, home: Path, **overrides):
    """Settings over a fresh copy of ``corpus/`` in ``base``: for tests that change or add documents."""
    from assistant.core.settings import Settings

    shutil.copytree(ROOT / "corpus", base / "corpus")
    return Settings(corpus_dir=base / "corpus", index_dir=base / "index", home=home, **overrides)


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


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by Playwright (see ``browser_kit.py``)."""
    from browser_kit import CHROMIUM, CHROMIUM_ARGS, sync_api

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class FakeOpenAIServer:
    """A fake LLM server: speaks the OpenAI chat-completions protocol on 127.0.0.1, with scripted replies.

    ``reply`` maps the prompt to the reply text (so a script can cite the passage
    that holds a phrase, whatever order retrieval put it in).  Streaming requests
    get server-sent events, a few characters a chunk, then ``[DONE]``.
    """

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                text = server.reply(body["messages"][-1]["content"])
                if body.get("stream"):
                    self._stream(body, text)
                else:
                    self._send(200, "application/json", json.dumps(server.completion(body, text)).encode())

            def _send(self, status, content_type, data):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body, text):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for chunk in server.chunks(body, text):
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.requests: list[dict] = []
        self.reply = lambda prompt: ""
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @staticmethod
    def completion(body: dict, text: str) -> dict:
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }

    @staticmethod
    def chunks(body: dict, text: str, size: int = 7):
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0}
        base["model"] = body["model"]
        yield {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}
        for i in range(0, len(text), size):
            yield {**base, "choices": [{"index": 0, "delta": {"content": text[i : i + size]}}]}
        yield {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def fake_llm_server():
    server = FakeOpenAIServer()
    yield server
    server.close()
