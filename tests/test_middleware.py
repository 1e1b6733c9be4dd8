"""RequestGuard in front of a tiny Starlette app: 413 on big bodies (declared or streamed), 429 per client."""

from __future__ import annotations

import asyncio

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from assistant.serving.limits import ClientLimiter, LimitPolicy
from assistant.serving.middleware import GRADIO_API_PREFIXES, RequestGuard

CAP = 1000


class ManualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make_app(seen: list[int], echo_cookie: bool = False):
    async def upload(request: Request):
        body = b""
        async for chunk in request.stream():
            body += chunk
        seen.append(len(body))
        return JSONResponse({"bytes": len(body)})

    async def result(request: Request):
        return JSONResponse({"ok": True, "cookie": request.cookies.get("pr_session")})

    posts = ["/gradio_api/upload", "/gradio_api/call/ask", "/other", "/gradio_api/queue/join"]
    posts += ["/gradio_api/run/{name}"]
    return Starlette(
        routes=[
            *(Route(path, upload, methods=["POST"]) for path in posts),
            Route("/gradio_api/call/ask/{event}", result),
            Route("/other", result, methods=["GET"]),
        ]
    )


@pytest.fixture
def rig():
    seen: list[int] = []
    clock = ManualClock()
    limiter = ClientLimiter(LimitPolicy(per_minute=6, burst=2, what="requests"), clock=clock)
    app = RequestGuard(
        make_app(seen), max_body_bytes=CAP, limiters=dict.fromkeys(GRADIO_API_PREFIXES, limiter), tarpit_s=0
    )
    return app, seen, clock


def test_declared_length_over_the_cap_never_reaches_the_app(rig):
    app, seen, _ = rig
    with TestClient(app) as client:
        small = client.post("/other", content=b"x" * CAP)
        big = client.post("/other", content=b"x" * (CAP + 1))
    assert small.status_code == 200 and small.json() == {"bytes": CAP}
    assert big.status_code == 413
    assert "MB" in big.json()["error"] and " / " in big.json()["error"] and "مگابایت" in big.json()["error"]
    assert seen == [CAP]


def test_a_streamed_body_is_cut_off_once_past_the_cap(rig):
    app, seen, _ = rig

    def chunks(n):
        for _ in range(n):
            yield b"y" * 300

    with TestClient(app) as client:
        ok = client.post("/other", content=chunks(3))  # chunked: no Content-Length
        big = client.post("/other", content=chunks(10))
    assert ok.status_code == 200 and ok.json() == {"bytes": 900}
    assert big.status_code == 413 and "larger than" in big.json()["error"]
    assert seen == [900]  # the app never finished reading the big one


def test_api_routes_are_rate_limited_per_client_with_retry_after(rig):
    app, seen, clock = rig
    with (
        TestClient(app, client=("198.51.100.1", 1)) as one,
        TestClient(app, client=("198.51.100.2", 1)) as two,
    ):
        assert [one.post("/gradio_api/call/ask", content=b"q").status_code for _ in range(2)] == [200, 200]
        refused = one.post("/gradio_api/upload", content=b"f")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "10"  # 6 a minute
        assert "Too many requests" in refused.json()["error"] and "ثانیه" in refused.json()["error"]
        assert one.get("/gradio_api/call/ask/1").status_code == 200  # reading results costs no rate
        assert two.post("/gradio_api/call/ask", content=b"q").status_code == 200
        assert one.post("/other", content=b"q").status_code == 200  # not a limited prefix
        clock.now += 10
        assert one.post("/gradio_api/call/ask", content=b"q").status_code == 200
    assert len(seen) == 5  # the refused upload never reached the app


def test_in_flight_requests_are_capped_per_client():
    """Two slow requests from one client hold both slots; a third is refused at once."""
    release = asyncio.Event()
    entered = 0

    async def slow(scope, receive, send):
        nonlocal entered
        entered += 1
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})

    limiter = ClientLimiter(LimitPolicy(per_minute=60, burst=10, max_inflight=2), clock=ManualClock())
    guard = RequestGuard(slow, max_body_bytes=CAP, limiters={"/gradio_api/call/": limiter}, tarpit_s=0)

    async def call():
        sent = []
        scope = {"type": "http", "method": "GET", "path": "/gradio_api/call/ask/1", "headers": [],
                 "client": ("192.0.2.1", 5)}  # fmt: skip

        async def receive():
            return {"type": "http.request", "body": b""}

        async def send(message):
            sent.append(message)

        await guard(scope, receive, send)
        return sent[0]["status"]

    async def scenario():
        first = asyncio.create_task(call())
        second = asyncio.create_task(call())
        await asyncio.sleep(0)  # let both enter the app
        third = await call()
        release.set()
        return await first, await second, third

    assert asyncio.run(scenario()) == (200, 200, 429)
    assert entered == 2
    assert limiter.inflight("192.0.2.1") == 0


@pytest.mark.server
def test_wired_into_a_real_gradio_app():
    """The way the web app wires it: FastAPI's ``middleware`` through ``launch(app_kwargs=...)``."""
    import gradio as gr
    import httpx
    from starlette.middleware import Middleware

    from tests.conftest import free_port

    limiter = ClientLimiter(LimitPolicy(per_minute=6, burst=2), clock=ManualClock())
    with gr.Blocks() as demo:
        box = gr.Textbox()
        box.submit(lambda text: text[::-1], box, box, api_name="echo")
    guard = Middleware(RequestGuard, max_body_bytes=CAP, limiters=dict.fromkeys(GRADIO_API_PREFIXES, limiter))
    demo.launch(
        server_port=free_port(), prevent_thread_lock=True, quiet=True, app_kwargs={"middleware": [guard]}
    )
    try:
        url = demo.local_url.rstrip("/")
        small = httpx.post(f"{url}/gradio_api/upload", files={"files": ("a.txt", b"x" * 100)})
        big = httpx.post(f"{url}/gradio_api/upload", files={"files": ("b.txt", b"x" * CAP)})
        assert small.status_code == 200 and small.json()[0].endswith("a.txt")
        assert big.status_code == 413 and "MB" in big.json()["error"]
        asked = [httpx.post(f"{url}/gradio_api/call/echo", json={"data": ["سلام"]}) for _ in range(2)]
        assert "event_id" in asked[0].json()  # the refused big upload cost nothing; the burst is 2
        assert asked[1].status_code == 429 and asked[1].headers["retry-after"] == "10"
        assert httpx.get(url).status_code == 200  # the page itself is not limited
    finally:
        demo.close()


# --------------------------------------------------------------------------- sessions, uploads, events


def session_rig(seen: list[int]):
    from assistant.serving.auth import Role
    from assistant.serving.sessions import Sessions

    sessions = Sessions(600)
    limiter = ClientLimiter(LimitPolicy(per_minute=600, burst=100, what="requests"))
    app = RequestGuard(
        make_app(seen, echo_cookie=True),
        max_body_bytes=CAP,
        limiters=dict.fromkeys(GRADIO_API_PREFIXES, limiter),
        sessions=sessions,
        may_upload=lambda role: role is Role.ADMIN,
        privileged={7: Role.ADMIN, "save_files": Role.ADMIN, 8: Role.TRAINER},
    )
    return app, sessions


def _signed_in(client, sessions, role) -> str:
    """A browser that loaded the page, then logged in as ``role`` (what Service.login does)."""
    first = client.get("/other").json()["cookie"]  # the one the browser holds (minted now, or before)
    sessions.grant(first, role, "127.0.0.1")
    client.cookies.set("pr_session", first)
    renamed = client.get("/pr/session")
    assert renamed.status_code == 200 and renamed.cookies["pr_session"] != first
    client.cookies.set("pr_session", renamed.cookies["pr_session"])
    return renamed.cookies["pr_session"]


def test_every_browser_gets_a_signed_http_only_cookie_the_app_sees_at_once():
    from assistant.serving.auth import Role

    app, sessions = session_rig([])
    with TestClient(app) as client:
        first = client.get("/other")
        set_cookie = first.headers["set-cookie"]
        assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie and "Path=/" in set_cookie
        value = first.cookies["pr_session"]
        assert first.json()["cookie"] == value  # the request that got it already carried it
        assert sessions.read(value) is not None and sessions.role(value) is None
        client.cookies.set("pr_session", value)
        again = client.get("/other")
        assert "set-cookie" not in again.headers and again.json()["cookie"] == value
        client.cookies.set("pr_session", value[:-2] + "xx")  # forged: replaced by a fresh anonymous one
        forged = client.get("/other")
        assert forged.cookies["pr_session"] not in (value, value[:-2] + "xx")
        assert _signed_in(client, sessions, Role.ADMIN)


def test_an_upload_needs_an_admin_session_not_an_address():
    from assistant.serving.auth import Role

    seen: list[int] = []
    app, sessions = session_rig(seen)
    with TestClient(app, client=("127.0.0.1", 1)) as admin, TestClient(app, client=("127.0.0.1", 2)) as other:
        _signed_in(admin, sessions, Role.ADMIN)
        assert admin.post("/gradio_api/upload", content=b"f").status_code == 200
        claimed = other.post(
            "/gradio_api/upload",
            content=b"f",
            headers={"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1"},
        )
        assert claimed.status_code == 403 and "admin login" in claimed.json()["error"]
        _signed_in(other, sessions, Role.TRAINER)
        assert other.post("/gradio_api/upload", content=b"f").status_code == 403  # a trainer may not
    assert seen == [1]


def test_privileged_events_need_a_session_that_opens_their_role():
    from assistant.serving.auth import Role

    seen: list[int] = []
    app, sessions = session_rig(seen)
    event = {"data": [], "fn_index": 7, "session_hash": "abc"}
    with TestClient(app) as student, TestClient(app) as admin, TestClient(app) as trainer:
        refused = student.post("/gradio_api/queue/join", json=event)
        assert refused.status_code == 403 and "Sign in" in refused.json()["error"]
        assert student.post("/gradio_api/run/save_files", json={"data": []}).status_code == 403
        assert student.post("/gradio_api/run/predict", json=event).status_code == 403  # fn_index, any path
        assert student.post("/gradio_api/queue/join", json={**event, "fn_index": 3}).status_code == 200
        _signed_in(admin, sessions, Role.ADMIN)
        _signed_in(trainer, sessions, Role.TRAINER)
        assert admin.post("/gradio_api/queue/join", json=event).status_code == 200
        assert admin.post("/gradio_api/queue/join", json={**event, "fn_index": 8}).status_code == 200
        assert trainer.post("/gradio_api/queue/join", json={**event, "fn_index": 8}).status_code == 200
        assert trainer.post("/gradio_api/queue/join", json=event).status_code == 403
    assert len(seen) == 4  # the app got each allowed body whole, after the guard had read it


def test_a_question_over_the_quota_is_refused_at_the_door():
    """The guard asks the question limiter before the event is queued; the answer's path takes the token."""
    seen: list[int] = []
    questions = ClientLimiter(LimitPolicy(per_minute=6, burst=2), clock=ManualClock())
    guard = RequestGuard(
        make_app(seen), max_body_bytes=CAP, questions={5, "ask"}, question_limiter=questions, tarpit_s=0,
        limiters=dict.fromkeys(GRADIO_API_PREFIXES, ClientLimiter(LimitPolicy(per_minute=600, burst=100))),
    )  # fmt: skip
    event = {"data": ["q"], "fn_index": 5, "session_hash": "fresh"}
    with TestClient(guard, client=("192.0.2.7", 1)) as client:
        for _ in range(2):  # what Service.ask does for each answer
            assert client.post("/gradio_api/queue/join", json=event).status_code == 200
            with questions.acquire("192.0.2.7"):
                pass
        refused = client.post("/gradio_api/queue/join", json={**event, "session_hash": "another"})
        assert refused.status_code == 429 and refused.headers["retry-after"] == "10"
        assert "Too many questions" in refused.json()["detail"]  # what Gradio's page shows
        assert client.post("/gradio_api/call/ask", json={"data": ["q"]}).status_code == 429
        assert client.post("/gradio_api/queue/join", json={**event, "fn_index": 6}).status_code == 200
    assert len(seen) == 3


def test_a_refusal_is_held_back_a_moment_so_a_script_cannot_spin_on_it():
    """Retry-After 10 s: the 429 comes after the tarpit (1 s), not at once; others are not held."""
    import time

    limiter = ClientLimiter(LimitPolicy(per_minute=6, burst=1), clock=ManualClock())
    guard = RequestGuard(
        make_app([]), max_body_bytes=CAP, limiters={"/gradio_api/call/": limiter}, tarpit_s=0.5
    )
    with (
        TestClient(guard, client=("192.0.2.9", 1)) as one,
        TestClient(guard, client=("192.0.2.10", 1)) as two,
    ):
        assert one.post("/gradio_api/call/ask", content=b"q").status_code == 200
        started = time.perf_counter()
        assert one.post("/gradio_api/call/ask", content=b"q").status_code == 429
        assert 0.45 <= time.perf_counter() - started < 2
        started = time.perf_counter()
        assert two.post("/gradio_api/call/ask", content=b"q").status_code == 200
        assert time.perf_counter() - started < 0.4
