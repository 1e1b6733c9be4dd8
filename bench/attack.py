"""The issue-16 flood on the real server: rotating session ids and rotating X-Forwarded-For, one machine.

    python bench/attack.py [--home DIR] [--code DIR] [--port 7992] [--seconds 60] [--workers 16]

Starts `assistant serve` (from --code, default this checkout; give a copy of
another commit to measure it the same way) with a throwaway ASSISTANT_HOME
borrowing the converted model from --home, on 127.0.0.1.  A neighbour on its
own loopback address asks a question every 3.5 s, first alone, then while
an attacker on 127.0.0.1 (its own process; the address uvicorn's default
trusts for X-Forwarded-For) floods for
--seconds with --workers concurrent loops, half of them through the chat's
own event (`/gradio_api/queue/join`, a fresh session id every time) and half
through `/gradio_api/call/ask` with a fresh `X-Forwarded-For` every time.

How many answers the attacker got is read from the server's question log
(every answer is logged), minus the neighbour's; the policy allows the
burst plus the per-minute rate.  Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import numpy as np
from server_kit import HOST, start_server, wait_ready

ROOT = Path(__file__).resolve().parent.parent
NEIGHBOUR, ATTACKER = "127.0.40.2", "127.0.0.1"  # uvicorn's default believes X-Forwarded-For from 127.0.0.1
QUESTIONS = [
    "ارکان اعتماد در روابط عمومی کدام‌اند؟",
    "شفافیت به چه معناست؟",
    "چه عواملی باعث از دست رفتن اعتماد به سازمان می‌شود؟",
    "پاسخگویی یعنی چه؟",
]
PAUSE_S = 3.5


def chat_event(base: str) -> tuple[int, int]:
    """The chat's own event (the one the question box submits) and its number of inputs, from /config."""
    config = httpx.get(f"{base}/config", timeout=30).json()
    box = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "pr-question")
    for dep in config["dependencies"]:
        if dep.get("backend_fn") and dep["inputs"] and dep["inputs"][0] == box and len(dep["inputs"]) == 4:
            return dep["id"], len(dep["inputs"])
    raise SystemExit("no chat event in /config")


def answers_logged(home: Path) -> int:
    with sqlite3.connect(home / "feedback.sqlite") as db:
        return db.execute("SELECT count(*) FROM answers").fetchone()[0]


def client(source: str, timeout: float = 60) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=10),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=100),
        transport=httpx.AsyncHTTPTransport(local_address=source),
    )


async def ask_once(http: httpx.AsyncClient, base: str, question: str) -> tuple[str, float]:
    started = time.perf_counter()
    submitted = await http.post(f"{base}/gradio_api/call/ask", json={"data": [question, None]})
    if submitted.status_code != 200:
        return f"HTTP {submitted.status_code}", time.perf_counter() - started
    event = ""
    async with http.stream("GET", f"{base}/gradio_api/call/ask/{submitted.json()['event_id']}") as stream:
        async for line in stream.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                return ("ok" if event == "complete" else "error"), time.perf_counter() - started
    return "no result", time.perf_counter() - started


async def neighbour(base: str, count: int) -> list[tuple[str, float]]:
    done = []
    async with client(NEIGHBOUR) as http:
        for n in range(count):
            started = time.perf_counter()
            done.append(await ask_once(http, base, QUESTIONS[n % len(QUESTIONS)]))
            await asyncio.sleep(max(0.0, PAUSE_S - (time.perf_counter() - started)))
    return done


async def _flood(base: str, seconds: float, workers: int, event: tuple[int, int]) -> dict:
    sent: Counter[str] = Counter()
    stop = time.monotonic() + seconds
    fn_index, n_inputs = event

    async def by_session(http: httpx.AsyncClient) -> None:
        while time.monotonic() < stop:
            data = [QUESTIONS[0], [], *([None] * (n_inputs - 2))]
            body = {"data": data, "fn_index": fn_index, "session_hash": uuid.uuid4().hex[:11]}
            response = await http.post(f"{base}/gradio_api/queue/join", json=body)
            sent[f"queue/join new session: HTTP {response.status_code}"] += 1

    async def by_header(http: httpx.AsyncClient, n: int) -> None:
        while time.monotonic() < stop:
            n += 1
            forged = {"X-Forwarded-For": f"10.{n % 250}.{n // 250 % 250}.{n % 200 + 1}"}
            response = await http.post(f"{base}/gradio_api/call/ask", json={"data": [QUESTIONS[1], None]},
                                       headers=forged)  # fmt: skip
            sent[f"call/ask new X-Forwarded-For: HTTP {response.status_code}"] += 1

    async with client(ATTACKER) as http:
        loops = [by_session(http) if i % 2 == 0 else by_header(http, i * 100_000) for i in range(workers)]
        await asyncio.gather(*loops, return_exceptions=True)
    return dict(sent)


def attacker_process(base: str, seconds: float, workers: int, event: tuple[int, int], out) -> None:
    out.put(asyncio.run(_flood(base, seconds, workers, event)))


def summary(results: list[tuple[str, float]]) -> dict:
    ok = [s for kind, s in results if kind == "ok"]
    return {
        "outcomes": dict(Counter(kind for kind, _ in results)),
        "p50_s": round(float(np.median(ok)), 3) if ok else None,
        "max_s": round(max(ok), 3) if ok else None,
        "each_s": [round(s, 3) for _, s in results],
    }


async def run(base: str, home: Path, args: argparse.Namespace) -> dict:
    await neighbour(base, 2)  # the first answers embed sentences: not part of "quiet"
    quiet = await neighbour(base, args.questions)
    before = answers_logged(home)
    spawn = multiprocessing.get_context("spawn")
    out = spawn.Queue()
    attacker = spawn.Process(
        target=attacker_process, args=(base, args.seconds, args.workers, chat_event(base), out)
    )
    attacker.start()
    await asyncio.sleep(1.0)  # the flood is running
    loud = await neighbour(base, max(1, int((args.seconds - 2) / PAUSE_S)))
    sent = await asyncio.to_thread(out.get, True, args.seconds + 120)
    attacker.join(30)
    await asyncio.sleep(5)  # whatever the attacker got in is answered and logged by now
    got = answers_logged(home) - before - sum(kind == "ok" for kind, _ in loud)
    quiet_s, loud_s = summary(quiet), summary(loud)
    return {
        "attack_seconds": args.seconds,
        "attacker_requests": sent,
        "attacker_answers": got,
        "attacker_answers_per_minute": round(got * 60 / args.seconds, 1),
        "policy_allows": f"{args.burst} back to back, then {args.per_minute} a minute: at most "
        f"{args.burst + int(args.per_minute * args.seconds / 60)} in {args.seconds:.0f} s",
        "neighbour_quiet": quiet_s,
        "neighbour_during_attack": loud_s,
        "ratio_slowest_to_quiet_slowest": round(loud_s["max_s"] / quiet_s["max_s"], 2)
        if loud_s["max_s"]
        else None,
        "ratio_slowest_to_quiet_p50": round(loud_s["max_s"] / quiet_s["p50_s"], 2)
        if loud_s["max_s"]
        else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("ASSISTANT_HOME", "")) or None)
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose server is attacked")
    parser.add_argument("--port", type=int, default=7992)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--questions", type=int, default=16, help="the neighbour's quiet questions")
    parser.add_argument(
        "--burst", type=int, default=5, help="the server's ASSISTANT_RATE_BURST (for the report)"
    )
    parser.add_argument("--per-minute", type=int, default=20, help="its ASSISTANT_RATE_PER_MINUTE")
    args = parser.parse_args()
    base = f"http://{HOST}:{args.port}"
    with tempfile.TemporaryDirectory(prefix="bench-attack-") as name:
        tmp = Path(name)
        home = tmp / "home"
        home.mkdir()
        if args.home and (args.home / "models").is_dir():
            (home / "models").symlink_to((args.home / "models").resolve())
        if args.home and (args.home / "embeddings.sqlite").is_file():
            shutil.copy2(args.home / "embeddings.sqlite", home / "embeddings.sqlite")
        proc = start_server(args.code.resolve(), home, tmp, args.port)
        try:
            wait_ready(base, proc)
            result = asyncio.run(run(base, home, args))
        finally:
            proc.terminate()
            proc.wait(30)
    print(json.dumps({"code": str(args.code), **result}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
