"""Soak: many new sessions and questions, then idle past the state expiry; the server's memory comes back.

    python bench/soak.py [--home DIR] [--sessions 2000] [--questions 500] [--idle-s 60] [--port 7993]

Starts `assistant serve` with a throwaway ASSISTANT_HOME (the converted
model borrowed from --home), Gradio's per-session state expiring after
--idle-s, and limits wide enough that nothing here is refused (this measures
memory, not limits).  After a warm-up it reads the server's resident memory
(VmRSS), opens --sessions new sessions the way a page does (the page-load
event with a fresh session id each), asks --questions questions over /ask
from 25 loopback addresses, reads the memory again, waits the expiry time
and a sweep, and reads it a last time.  Prints one JSON object; the issue's
bar is the last reading within 50 MB of the first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
from server_kit import HOST, start_server, wait_ready

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "ارکان اعتماد در روابط عمومی کدام‌اند؟",
    "شفافیت به چه معناست؟",
    "چه عواملی باعث از دست رفتن اعتماد به سازمان می‌شود؟",
    "پاسخگویی یعنی چه؟",
    "قیمت بیت کوین امروز چند است؟",
]
WIDE = {  # nothing in a soak should be refused
    "ASSISTANT_RATE_PER_MINUTE": "6000", "ASSISTANT_RATE_BURST": "500", "ASSISTANT_MAX_INFLIGHT": "16",
    "ASSISTANT_REQUESTS_PER_MINUTE": "60000", "ASSISTANT_REQUEST_BURST": "5000",
}  # fmt: skip


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def page_load_event(base: str) -> int:
    """The event every page view runs (the overview, on load), from /config."""
    config = httpx.get(f"{base}/config", timeout=30).json()
    for dep in config["dependencies"]:
        if dep.get("backend_fn") and any(t[1] == "load" for t in dep.get("targets", [])):
            return dep["id"]
    raise SystemExit("no page-load event in /config")


async def new_sessions(base: str, fn_index: int, count: int, concurrency: int = 8) -> Counter:
    outcomes: Counter[str] = Counter()
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=60) as http:

        async def one() -> None:
            async with limit:
                body = {"data": [], "fn_index": fn_index, "session_hash": uuid.uuid4().hex[:11]}
                for _ in range(100):  # Gradio's queue full (503): wait for it, as a page would retry
                    response = await http.post(f"{base}/gradio_api/queue/join", json=body)
                    if response.status_code != 503:
                        break
                    await asyncio.sleep(0.25)
                outcomes[f"HTTP {response.status_code}"] += 1

        await asyncio.gather(*(one() for _ in range(count)))
    return outcomes


async def ask(base: str, count: int, addresses: int = 25, concurrency: int = 10) -> Counter:
    outcomes: Counter[str] = Counter()
    limit = asyncio.Semaphore(concurrency)
    clients = [
        httpx.AsyncClient(timeout=120, transport=httpx.AsyncHTTPTransport(local_address=f"127.0.50.{n + 2}"))
        for n in range(addresses)
    ]

    async def one(n: int) -> None:
        async with limit:
            http = clients[n % addresses]
            started = await http.post(f"{base}/gradio_api/call/ask", json={"data": [QUESTIONS[n % 5], None]})
            if started.status_code != 200:
                outcomes[f"HTTP {started.status_code}"] += 1
                return
            url = f"{base}/gradio_api/call/ask/{started.json()['event_id']}"
            async with http.stream("GET", url) as stream:
                async for line in stream.aiter_lines():
                    if line.startswith("event:") and line[6:].strip() in ("complete", "error"):
                        outcomes[line[6:].strip()] += 1
                        return

    try:
        await asyncio.gather(*(one(n) for n in range(count)))
    finally:
        for http in clients:
            await http.aclose()
    return outcomes


def soak(home: Path | None, code: Path, port: int, sessions: int, questions: int, idle_s: int) -> dict:
    base = f"http://{HOST}:{port}"
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as name:
        tmp = Path(name)
        server_home = tmp / "home"
        server_home.mkdir()
        if home and (home / "models").is_dir():
            (server_home / "models").symlink_to((home / "models").resolve())
        if home and (home / "embeddings.sqlite").is_file():
            shutil.copy2(home / "embeddings.sqlite", server_home / "embeddings.sqlite")
        proc = start_server(
            code, server_home, tmp, port, {**WIDE, "ASSISTANT_STATE_IDLE_S": str(idle_s)}, True
        )
        try:
            wait_ready(base, proc)
            asyncio.run(ask(base, 20, addresses=5))  # first answers embed sentences; then the start figure
            time.sleep(3)
            result: dict = {"rss_start_mb": round(rss_mb(proc.pid), 1)}
            started = time.perf_counter()
            result["sessions"] = dict(asyncio.run(new_sessions(base, page_load_event(base), sessions)))
            result["questions"] = dict(asyncio.run(ask(base, questions)))
            result["load_s"] = round(time.perf_counter() - started, 1)
            time.sleep(2)
            result["rss_after_load_mb"] = round(rss_mb(proc.pid), 1)
            time.sleep(idle_s + min(60, max(1, idle_s / 4)) + 5)  # the expiry, and one sweep after it
            result["rss_after_idle_mb"] = round(rss_mb(proc.pid), 1)
            dropped = re.findall(r"dropped the state of (\d+) idle", (tmp / "server.log").read_text())
            result["sessions_dropped"] = sum(int(n) for n in dropped)
        finally:
            proc.terminate()
            proc.wait(30)
    result["growth_after_idle_mb"] = round(result["rss_after_idle_mb"] - result["rss_start_mb"], 1)
    return {"idle_s": idle_s, **result}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("ASSISTANT_HOME", "")) or None)
    parser.add_argument("--code", type=Path, default=ROOT)
    parser.add_argument("--port", type=int, default=7993)
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--idle-s", type=int, default=60, help="ASSISTANT_STATE_IDLE_S of the server")
    args = parser.parse_args()
    result = soak(args.home, args.code.resolve(), args.port, args.sessions, args.questions, args.idle_s)
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
