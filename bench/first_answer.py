"""Cold start: `assistant serve` on a fresh machine state to the first cited answer.

    python bench/first_answer.py [--port 7990]

Starts the real server with an empty ASSISTANT_HOME and no index (so it
converts the model and indexes corpus/ first), asks one question through the
named `/ask` API with gradio_client, and prints JSON with the seconds each
step took.  The server is stopped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from gradio_client import Client

QUESTION = "ارکان اعتماد در روابط عمومی کدام‌اند؟"


def wait_for(url: str, proc: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("server did not come up")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=7990)
    args = parser.parse_args()
    url = f"http://127.0.0.1:{args.port}/"
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        env = {
            **os.environ,
            "ASSISTANT_HOME": str(Path(tmp) / "home"),
            "ASSISTANT_INDEX": str(Path(tmp) / "index"),
        }
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "serve", "--port", str(args.port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_for(url, proc)
            ready = time.perf_counter() - started
            client = Client(url, verbose=False)
            asked = time.perf_counter()
            answer = client.predict(QUESTION, api_name="/ask")
            done = time.perf_counter()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(
        json.dumps(
            {
                "serve_to_ready_s": round(ready, 1),
                "first_answer_s": round(done - asked, 2),
                "serve_to_first_answer_s": round(done - started, 1),
                "citations": len(answer["citations"]),
                "abstained": answer["abstained"],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
