"""Parse a file someone handed us in a child process, out of harm's way.

The child (``python -m assistant.isolate REQUEST``) caps its own address
space (RLIMIT_AS) and CPU time before reading the file, runs ``load_file``
and prints one JSON object on stdout; the parent kills it when the wall-time
limit passes.  A zip bomb or a parser stuck in a loop therefore costs one
clear rejection and nothing else.  Only plain JSON crosses back: no pickle of
anything derived from the untrusted file.
"""

from __future__ import annotations

import json
import math
import os
import resource
import signal
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from ..core.errors import LoadError
from ..core.records import Document
from .formats import one_line
from .load import load_file
from .parse_limits import MB, ParseLimits

_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


def _request(path: Path, root: Path, limits: ParseLimits) -> str:
    return json.dumps({"path": str(path), "root": str(root), "limits": limits.to_dict()})


def _child_env() -> dict[str, str]:
    """The parent's environment, with this copy of the package first on the import path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_PARENT, env.get("PYTHONPATH", "")) if p)
    return env


def load_file_isolated(path: Path, root: Path, limits: ParseLimits | None = None) -> Document:
    """``load_file`` in a child process limited to ``limits.memory_mb`` and ``limits.seconds``."""
    limits = limits or ParseLimits()
    command = [sys.executable, "-m", "assistant.ingest.isolate", _request(Path(path), Path(root), limits)]
    try:
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=limits.seconds,
            env=_child_env(),
            check=False,
        )
    except subprocess.TimeoutExpired:  # run() has killed the child already
        raise LoadError.of(
            f"رد شد: خواندن فایل بیش از {limits.seconds:g} ثانیه طول کشید",
            f"rejected: parsing took longer than {limits.seconds:g} s and was stopped",
        ) from None
    return _result(done, limits)


def _result(done: subprocess.CompletedProcess[bytes], limits: ParseLimits) -> Document:
    try:
        reply = json.loads(done.stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        reply = {}
    if "document" in reply:
        return Document.from_dict(reply["document"])
    if "error" in reply:
        raise LoadError(reply["error"])
    if reply.get("memory") or done.returncode in (-signal.SIGSEGV, -signal.SIGABRT, -signal.SIGBUS):
        raise LoadError.of(
            f"رد شد: خواندن فایل بیش از {limits.memory_mb} مگابایت حافظه می‌خواست",
            f"rejected: parsing needed more than {limits.memory_mb} MB of memory",
        )
    if done.returncode == -signal.SIGXCPU:
        raise LoadError.of(
            f"رد شد: خواندن فایل بیش از {limits.seconds:g} ثانیه طول کشید",
            f"rejected: parsing took longer than {limits.seconds:g} s of CPU and was stopped",
        )
    tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit {done.returncode}"]
    raise LoadError.of("خواندن فایل ناموفق بود", f"the parser failed: {tail[0][:300]}")


def _limit_self(limits: ParseLimits) -> None:
    """In the child, before the file is read: cap memory and CPU, no core dumps."""
    memory = int(limits.memory_mb * MB)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = math.ceil(limits.seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _child(request: str) -> dict:
    data = json.loads(request)
    limits = ParseLimits(**data["limits"])
    _limit_self(limits)
    try:
        return {"document": asdict(load_file(Path(data["path"]), Path(data["root"]), limits))}
    except LoadError as exc:
        return {"error": str(exc)}
    except MemoryError:
        return {"memory": True}
    except Exception as exc:  # a parser bug: reported like any unreadable file
        return {"error": f"خطای غیرمنتظره / unexpected error: {one_line(exc)}"}


def main(argv: list[str]) -> int:
    """Child entry: print the JSON reply on the real stdout; libraries' prints go to stderr."""
    out = sys.stdout
    sys.stdout = sys.stderr
    reply = _child(argv[0])
    out.write(json.dumps(reply, ensure_ascii=False))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
