"""The chat as students see it: first token and full answer in real headless browsers, 1 and N at once.

    python bench/chat_browser.py [--code DIR] [--home DIR] [--clients 1 10] [--questions 3] [--port 7993]

Starts `assistant serve` from --code (default: this checkout; give another
checkout, e.g. `git archive d03ccdd | tar -x -C /tmp/orig`, to measure it the
same way) with a temporary index of this checkout's corpus/ and the converted
model borrowed from --home.  Each simulated student is a fresh page in
Debian's Chromium (Playwright), reaching the server through its own loopback
address (a relay from 127.0.0.x, as a student's own machine), and asks
--questions questions in one conversation.  The page's own clock
(``performance.now()``) times each question from the click on «بپرس» to:

- first token: the answer's first words replace the "searching" line;
- full answer: the last frame (no streaming cursor ▍) is on the page.

Prints one JSON object: per concurrency level the samples' p50 / p95 / max
of both, failures, and the machine's load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import server_kit  # noqa: E402
from browser_kit import CHROMIUM, CHROMIUM_ARGS, LoopbackRelay  # noqa: E402
from server_kit import borrow_home  # noqa: E402

QUESTIONS = [
    "ارکان اعتماد در روابط عمومی کدام‌اند؟",
    "چه عواملی باعث از دست رفتن اعتماد به سازمان می‌شود؟",
    "شفافیت به چه معناست؟",
    "پاسخگویی یعنی چه؟",
]

# Runs in the page: click «بپرس», watch the newest chat message, resolve with the page's own times.
ASK_JS = """
() => new Promise((resolve) => {
  const rows = () => document.querySelectorAll('#pr-chat .message-row');
  const before = rows().length;
  const t0 = performance.now();
  let first = null;
  const done = (full, error) => { observer.disconnect(); clearTimeout(timer);
    resolve({ first: first, full: full, error: error || null }); };
  const look = () => {
    const all = rows();
    if (all.length < before + 2) return;
    const text = all[all.length - 1].innerText || '';
    if (!text.trim() || text.includes('در حال جستجو')) return;
    if (first === null) first = performance.now() - t0;
    if (!text.includes('▍')) done(performance.now() - t0);
  };
  const observer = new MutationObserver(look);
  const watched = { childList: true, subtree: true, characterData: true };
  observer.observe(document.querySelector('#pr-chat'), watched);
  const timer = setTimeout(() => done(null, 'timeout'), 120000);
  document.querySelector('#pr-ask').click();
})
"""


def start_server(code: Path, tmp: Path, home: Path, port: int) -> tuple[subprocess.Popen, Path]:
    proc = server_kit.start_server(code, home, tmp, port, corpus=ROOT / "corpus")  # this checkout's corpus
    log = tmp / "server.log"
    started = time.monotonic()
    while "is ready at" not in log.read_text(encoding="utf-8", errors="replace"):
        if proc.poll() is not None or time.monotonic() - started > 600:
            proc.kill()
            raise SystemExit(f"server did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.5)
    return proc, log


async def student(browser, url: str, questions: list[str]) -> list[dict]:
    context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="fa-IR")
    try:
        page = await context.new_page()
        await page.goto(url)
        for ready in ("#pr-question textarea", "#pr-chat", "#pr-ask"):  # Gradio renders in steps
            await page.locator(ready).wait_for(timeout=120_000)
        samples = []
        for question in questions:
            try:
                await page.locator("#pr-question textarea").fill(question)
                await page.locator("#pr-ask").wait_for(timeout=30_000)
                samples.append(await page.evaluate(ASK_JS))
            except Exception as exc:  # counted as a failure, with what the page showed
                samples.append({"first": None, "full": None, "error": f"{type(exc).__name__}: {exc}"[:300]})
                if FAILURE_SHOTS:
                    await page.screenshot(path=str(FAILURE_SHOTS / f"failure-{id(page)}.png"), full_page=True)
        return samples
    finally:
        await context.close()


FAILURE_SHOTS: Path | None = None  # --failures DIR: a screenshot of each failed page


def summary(samples: list[dict]) -> dict:
    ok = [s for s in samples if s["error"] is None and s["full"] is not None]

    def stats(key: str) -> dict:
        values = np.array([s[key] for s in ok if s[key] is not None]) / 1000.0
        if not len(values):
            return {}
        return {
            "p50_s": round(float(np.percentile(values, 50)), 3),
            "p95_s": round(float(np.percentile(values, 95)), 3),
            "max_s": round(float(values.max()), 3),
        }

    errors = sorted({s["error"] for s in samples if s["error"]})
    return {"samples": len(samples), "failed": len(samples) - len(ok), "first_token": stats("first"),
            "full_answer": stats("full"), "errors": errors}  # fmt: skip


async def level(url_for, browser, clients: int, questions: int, offset: int) -> dict:
    plans = [[QUESTIONS[(offset + i + q) % len(QUESTIONS)] for q in range(questions)] for i in range(clients)]
    started = time.perf_counter()
    results = await asyncio.gather(*(student(browser, url_for(i), plan) for i, plan in enumerate(plans)))
    out = summary([s for r in results for s in r])
    return {"clients": clients, "wall_s": round(time.perf_counter() - started, 2), **out}


async def run(args: argparse.Namespace, port: int) -> dict:
    from playwright.async_api import async_playwright

    relays = [LoopbackRelay(port, source=f"127.0.0.{10 + i}") for i in range(max(args.clients))]
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                url_for = lambda i: f"http://127.0.0.1:{relays[i].port}/"  # noqa: E731
                await level(url_for, browser, 1, 2, 0)  # warm-up: first answers embed their sentences
                levels = []
                for n, clients in enumerate(args.clients):
                    levels.append(await level(url_for, browser, clients, args.questions, n))
                return {"levels": levels}
            finally:
                await browser.close()
    finally:
        for relay in relays:
            relay.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose server is measured")
    home = os.environ.get("ASSISTANT_HOME", "~/.cache/pr-assistant")
    parser.add_argument("--home", type=Path, default=Path(home), help="where the converted model is")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--questions", type=int, default=3, help="questions per student, one conversation")
    parser.add_argument("--port", type=int, default=7993)
    parser.add_argument("--failures", type=Path, help="save a screenshot of each failed page here")
    args = parser.parse_args()
    global FAILURE_SHOTS
    FAILURE_SHOTS = args.failures
    code = args.code.resolve()
    git = ["git", "-C", str(code), "rev-parse", "--short", "HEAD"]
    rev = subprocess.run(git, capture_output=True, text=True)
    with tempfile.TemporaryDirectory(prefix="chat-browser-") as name:
        tmp = Path(name)
        proc, _ = start_server(code, tmp, borrow_home(args.home.expanduser(), tmp), args.port)
        load_before = os.getloadavg()
        try:
            result = asyncio.run(run(args, args.port))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(json.dumps({
        "code": str(code), "revision": rev.stdout.strip() or None, "viewport": "390x844",
        "questions_per_student": args.questions,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        **result,
    }, ensure_ascii=False, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
