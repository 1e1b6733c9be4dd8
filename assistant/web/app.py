"""The whole app: the tabs put together, the ``/ask`` API, and the server's start.

``build_demo`` builds nothing heavy: the assistant is created by the shared
:class:`~assistant.web.service.Service` on first use, or before the server
listens when :func:`serve` starts it (so the first student does not wait).
"""

from __future__ import annotations

import os

# Before gradio is imported: it reads this at import time and would otherwise
# start a thread that phones home for a version check.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import importlib.util
import logging
import sys
import time
from typing import Any

# Gradio tries `import matplotlib` twice for every event (to pin a plotting backend).  We draw
# no plots and do not install it, and a failed import is not cached: each try walked sys.path
# on the server's event loop, a tenth of its time under load.  None in sys.modules fails fast.
if importlib.util.find_spec("matplotlib") is None:
    sys.modules.setdefault("matplotlib", None)

import gradio as gr

from ..core.settings import Settings
from ..serving.limits import trusted_proxies
from .admin import build_admin_tab
from .chat import build_chat_tab
from .dashboard import build_dashboard_tab
from .gradio_state import StateExpiry, lazy_session_configs
from .login import privileged_events, staff_gate, wire_gate
from .review import KEYS_JS, build_review_tab
from .service import Service, error_text, get_service
from .sources import build_sources_tab, overview
from .theme import TITLE, launch_kwargs

INTRO = (
    f"# {TITLE}\n"
    "پاسخ‌ها فقط از متن منابع (وبینارها و گفتارهای روابط عمومی) برداشته می‌شوند"
    " و هر جمله شمارهٔ منبعش را دارد. اگر منابع پاسخی نداشته باشند، همین را می‌گوییم."
)


def _api(service: Service):
    def ask(question: str, history: list[Any] | None = None, request: gr.Request = None) -> dict:  # type: ignore[assignment]
        """Answer a question from the corpus: answer text, sentences, citations, related passages.

        ``history`` (optional) is the conversation so far, oldest first: earlier
        questions as strings, or ``{"question": ..., "answer": ...}`` objects.
        """
        try:
            query = service.query(question, history)  # the one check of what was sent
            return service.ask(query, client=service.client(request)).answer.to_dict()
        except Exception as exc:
            raise gr.Error(error_text(exc), print_exception=False) from None

    return ask


def build_demo(settings: Settings | None = None) -> gr.Blocks:
    """The app for these settings; tabs for maintainers and trainers only when their password is set."""
    settings = settings or Settings.from_env()
    service = get_service(settings)
    # Gradio's cached uploads and outputs older than an hour are deleted every ten minutes.
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(600, 3600)) as blocks:
        gr.Markdown(INTRO, rtl=True)
        gate = staff_gate(service) if service.trainer_login_enabled() else None  # the admin's counts too
        with gr.Tabs() as tabs:
            with gr.Tab("گفت‌وگو", id="chat"):
                chat = build_chat_tab(service)
            with gr.Tab("منابع", id="sources"):
                overview_outputs = list(build_sources_tab(service, tabs, chat))
            # the desk's tabs stay hidden until a trainer or the admin signs in (login.wire_gate)
            desk: list[gr.Tab] = []
            admin: list[gr.Tab] = []
            if gate is not None:
                with gr.Tab("بازبینی", id="review", visible=False) as review_tab:
                    build_review_tab(service, gate.trainer)
                with gr.Tab("داشبورد", id="dashboard", visible=False) as dashboard_tab:
                    build_dashboard_tab(service, gate.trainer)
                desk += [review_tab, dashboard_tab]
            if gate is not None and service.admin_login_enabled():
                with gr.Tab("نمایه", id="index", visible=False) as index_tab:
                    build_admin_tab(service, gate.admin, overview_outputs, lambda: overview(service))
                admin.append(index_tab)
        if gate is not None:
            wire_gate(service, gate, tabs, desk, admin, js=KEYS_JS)
        blocks.load(lambda: overview(service), None, overview_outputs, api_visibility="private")
        blocks.load(*chat.restore, api_visibility="private")  # the conversation this browser kept
        gr.api(
            _api(service), api_name="ask", concurrency_limit=settings.max_queue, concurrency_id="questions"
        )
    return blocks


def serve(
    host: str = "127.0.0.1",
    port: int = 7860,
    settings: Settings | None = None,
    *,
    app: gr.Blocks | None = None,
    block: bool = True,
    quiet: bool = True,
    started: float | None = None,
) -> gr.Blocks:
    """Start the web app while the assistant prepares (model and index on a first start) beside it;
    say it is ready once both are done, with what each step took.

    With ``block=False`` the server runs in a background thread and the app is
    returned (``app.close()`` stops it); tests and embedding use that.  ``started`` is when the
    caller began (``assistant serve`` counts importing Gradio too).
    """
    started = started or time.perf_counter()
    settings = settings or Settings.from_env()
    service = get_service(settings)
    service.start_preparing()  # `assistant serve` started it before importing Gradio already
    app = app or build_demo(settings)
    # queue positions every 2 s, not to every waiting client each time any job starts or ends
    # (with fifty waiting that was thousands of messages a second on the event loop)
    app.queue(max_size=settings.max_queue * 4, default_concurrency_limit=4, status_update_rate=2)
    trust_proxies(settings)
    lazy_session_configs()  # a new session id costs ~7 KB and no event-loop time, not ~160 KB and ~0.1 s
    app.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=True,
        quiet=quiet,
        app_kwargs={"middleware": service.middleware(privileged_events(app), question_events(app))},
        state_session_capacity=settings.max_sessions,
        **launch_kwargs(settings),
    )
    web_s = time.perf_counter() - started
    try:
        helper = service.wait_prepared()
        helper.warm_up()  # the page already answers; a question asked meanwhile runs beside this
    except Exception:
        app.close()
        raise
    StateExpiry(app, settings.state_idle_s).start()
    service.start_background()
    url = app.local_url or f"http://{host}:{port}/"
    steps = {**helper.startup_s, "web": web_s, "ready": time.perf_counter() - started}
    service.say("startup: " + " · ".join(f"{k} {v:.2f} s" for k, v in steps.items()))
    service.say(f"دستیار آماده است: {url} / The assistant is ready at {url}")
    if block:
        app.block_thread()
    return app


def question_events(blocks: gr.Blocks) -> set[int | str]:
    """The events that ask a question (concurrency id "questions": the chat and ``/ask``), by index and name.

    The ASGI guard refuses them at the door when the client's question quota
    is spent, so a flood of them never reaches Gradio's queue.
    """
    found: set[int | str] = set()
    for index, fn in blocks.fns.items():
        if fn.concurrency_id == "questions":
            found.add(index)
            if fn.api_name:
                found.add(str(fn.api_name))
    return found


def trust_proxies(settings: Settings) -> None:
    """Hand ``ASSISTANT_TRUSTED_PROXIES`` to uvicorn, whose default believes X-Forwarded-For from loopback.

    Gradio builds uvicorn's ``Config`` without ``forwarded_allow_ips``, so
    uvicorn reads ``FORWARDED_ALLOW_IPS`` from the environment; it is set here
    for every launch (empty: nobody is trusted, the peer is the client).
    """
    wanted = trusted_proxies(settings.trusted_proxies)
    before = os.environ.get("FORWARDED_ALLOW_IPS")
    if before and before != wanted:
        logging.getLogger("assistant.web").warning(
            "FORWARDED_ALLOW_IPS=%s is replaced by ASSISTANT_TRUSTED_PROXIES=%s", before, wanted or "(none)"
        )
    os.environ["FORWARDED_ALLOW_IPS"] = wanted
