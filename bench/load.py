"""Load on the real server: many students at once, arrival rates, one flooding client.

    python bench/load.py [--quick] [--port 7991] [--home DIR] [--clients 1 10 50] [--per-client 4]
                         [--rates 2 5 10] [--duration 15] [--flood 300] [--student 5]

Starts `assistant serve` on 127.0.0.1 with a temporary ASSISTANT_HOME (the
converted model is borrowed from --home, default the usual ASSISTANT_HOME,
when it is there; else it is converted first) and a temporary index built
from corpus/ on first start.  Questions are the project's own QA set
(tests/data/qa.jsonl: answerable and off-topic Persian PR questions), asked
through the named `/ask` API the way any HTTP client does
(`POST /gradio_api/call/ask`, then the result as server-sent events).  The
client side is asyncio + httpx, so it stays cheap beside the server.

Prints one JSON object:
- closed_loop: N clients each asking --per-client questions back to back:
  requests/s, p50/p95/max seconds, outcomes;
- open_loop: Poisson arrivals at each rate for --duration seconds, each a new
  visitor: p50/p95/max, outcomes (ok, rejected = HTTP refusal, error = an
  error event, timeout);
- flood: one client fires --flood `/ask` calls without waiting for answers
  while one student asks --student questions in turn; the student's latency
  against its quiet latency (ratio) and what happened to the flood.
Every simulated student, visitor and the flooder connects from its own
loopback address (127.x.y.z), so the server's per-address limits see them as
the separate machines they stand for.  Every stage is bounded in count and
time; the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
from server_kit import borrow_home

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
CLIENT_PROCESSES = 5


@dataclass
class Outcome:
    """One `/ask` call as the client saw it."""

    kind: str  # ok | rejected | error | timeout | failed
    seconds: float
    detail: str = ""
    abstained: bool = False


def read_questions(path: Path) -> list[str]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    answerable = [r["question"] for r in rows if r.get("answers")]
    off_topic = [r["question"] for r in rows if not r.get("answers")]
    mixed = []  # interleave so every client gets both kinds
    for i in range(max(len(answerable), len(off_topic))):
        mixed += answerable[i : i + 1] + off_topic[i : i + 1]
    return mixed


def session() -> str:
    return uuid.uuid4().hex[:12]


async def submit(client: httpx.AsyncClient, base: str, question: str, session_hash: str) -> str | Outcome:
    """POST the question; the event id, or the refusal as an Outcome."""
    started = time.perf_counter()
    try:
        response = await client.post(
            f"{base}/gradio_api/call/ask", json={"data": [question, None], "session_hash": session_hash}
        )
    except httpx.TimeoutException:
        return Outcome("timeout", time.perf_counter() - started)
    except httpx.HTTPError as exc:
        return Outcome("failed", time.perf_counter() - started, type(exc).__name__)
    if response.status_code != 200:
        return Outcome("rejected", time.perf_counter() - started, f"HTTP {response.status_code}")
    return response.json()["event_id"]


async def result(client: httpx.AsyncClient, base: str, event_id: str, started: float) -> Outcome:
    """Read the event stream until the answer (complete) or an error event."""
    event = ""
    async with client.stream("GET", f"{base}/gradio_api/call/ask/{event_id}") as response:
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                seconds = time.perf_counter() - started
                data = json.loads(line[5:].strip() or "null")
                if event == "error":
                    return Outcome("error", seconds, str(data)[:160])
                answer = data[0] if isinstance(data, list) and data else {}
                return Outcome("ok", seconds, abstained=bool(answer.get("abstained")))
    return Outcome("error", time.perf_counter() - started, "stream ended without a result")


async def ask(client: httpx.AsyncClient, base: str, question: str, session_hash: str) -> Outcome:
    started = time.perf_counter()
    submitted = await submit(client, base, question, session_hash)
    if isinstance(submitted, Outcome):
        return submitted
    try:
        return await result(client, base, submitted, started)
    except httpx.TimeoutException:
        return Outcome("timeout", time.perf_counter() - started)
    except httpx.HTTPError as exc:
        return Outcome("failed", time.perf_counter() - started, type(exc).__name__)


def summarize(outcomes: list[Outcome], wall: float | None = None) -> dict:
    ok = [o.seconds for o in outcomes if o.kind == "ok"]
    out: dict = {"requests": len(outcomes), "outcomes": dict(Counter(o.kind for o in outcomes))}
    if wall:
        out["wall_s"] = round(wall, 2)
        out["requests_per_s"] = round(len(ok) / wall, 2)
    if ok:
        out |= {
            "p50_s": round(float(np.percentile(ok, 50)), 3),
            "p95_s": round(float(np.percentile(ok, 95)), 3),
            "max_s": round(max(ok), 3),
            "abstained": sum(o.abstained for o in outcomes if o.kind == "ok"),
        }
    details = Counter(o.detail for o in outcomes if o.kind != "ok" and o.detail)
    if details:
        out["details"] = dict(details.most_common(3))
    return out


def address(n: int, block: int = 1) -> str:
    """The loopback address of simulated machine ``n``: every student is its own client to the
    server's per-address limits, as students on their own devices are (127.0.0.0/8 is all local)."""
    return f"127.{block}.{n // 250}.{n % 250 + 2}"


def new_client(timeout: float, source: str = HOST) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        verify=False,  # plain HTTP on loopback: no certificate bundle to load for every simulated machine
        timeout=httpx.Timeout(timeout, connect=10),
        limits=httpx.Limits(max_connections=2000, max_keepalive_connections=200),
        transport=httpx.AsyncHTTPTransport(local_address=source),
    )


async def _students(
    base: str, questions: list[str], ids: range, per_client: int, timeout: float, block: int
) -> list[Outcome]:
    async def student(n: int) -> list[Outcome]:
        me, done = session(), []
        async with new_client(timeout, address(n, block)) as http:
            for j in range(per_client):
                done.append(await ask(http, base, questions[(n * per_client + j) % len(questions)], me))
        return done

    runs = await asyncio.gather(*(student(n) for n in ids))
    return [o for r in runs for o in r]


def _students_process(args: tuple, start_at: float, out) -> None:
    """One share of the class in its own process, starting with the others at ``start_at``."""
    time.sleep(max(0.0, start_at - time.time()))
    out.put([(o.kind, o.seconds, o.detail, o.abstained) for o in asyncio.run(_students(*args))])


async def closed_loop(
    base: str, questions: list[str], clients: int, per_client: int, timeout: float, block: int = 1
) -> dict:
    """`clients` students, each asking its questions one after another.

    Students are spread over up to CLIENT_PROCESSES processes (ten a process): real students
    sit at their own machines, and one Python event loop for fifty of them would measure the
    bench's own queue, not the server's.
    """
    shares = [range(i, min(i + 10, clients)) for i in range(0, clients, 10)][:CLIENT_PROCESSES]
    shares[-1] = range(shares[-1].start, clients)
    if len(shares) == 1:
        started = time.perf_counter()
        outcomes = await _students(base, questions, shares[0], per_client, timeout, block)
        wall = time.perf_counter() - started
    else:
        spawn = multiprocessing.get_context("spawn")
        out = spawn.Queue()
        start_at = time.time() + 3.0  # every process imported and waiting
        procs = [
            spawn.Process(
                target=_students_process,
                args=((base, questions, ids, per_client, timeout, block), start_at, out),
            )
            for ids in shares
        ]
        for p in procs:
            p.start()
        parts = [await asyncio.to_thread(out.get, True, timeout * per_client + 60) for _ in procs]
        wall = time.time() - start_at
        for p in procs:
            p.join(30)
        outcomes = [Outcome(*row) for part in parts for row in part]
    return {"clients": clients, "per_client": per_client, **summarize(outcomes, wall)}


async def open_loop(
    base: str, questions: list[str], rate: float, duration: float, timeout: float, block: int = 2
) -> dict:
    """Poisson arrivals at `rate` per second for `duration` seconds; each arrival is a new visitor."""
    rng = np.random.default_rng(int(rate * 100))
    arrivals = np.cumsum(rng.exponential(1 / rate, int(rate * duration * 3) + 10))
    arrivals = arrivals[arrivals < duration]

    async def visitor(n: int) -> Outcome:
        async with new_client(timeout, address(n, block)) as http:
            return await ask(http, base, questions[n % len(questions)], session())

    started = time.perf_counter()
    tasks = []
    for n, at in enumerate(arrivals):
        await asyncio.sleep(max(0.0, started + at - time.perf_counter()))
        tasks.append(asyncio.create_task(visitor(n)))
    outcomes = await asyncio.gather(*tasks)
    wall = time.perf_counter() - started
    return {"rate_per_s": rate, "duration_s": duration, **summarize(list(outcomes), wall)}


STUDENT_PAUSE_S = 3.5  # a student asks at most about once every few seconds (the default limit: 20 a minute)


async def paced(
    http: httpx.AsyncClient, base: str, questions: list[str], count: int, me: str
) -> list[Outcome]:
    """One student's questions, one every STUDENT_PAUSE_S seconds at most."""
    done = []
    for j in range(count):
        started = time.perf_counter()
        done.append(await ask(http, base, questions[j % len(questions)], me))
        if j + 1 < count:
            await asyncio.sleep(max(0.0, STUDENT_PAUSE_S - (time.perf_counter() - started)))
    return done


async def _fire(base: str, questions: list[str], calls: int, timeout: float, going) -> tuple[list, float]:
    async with new_client(timeout, address(1, block=3)) as loud_http:
        flooder = session()
        going.set()
        started = time.perf_counter()
        calls_ = (submit(loud_http, base, questions[n % len(questions)], flooder) for n in range(calls))
        sent = await asyncio.gather(*calls_)
        return [s if isinstance(s, str) else (s.kind, s.detail) for s in sent], time.perf_counter() - started


def fire_flood(base: str, questions: list[str], calls: int, timeout: float, going, out) -> None:
    """The flooding client, in its own process: another machine's event loop, not the student's."""
    out.put(asyncio.run(_fire(base, questions, calls, timeout, going)))


async def flood(base: str, questions: list[str], calls: int, student_questions: int, timeout: float) -> dict:
    """One client fires `calls` asks without reading answers; one student keeps asking in turn."""
    async with new_client(timeout, address(0, block=3)) as http:
        me = session()
        quiet = await paced(http, base, questions, student_questions, me)
        spawn = multiprocessing.get_context("spawn")
        results, going = spawn.Queue(), spawn.Event()
        flooder = spawn.Process(target=fire_flood, args=(base, questions, calls, timeout, going, results))
        flooder.start()
        await asyncio.to_thread(going.wait, 60)
        await asyncio.sleep(0.2)  # the burst is on its way; the student's next question goes in now
        loud = await paced(http, base, questions, student_questions, me)
        sent, burst_s = await asyncio.to_thread(results.get, True, timeout + 60)
        flooder.join(30)
    accepted = sum(isinstance(s, str) for s in sent)
    refused = Counter(detail or kind for kind, detail in (s for s in sent if not isinstance(s, str)))
    quiet_s = [o.seconds for o in quiet if o.kind == "ok"]
    loud_s = [o.seconds for o in loud if o.kind == "ok"]
    base_s = float(np.median(quiet_s)) if quiet_s else float("nan")
    return {
        "flood_calls": calls,
        "flood_accepted": accepted,
        "flood_refused": dict(refused),
        "flood_submit_s": round(burst_s, 2),
        "student_quiet": summarize(quiet),
        "student_during_flood": summarize(loud),
        "student_first_question_s": round(loud[0].seconds, 3) if loud else None,
        "ratio_first_to_quiet_p50": round(loud_s[0] / base_s, 1) if loud_s and loud[0].kind == "ok" else None,
        "ratio_p50_to_quiet_p50": round(float(np.median(loud_s)) / base_s, 1) if loud_s else None,
        "ratio_max_to_quiet_p50": round(max(loud_s) / base_s, 1) if loud_s else None,
    }


def start_server(tmp: Path, home: Path, port: int, log_path: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "ASSISTANT_HOME": str(home),
        "ASSISTANT_INDEX": str(tmp / "index"),
        "ASSISTANT_CORPUS": str(ROOT / "corpus"),
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    with log_path.open("w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "assistant", "serve", "--host", HOST, "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp,
        )  # fmt: skip


def wait_ready(base: str, proc: subprocess.Popen, log_path: Path, timeout: float = 600) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}:\n{log_path.read_text()[-2000:]}")
        try:
            if httpx.get(base + "/", timeout=2).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("server did not come up in time")


async def run_all(base: str, questions: list[str], args: argparse.Namespace) -> dict:
    out: dict = {}
    warm = await closed_loop(base, questions, 1, 2, args.timeout, block=4)  # first answers embed sentences
    out["warm_up"] = warm["outcomes"]
    out["closed_loop"] = [
        await closed_loop(base, questions, c, args.per_client, args.timeout, block=10 + i)
        for i, c in enumerate(args.clients)
    ]
    out["open_loop"] = [
        await open_loop(base, questions, r, args.duration, args.timeout, block=20 + i)
        for i, r in enumerate(args.rates)
    ]
    out["flood"] = await flood(base, questions, args.flood, args.student, args.timeout)
    return out


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="2 questions a client, 6 s rates, 100 flood calls"
    )
    parser.add_argument("--port", type=int, default=7991)
    parser.add_argument("--home", type=Path, default=None, help="ASSISTANT_HOME to borrow the model from")
    parser.add_argument("--qa", type=Path, default=ROOT / "tests" / "data" / "qa.jsonl")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--per-client", type=int, default=4)
    parser.add_argument("--rates", type=float, nargs="+", default=[2, 5, 10])
    parser.add_argument("--duration", type=float, default=15, help="seconds of arrivals per rate")
    parser.add_argument("--flood", type=int, default=300, help="fire-and-forget calls of the flooding client")
    parser.add_argument(
        "--student", type=int, default=5, help="questions the student asks, quiet and in the flood"
    )
    parser.add_argument("--timeout", type=float, default=90, help="seconds one call may take")
    args = parser.parse_args()
    if args.quick:
        args.per_client, args.duration, args.flood, args.student = 2, 6, 100, 3
    return args


def main() -> None:
    args = parse_args()
    if args.home is None:
        sys.path.insert(0, str(ROOT))
        from assistant.core.settings import Settings

        args.home = Settings.from_env().home
    questions = read_questions(args.qa)
    base = f"http://{HOST}:{args.port}"
    with tempfile.TemporaryDirectory(prefix="bench-load-") as name:
        tmp = Path(name)
        log_path = tmp / "server.log"
        proc = start_server(tmp, borrow_home(args.home, tmp), args.port, log_path)
        try:
            ready = wait_ready(base, proc, log_path)
            result = {"server_ready_s": round(ready, 1), "questions": len(questions)}
            result |= asyncio.run(run_all(base, questions, args))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
