"""Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by Playwright.

Every page records each request it makes, so a test can assert that none
leaves the machine; screenshots go to ``artifacts/`` at the repository root.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest

sync_api = pytest.importorskip("playwright.sync_api")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = PROJECT_ROOT / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class Page:
    """A fresh page that records every request it makes."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="fa-IR")
        self.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.requests.append(f"pageerror:{e}"))
        self.page.goto(url)
        self.page.locator("#pr-question textarea").wait_for()

    def outside_requests(self) -> list[str]:
        local = {"127.0.0.1", "localhost", "::1", "[::1]"}
        return [
            u for u in self.requests
            if not u.startswith(("data:", "blob:")) and urlsplit(u).hostname not in local
        ]  # fmt: skip

    def ask(self, question: str) -> None:
        self.page.locator("#pr-question textarea").fill(question)
        self.page.locator("#pr-ask").click()

    def sign_in(self, password: str) -> None:
        """The header's staff sign-in: open it (a student's page keeps it folded), type, submit."""
        box = self.page.locator("#pr-password input")
        if not box.is_visible():
            self.page.locator("#pr-staff").get_by_text("staff sign-in").click()
        box.fill(password)
        self.page.locator("#pr-login").click()

    def tabs(self) -> list[str]:
        """The labels of the tabs this page shows."""
        return [t.strip() for t in self.page.get_by_role("tab").all_inner_texts()]

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()


class LoopbackRelay:
    """A TCP relay that reaches a local server from another loopback address (default 127.0.0.2).

    A browser cannot choose its source address; through this relay the
    server sees a second client, as it would a second student's machine.
    """

    def __init__(self, target_port: int, source: str = "127.0.0.2"):
        import socket
        import threading

        self.target, self.source = ("127.0.0.1", target_port), source
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._threading = threading
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket

        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(self.target, source_address=(self.source, 0))
            for a, b in ((client, upstream), (upstream, client)):
                self._threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(2)

    def close(self) -> None:
        self.listener.close()
