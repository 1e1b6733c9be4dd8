"""No way around the limits, on the real server: one identity per client, sessions not addresses, typed input.

Each client below is a plain HTTP script on loopback, the way the issue's
attacker was: fresh session ids, forged ``X-Forwarded-For`` headers, an
upload that claims the admin's address.  Outcomes are read from the wire
and from the store (answers logged), not from the server's own counters.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from conftest import corpus_settings, free_port
from gradio_http import ask, fn_index, join, run_event, session

from assistant.web import get_service, serve

ADMIN = "limits-admin-pw"
QUESTION = "ارکان اعتماد در روابط عمومی کدام‌اند؟"
ASKED = "شفافیت به چه معناست؟"  # asked only by the session-id flood, so its answers can be counted

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def rig(tmp_path_factory, home, embedder):
    """A server whose policy is easy to count: 5 questions back to back, 10 requests back to back."""
    base = tmp_path_factory.mktemp("limits")
    settings = corpus_settings(
        base, home, admin_password=ADMIN, rate_per_minute=6, rate_burst=5, requests_per_minute=6,
        request_burst=10, database_url=f"sqlite:///{base / 'store.sqlite'}",
    )  # fmt: skip
    app = serve("127.0.0.1", free_port(), settings, block=False)
    yield app, app.local_url.rstrip("/"), settings
    app.close()


def _answers(settings, question: str | None = None) -> int:
    """Answers in the question log (of ``question`` only, if given: other tests' stragglers do not count)."""
    logged = get_service(settings).store().answers(limit=10_000)
    return sum(1 for a in logged if question is None or a.question == question)


def client(machine: int, timeout: float = 60) -> httpx.Client:
    """An HTTP client on its own loopback address: to the server, another machine with its own limits."""
    transport = httpx.HTTPTransport(local_address=f"127.0.16.{machine}")
    return httpx.Client(timeout=timeout, transport=transport)


def test_rotating_forwarded_for_is_one_client(rig):
    """X-Forwarded-For from loopback is not believed: a new header is not a new client."""
    _, url, _ = rig

    def post(n: int) -> int:
        forged = {"X-Forwarded-For": f"10.9.{n // 250}.{n % 250}"}
        with client(1) as http:
            return http.post(
                f"{url}/gradio_api/call/ask", json={"data": ["x", None]}, headers=forged
            ).status_code

    with ThreadPoolExecutor(25) as pool:  # at once: refusals are held back a second each
        statuses = list(pool.map(post, range(25)))
    assert statuses.count(200) <= 10 and statuses.count(429) >= 15, statuses


def test_rotating_session_ids_through_the_chat_get_no_more_than_the_policy(rig):
    """The chat's own event with a fresh session id each time: still one client, the burst and no more."""
    app, url, settings = rig
    respond = fn_index(app, "respond")
    before = _answers(settings, ASKED)
    statuses = []
    with client(2) as http:
        for _ in range(9):  # one after another, each a new "browser tab"
            statuses.append(join(http, url, respond, [ASKED, [], None, None], session()).status_code)
            deadline = time.monotonic() + 20
            while statuses[-1] == 200 and _answers(settings, ASKED) - before < statuses.count(200):
                assert time.monotonic() < deadline
                time.sleep(0.2)
        time.sleep(2)  # anything beyond the policy would be answered by now
    answered = _answers(settings, ASKED) - before
    assert 5 <= answered <= 6, (answered, statuses)  # the burst of 5 (and one token the 10 s refilled)
    assert statuses.count(429) >= 3 and answered == statuses.count(200), statuses  # refused at the door


def test_an_upload_needs_the_admins_session_not_the_admins_address(rig, tmp_path):
    app, url, settings = rig
    login = fn_index(app, "login")
    files = {"files": ("x.md", b"# x\n\nnew text\n", "text/markdown")}
    with client(3) as admin, client(3) as other:
        admin.get(f"{url}/")  # the page: the browser gets its cookie
        done = run_event(admin, url, login, [ADMIN])
        assert done.success, done.error
        admin.get(f"{url}/pr/session")  # what the page fetches after a login: the renamed cookie
        assert admin.post(f"{url}/gradio_api/upload", files=files).status_code == 200
        # same machine, same peer address, the admin's address claimed twice over: no session, no upload
        forged = {"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1", "Forwarded": "for=127.0.0.1"}
        refused = other.post(f"{url}/gradio_api/upload", files=files, headers=forged)
        assert refused.status_code == 403 and "admin login" in refused.json()["error"]
        other.get(f"{url}/")
        assert other.post(f"{url}/gradio_api/upload", files=files).status_code == 403  # a student's cookie
        rebuild = fn_index(app, "rebuild")
        assert join(other, url, rebuild, [None], session()).status_code == 403  # a privileged event too
        assert get_service(settings).role(_Request(admin.cookies.get("pr_session"))) is not None
        assert run_event(admin, url, fn_index(app, "logout"), []).success  # "sign out"
        assert get_service(settings).role(_Request(admin.cookies.get("pr_session"))) is None
        assert admin.post(f"{url}/gradio_api/upload", files=files).status_code == 403


class _Request:
    """Just enough of gr.Request for Service.role: the cookies a queued event keeps."""

    def __init__(self, cookie: str | None):
        self.kwargs = {"cookies": {"pr_session": cookie}}


@pytest.mark.parametrize(
    ("question", "history", "says"),
    [
        (42, None, "must be text"),
        (QUESTION, {"question": "x"}, "not dict"),
        (QUESTION, "a string", "not str"),
        (QUESTION, ["q"] * 10_000, "10,000 items"),
    ],
)
def test_bad_input_through_ask_gets_a_clear_error_and_the_server_stays_up(rig, question, history, says):
    _, url, _ = rig
    with client(4) as http:
        refused = ask(http, url, question, history)
        assert not refused.success and says in refused.error and " / " in refused.error, refused
        assert "internal error" not in refused.error.lower()


def test_nul_is_removed_and_the_answer_is_logged_on_the_store(rig):
    _, url, settings = rig
    with client(5) as http:
        answered = ask(http, url, "ارکان\u0000 اعتماد\u202e در روابط عمومی کدام‌اند؟", ["قبلی\u0000"])
    assert answered.success and answered.output["question"] == QUESTION, answered
    logged = get_service(settings).store().answers(limit=1)[0]
    assert logged.question == QUESTION


def test_a_chat_window_of_ten_thousand_messages_costs_about_what_an_empty_one_does(rig):
    """The page sends its whole chat window back with each question; the handler keeps the last 200."""
    app, url, settings = rig
    respond = fn_index(app, "respond")
    window = [
        {"role": "user" if n % 2 == 0 else "assistant", "content": [{"type": "text", "text": f"پیام {n}"}]}
        for n in range(10_000)
    ]  # what the page sends back: its whole chat window
    before = _answers(settings)
    seconds = []
    with client(6, timeout=120) as http:
        for sent in ([], window):
            started = time.perf_counter()
            done = run_event(http, url, respond, [QUESTION, sent, None, None])
            seconds.append(time.perf_counter() - started)
            assert done.success, done.error
            chat = done.output[0]
            messages = chat.get("value", chat) if isinstance(chat, dict) else chat
            assert isinstance(messages, list) and len(messages) == len(sent[-200:]) + 2  # kept + this turn
        assert _answers(settings) == before + 2  # both answered and logged
        assert seconds[1] < 2 * seconds[0] + 1.0, seconds  # not forty renderings of 10,000 messages
        assert ask(http, url, QUESTION).success  # and the server answers the next one
