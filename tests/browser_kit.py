"""Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by Playwright.

Every page records each request it makes, so a test can assert that none
leaves the machine; screenshots go to ``artifacts/`` at the repository root.
"""

from __future__ import annotations

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

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()
