"""Gradio's HTTP protocol as a script speaks it: queue/join, the session's event stream, /ask over call/.

Used by the server tests and the probes in ``bench/``: an attacker or a page,
seen from the wire.  Plain httpx, so a test can send exactly the headers,
cookies and session ids it means to.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx


def session() -> str:
    return uuid.uuid4().hex[:11]


@dataclass
class Outcome:
    status: int  # HTTP status of the request that started it
    success: bool = False
    output: Any = None
    error: str = ""


def join(http: httpx.Client, base: str, fn_index: int, data: list, session_hash: str) -> httpx.Response:
    body = {"data": data, "fn_index": fn_index, "session_hash": session_hash, "event_data": None,
            "trigger_id": None}  # fmt: skip
    return http.post(f"{base}/gradio_api/queue/join", json=body)


def run_event(
    http: httpx.Client, base: str, fn_index: int, data: list, session_hash: str | None = None
) -> Outcome:
    """Start an event the way the page does and read its session's stream until it completes."""
    session_hash = session_hash or session()
    started = join(http, base, fn_index, data, session_hash)
    if started.status_code != 200:
        return Outcome(started.status_code, error=_error(started))
    event_id = started.json()["event_id"]
    with http.stream("GET", f"{base}/gradio_api/queue/data", params={"session_hash": session_hash}) as stream:
        for line in stream.iter_lines():
            if not line.startswith("data:"):
                continue
            message = json.loads(line[5:])
            if message.get("event_id") != event_id or message.get("msg") != "process_completed":
                continue
            output = message.get("output") or {}
            return Outcome(
                200, bool(message.get("success")), output.get("data"), str(output.get("error") or "")
            )
    return Outcome(200, error="stream ended")


def ask(http: httpx.Client, base: str, question: Any, history: Any = None, **headers: str) -> Outcome:
    """``POST /gradio_api/call/ask`` then its result stream: the answer dict, or the error event."""
    started = http.post(f"{base}/gradio_api/call/ask", json={"data": [question, history]}, headers=headers)
    if started.status_code != 200:
        return Outcome(started.status_code, error=_error(started))
    event = ""
    with http.stream("GET", f"{base}/gradio_api/call/ask/{started.json()['event_id']}") as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                data = json.loads(line[5:].strip() or "null")
                if event == "error":
                    return Outcome(200, error=str(data))
                return Outcome(200, True, data[0] if isinstance(data, list) and data else data)
    return Outcome(200, error="stream ended")


def _error(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error") or response.json().get("detail"))
    except ValueError:
        return response.text[:200]


def fn_index(app: Any, name: str) -> int:
    """The index of the event whose function is called ``name`` (the page calls events by index)."""
    for index, fn in app.fns.items():
        if getattr(fn.fn, "__name__", "") == name:
            return index
    raise KeyError(name)


def event_of(base: str, elem_id: str) -> int:
    """The first event whose first input is the component ``elem_id`` (a box or a button), from /config."""
    config = httpx.get(f"{base}/config", timeout=30).json()
    ids = {c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == elem_id}
    for dep in config["dependencies"]:
        if dep.get("backend_fn") and dep["inputs"] and dep["inputs"][0] in ids:
            return dep["id"]
    raise KeyError(elem_id)
