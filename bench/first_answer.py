"""Start-up: `assistant serve` to the first cited answer, on an empty home and on a warm restart.

    python bench/first_answer.py [--port 7990] [--warm 3]

Cold: the real server with an empty ASSISTANT_HOME and no index (so it
converts the model and indexes corpus/ first).  Warm: the same server
started again on what the cold start left (model, ONNX graph, index), ``--warm``
times.  Each run asks one question through the named `/ask` API with
gradio_client as soon as the page answers, and the server is stopped after.
Prints JSON: per run the seconds to the page answering (``serve_to_ready_s``),
to the first cited answer (``serve_to_first_answer_s``), the answer's own
time, and the server's own start-up breakdown (the ``startup:`` line it
prints: model, index, warm-up in the preparing thread beside web = importing
and starting Gradio; ready = both done).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from gradio_client import Client
from server_kit import wait_ready

QUESTION = "ارکان اعتماد در روابط عمومی کدام‌اند؟"
STARTUP = re.compile(r"startup: (.*)")


def breakdown(lines: list[str]) -> dict[str, float]:
    """The server's ``startup: model 0.71 s · index 0.20 s · …`` line as numbers."""
    for line in lines:
        found = STARTUP.search(line)
        if found:
            return {k: round(float(v), 2) for k, v in re.findall(r"([\w-]+) ([\d.]+) s", found.group(1))}
    return {}


def run(port: int, env: dict[str, str]) -> dict:
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)  # type: ignore[arg-type]
    reader.start()
    try:
        wait_ready(url.rstrip("/"), proc, poll=0.1)  # a tenth of a second: this bench times start-up
        ready = time.perf_counter() - started
        client = Client(url, verbose=False)
        asked = time.perf_counter()
        answer = client.predict(QUESTION, api_name="/ask")
        done = time.perf_counter()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        reader.join(timeout=5)
    return {
        "serve_to_ready_s": round(ready, 2),
        "first_answer_s": round(done - asked, 2),
        "serve_to_first_answer_s": round(done - started, 2),
        "citations": len(answer["citations"]),
        "abstained": answer["abstained"],
        "server_startup_s": breakdown(lines),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=7990)
    parser.add_argument("--warm", type=int, default=3, help="warm restarts after the cold start")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        env = {
            **os.environ,
            "ASSISTANT_HOME": str(Path(tmp) / "home"),
            "ASSISTANT_INDEX": str(Path(tmp) / "index"),
        }
        cold = run(args.port, env)
        warm = [run(args.port, env) for _ in range(args.warm)]
    print(json.dumps({"cold": cold, "warm": warm}, indent=2))


if __name__ == "__main__":
    main()
