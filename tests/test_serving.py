"""A whole class at once, over the real server: answers during a rebuild, uploads only for the admin."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import httpx
import pytest
from conftest import corpus_settings
from gradio_client import Client
from gradio_http import event_of, run_event

from assistant.core.settings import Settings
from assistant.indexing.progress import BuildDone
from assistant.web import get_service

PROJECT_ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ["ارکان اعتماد در روابط عمومی کدام‌اند؟", "شفافیت به چه معناست؟", "پاسخگویی یعنی چه؟"]


@pytest.fixture(scope="module")
def class_settings(tmp_path_factory, home) -> Settings:
    # 2 questions a second per address, bursts of 5
    base = tmp_path_factory.mktemp("serving")
    own_store = f"sqlite:///{base / 'serving.sqlite'}"  # lockouts other tests made do not reach it
    return corpus_settings(
        base, home, admin_password="adm1n", rate_per_minute=120, rate_burst=5, database_url=own_store
    )


@pytest.fixture(scope="module")
def server(serve_ui, class_settings) -> str:
    return serve_ui(class_settings)


def test_chat_keeps_answering_during_an_index_tab_rebuild(server, class_settings):
    """The Index tab's rebuild (a child process) runs while students keep getting answers."""
    (class_settings.corpus_dir / "new.md").write_text(
        "# اخلاق حرفه‌ای\n\nرازداری حرفه‌ای یعنی اطلاعات محرمانه بدون اجازه منتشر نشود.\n", encoding="utf-8"
    )
    service = get_service(class_settings)
    events: list[object] = []
    build = threading.Thread(target=lambda: events.extend(service.rebuild()))
    build.start()
    client = Client(server, verbose=False)
    answered_during_build = 0
    while build.is_alive():
        answer = client.predict(QUESTIONS[answered_during_build % len(QUESTIONS)], api_name="/ask")
        assert not answer["abstained"] and answer["citations"]
        answered_during_build += build.is_alive()
        time.sleep(0.5)  # one student asking again and again, within the per-address rate
    build.join()
    assert isinstance(events[-1], BuildDone) and events[-1].report.documents == 2
    assert answered_during_build >= 3, "the chat was served while the index was being rebuilt"
    after = client.predict("رازداری حرفه‌ای یعنی چه؟", api_name="/ask")
    assert after["citations"] and after["citations"][0]["doc_id"] == "new.md"  # and the new build is served


def _upload(server: str) -> tuple[int, str]:
    boundary = uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="x.md"\r\n'
        f"Content-Type: text/markdown\r\n\r\n# x\r\n--{boundary}--\r\n"
    ).encode()
    request = urllib.request.Request(
        server.rstrip("/") + "/gradio_api/upload",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_anonymous_upload_is_refused(server, class_settings):
    status, body = _upload(server)
    assert status == 403
    message = json.loads(body)["error"]
    assert "مدیر" in message and "admin login" in message
    base = server.rstrip("/")
    with httpx.Client(timeout=60) as admin:  # a browser: the page, then the Index tab's login
        admin.get(f"{base}/")
        assert run_event(admin, base, event_of(base, "pr-password"), ["adm1n"]).success
        admin.get(f"{base}/pr/session")
        uploaded = admin.post(f"{base}/gradio_api/upload", files={"files": ("x.md", b"# x\n")})
        assert uploaded.status_code == 200, uploaded.text  # that browser's session may upload now
    status, _ = _upload(server)
    assert status == 403  # and nobody else, from the very same address


def test_oversized_request_is_refused_before_it_is_read(server, class_settings):
    request = urllib.request.Request(
        server.rstrip("/") + "/gradio_api/call/ask",
        data=b"{}",
        headers={
            "Content-Type": "application/json",
            "Content-Length": str(class_settings.max_request_bytes + 1),
        },
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=30)
    assert err.value.code == 413


def _post_question(server: str, question: str) -> tuple[int, str, str]:
    """POST one question; (status, Retry-After, event id)."""
    request = urllib.request.Request(
        server.rstrip("/") + "/gradio_api/call/ask",
        data=json.dumps({"data": [question, None]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("Retry-After", ""), json.load(response)["event_id"]
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Retry-After", ""), ""


def _outcome(server: str, event_id: str) -> str:
    """The event's last SSE kind: ``complete`` for an answer, ``error`` for a refusal on the answer path."""
    url = server.rstrip("/") + f"/gradio_api/call/ask/{event_id}"
    with urllib.request.urlopen(url, timeout=120) as response:
        lines = response.read().decode().splitlines()
    kinds = [line[7:].strip() for line in lines if line.startswith("event: ")]
    return kinds[-1]


def test_a_flooding_client_is_told_to_wait(server, class_settings):
    """Fire-and-forget questions past the burst get 429 with Retry-After; a client firing one after another
    gets no more answers than the burst and the rate (2 a second here), however loaded the machine is.

    The door lets in what the bucket could pay for; a question let in that finds the client's slots full is
    refused on the answer path, so answers, not 200s, are what the policy bounds."""
    started = time.perf_counter()
    replies = [_post_question(server, QUESTIONS[0]) for _ in range(30)]
    accepted = [r for r in replies if r[0] == 200]
    refused = [r for r in replies if r[0] == 429]
    assert len(accepted) + len(refused) == 30 and len(refused) >= 5, replies
    assert all(int(after) >= 1 for _, after, _ in refused)
    outcomes = [_outcome(server, event_id) for _, _, event_id in accepted]
    elapsed = time.perf_counter() - started
    answered = outcomes.count("complete")
    assert answered >= 5 and answered <= 5 + 2 * elapsed + 1, (outcomes, elapsed)
    time.sleep(3)  # the bucket refills at 2 a second
    assert _post_question(server, QUESTIONS[1])[0] == 200


def test_answer_gate_refuses_beyond_its_queue_with_a_clear_message():
    """Two computing, one waiting: the next question is told the assistant is busy, at once."""
    from assistant.web.service import AnswerGate, Busy

    gate = AnswerGate(workers=2, max_waiting=1)
    release = threading.Event()
    inside = threading.Semaphore(0)

    def hold() -> None:
        with gate.turn():
            inside.release()
            release.wait(30)

    workers = [threading.Thread(target=hold) for _ in range(3)]  # two compute, the third waits
    for w in workers:
        w.start()
    assert inside.acquire(timeout=30) and inside.acquire(timeout=30)
    deadline = time.monotonic() + 10
    while gate._waiting < 1:  # the third is queued
        assert time.monotonic() < deadline
        time.sleep(0.01)
    started = time.monotonic()
    with pytest.raises(Busy) as refused, gate.turn():
        pass
    assert time.monotonic() - started < 1
    assert "پرمشغله" in str(refused.value) and "busy" in str(refused.value)
    release.set()
    for w in workers:
        w.join(30)
    with gate.turn():  # free again
        pass


def test_answer_gate_serves_waiting_questions_in_arrival_order():
    """A freed slot goes to the oldest waiter, never to whoever arrives at that instant."""
    from assistant.web.service import AnswerGate

    gate = AnswerGate(workers=1, max_waiting=10)
    order: list[int] = []
    holder_inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with gate.turn():
            holder_inside.set()
            release.wait(30)

    def ask(n: int) -> None:
        with gate.turn():
            order.append(n)

    first = threading.Thread(target=hold)
    first.start()
    assert holder_inside.wait(30)
    waiters = []
    for n in range(5):
        waiters.append(threading.Thread(target=ask, args=(n,)))
        waiters[-1].start()
        deadline = time.monotonic() + 10
        while gate._waiting < n + 1:  # each one queued before the next arrives
            assert time.monotonic() < deadline
            time.sleep(0.005)
    release.set()
    for w in [first, *waiters]:
        w.join(30)
    assert order == [0, 1, 2, 3, 4]
