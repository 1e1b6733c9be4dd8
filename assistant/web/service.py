"""The shared assistant behind every page and its lifecycle.

One :class:`Service` per ``Settings``, shared by every session: it creates
the :class:`~assistant.pipeline.Assistant` on first use (model and index,
built on a first start), keeps the stores, answers with a bounded number of
questions computing at once, and logs what was asked.  Tab builders call
only this object; what it hands back are the records of ``assistant.core``.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.middleware import Middleware

from ..core.errors import AssistantError
from ..core.inputs import Query, read_query
from ..core.records import Answer, Citation, Document, Hit, IndexStats, QuotedSource
from ..core.settings import Settings
from ..indexing.progress import BuildEvent
from ..pipeline import Assistant, needs_first_build
from ..serving.auth import LoginGuard, LoginPolicy, LoginResult, Role, Secrets, audit
from ..serving.limits import ClientLimiter, LimitPolicy, client_key
from ..serving.middleware import GRADIO_API_PREFIXES, RequestGuard
from ..serving.sessions import COOKIE, Sessions
from ..store import ReviewPage, ReviewQuery, Store, Verdict, write_verdicts_csv, write_verdicts_json
from ..store.throttle import StoreThrottle
from ..store.topics import Topic
from .desk import DeskService, has_subject

log = logging.getLogger("assistant.web")

#: who may put files into the corpus (the upload route and the save event check the session's role)
UPLOAD_ROLES = frozenset({Role.ADMIN})
NO_COOKIE = (
    "ورود بدون کوکی ممکن نیست؛ کوکی‌ها را برای این نشانی فعال کنید. / "
    "Signing in needs cookies: allow them for this address and try again."
)

INTERNAL_ERROR = "خطای داخلی رخ داد؛ دوباره تلاش کنید. / An internal error occurred; please try again."


class Busy(AssistantError):
    """Too many questions are waiting; the student is asked to retry shortly."""


def error_text(exc: BaseException) -> str:
    """What a user sees for an exception: our own messages as they are, anything else generic."""
    if isinstance(exc, AssistantError):  # user-fixable: the message is Persian, then English
        return str(exc)
    log.error("web handler failed", exc_info=exc)
    return INTERNAL_ERROR


def address_of(request: Any) -> str:
    """The client's address as the server can trust it: the peer (or what a named proxy said), IPv6 by /64."""
    return client_key(getattr(getattr(request, "client", None), "host", None))


def cookie_of(request: Any) -> str | None:
    """The session cookie a Gradio request carried (a live request, or one Gradio kept for its queue)."""
    raw = getattr(request, "request", None)
    cookies = getattr(raw, "cookies", None) if raw is not None else None
    if cookies is None:
        cookies = (getattr(request, "kwargs", None) or {}).get("cookies") or {}
    value = cookies.get(COOKIE) if hasattr(cookies, "get") else None
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Reply:
    """An answer and its row in the question log (None when logging is off or failed)."""

    answer: Answer
    log_id: int | None


class AnswerGate:
    """At most ``workers`` questions compute at once, the rest wait first come, first served.

    Why not Gradio's queue alone: when it is full the student gets Gradio's
    English message; here the refusal is ours, immediate and in Persian.  Why
    not a semaphore: a thread arriving just as a slot frees can take it before
    the ones already waiting, so under load a few questions wait many times
    longer than the rest.  A freed slot is handed to the oldest waiter.
    """

    def __init__(self, workers: int, max_waiting: int):
        self._free = workers
        self._queue: deque[threading.Event] = deque()
        self._lock = threading.Lock()
        self.max_waiting = max_waiting

    @property
    def _waiting(self) -> int:
        return len(self._queue)

    @contextmanager
    def turn(self):
        with self._lock:
            if self._free and not self._queue:
                self._free -= 1
                ticket = None
            elif len(self._queue) >= self.max_waiting:
                raise Busy(
                    "سامانه اکنون پرمشغله است؛ چند ثانیه دیگر دوباره بپرسید. / "
                    "The assistant is busy right now; please ask again in a few seconds."
                )
            else:
                ticket = threading.Event()
                self._queue.append(ticket)
        if ticket is not None:
            ticket.wait()  # set only by _release, which hands this thread its slot
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        with self._lock:
            if self._queue:
                self._queue.popleft().set()
            else:
                self._free += 1


class Service(DeskService):
    """The assistant, stores and limits for one set of settings (the desk's extras: ``desk.py``)."""

    def __init__(self, settings: Settings, say: Callable[[str], None] = print):
        self.settings = settings
        self.say = say
        self._assistant: Assistant | None = None
        self._store: Store | None = None
        self._lock = threading.RLock()  # start_background creates the assistant under it
        self.gate = AnswerGate(settings.answer_workers, settings.max_queue)
        self.secrets = Secrets.from_settings(settings)
        # failed logins are counted in the store, so every instance on one database sees the lockouts
        self.guard = LoginGuard(
            self.secrets, LoginPolicy.from_settings(settings), throttle=StoreThrottle(self.store)
        )
        self.sessions = Sessions(settings.session_idle_s)
        self.limiter = ClientLimiter.from_settings(settings)  # questions, from the chat and the API
        self.requests = ClientLimiter(LimitPolicy.for_requests(settings))  # every HTTP route that starts work
        self._watcher: Any = None
        self._preparing: threading.Thread | None = None
        self._prepare_error: Exception | None = None

    # ------------------------------------------------------------------ lifecycle

    def needs_first_build(self) -> bool:
        """True when starting will convert the model or build the index (tens of seconds)."""
        return needs_first_build(self.settings)

    def assistant(self) -> Assistant:
        """The one Assistant, built (and the index with it) on first call, or by :meth:`start_preparing`."""
        preparing = self._preparing
        if preparing is not None and preparing is not threading.current_thread():
            preparing.join()  # a question that arrives while the server starts waits for it
        with self._lock:
            if self._assistant is None:
                # a first start serves on PyTorch while the model is exported to ONNX
                self._assistant = Assistant(self.settings, say=self.say, export_in_background=True)
            return self._assistant

    def prepare(self, warm: bool = True) -> Assistant:
        """Create the Assistant now (model, index) and, with ``warm``, run one question through it."""
        if self.needs_first_build():
            self.say(
                "نخستین اجرا: مدل و نمایه ساخته می‌شوند؛ چند ثانیه صبر کنید… / "
                "First start: building the model and index, this takes a few seconds…"
            )
        else:
            self.say("بارگذاری مدل و نمایه… / Loading the model and index…")
        helper = self.assistant()
        if warm:
            helper.warm_up()
        return helper

    def start_preparing(self) -> None:
        """Prepare in a thread, so that importing and starting the web app overlap it."""
        if self._preparing is not None:  # started already: not the lock, which the thread holds till done
            return
        with self._lock:
            if self._preparing is None and self._assistant is None:
                self._preparing = threading.Thread(
                    target=self._prepare_in_thread, name="prepare", daemon=True
                )
                self._preparing.start()

    def _prepare_in_thread(self) -> None:
        try:
            self.prepare(warm=False)  # the warm-up waits for the web app: both want the interpreter
        except Exception as exc:  # raised again by wait_prepared() and by the first question
            self._prepare_error = exc

    def wait_prepared(self) -> Assistant:
        """The Assistant, once the preparing thread is done (not yet warmed up); its error if it failed."""
        if self._preparing is not None:
            self._preparing.join()
        if self._prepare_error is not None:
            error, self._prepare_error = self._prepare_error, None
            raise error
        return self.assistant()

    def store(self) -> Store:
        """Opened on first use, so that building the app writes nothing."""
        with self._lock:
            if self._store is None:
                self._store = Store.from_settings(self.settings)
            return self._store

    # ------------------------------------------------------------------ questions

    def query(self, question: object, history: object = None) -> Query:
        """The entry check of the chat and the API: types, characters, lengths; raises QuestionError."""
        return read_query(question, history, self.settings.max_question_chars)

    def client(self, request: Any) -> str:
        """Who asks, for every per-client limit: the trusted address, never a session id or a header."""
        return address_of(request)

    def ask(self, query: Query, *, client: str = "") -> Reply:
        """One answer for the chat and the API alike: within the client's limits, computed in turn, logged.

        ``client`` is who asks (:meth:`client`: the address); one client cannot
        hold more than a couple of workers or ask faster than its rate.  A bad
        question never gets here (:meth:`query`), so it costs no quota.
        """
        a = self.assistant()
        with self.limiter.acquire(client or "local"), self.gate.turn():
            answer = a.ask(query)
        return Reply(answer, self.log(answer))

    def ask_stream(self, query: Query, *, client: str = "") -> Iterator[str | Reply]:
        """As :meth:`ask`, yielding a chat model's text as it arrives, then the checked Reply."""
        a = self.assistant()
        with self.limiter.acquire(client or "local"), self.gate.turn():
            for part in a.ask_stream(query):
                yield Reply(part, self.log(part)) if isinstance(part, Answer) else part

    # ------------------------------------------------------------------ the corpus, for every tab

    def documents(self) -> list[Document]:
        return self.assistant().documents()

    def document(self, doc_id: str) -> Document | None:
        return self.assistant().document(doc_id)

    def open_citation(self, citation: Citation) -> QuotedSource:
        return self.assistant().open_citation(citation)

    def search(self, text: str, k: int) -> list[Hit]:
        return self.assistant().search(text, k)

    def stats(self) -> IndexStats:
        return self.assistant().stats()

    def log(self, answer: Answer) -> int | None:
        """Log the question and answer (and count a gap on abstention); never fails the answer."""
        try:
            return self.store().log_answer(
                answer.question,
                answer.to_dict(),
                resolved_question=getattr(answer, "resolved_question", ""),
                build_id=answer.build_id,
                timings=answer.timings_ms,
            )
        except Exception:
            log.exception("could not log the answer")
            return None

    # ------------------------------------------------------------------ maintainers and trainers

    def admin_login_enabled(self) -> bool:
        return self.secrets.can_open(Role.ADMIN)

    def trainer_login_enabled(self) -> bool:
        return self.secrets.can_open(Role.TRAINER)

    def login(self, request: Any, password: str, role: str) -> LoginResult:
        """Check a password for ``role`` (the admin's also opens the trainer's tab) and open a session.

        Never sleeps.  The session belongs to the browser's cookie (renamed on
        its next request), not to its address: another browser on the same
        address is still a student.
        """
        address = address_of(request)
        result = self.guard.check(address, password, role)
        if not result.ok or result.role is None:
            return result
        if self.sessions.grant(cookie_of(request), result.role, address) is None:
            audit.warning("login from %s without a session cookie: not signed in", address)
            return LoginResult(False, message=NO_COOKIE)
        return result

    def logout(self, request: Any) -> None:
        ended = self.sessions.revoke(cookie_of(request))
        if ended is not None:
            audit.info("logout: %s from %s", ended.role.value, address_of(request))

    def role(self, request: Any) -> Role | None:
        """The role of the request's live login session; None for a student (or an ended session)."""
        return self.sessions.role(cookie_of(request))

    def may_upload(self, role: Role | None) -> bool:
        return role in UPLOAD_ROLES

    def supported_types(self) -> tuple[str, ...]:
        return Assistant.supported_types

    def add_file(self, src: Path, original_name: str, on_conflict: str) -> str:
        """Save an upload into the corpus; returns a line saying what happened."""
        return self.assistant().add_file(src, original_name, on_conflict)

    def rebuild(self) -> Iterator[BuildEvent]:
        """Update the index in a child process, yielding its progress; the new build is then served."""
        yield from self.assistant().rebuild()

    def start_background(self) -> None:
        """Chores beside the server: serve new builds however they were made."""
        with self._lock:
            if self._watcher is None:
                self._watcher = self.assistant().watch()

    def middleware(
        self, privileged: dict[int | str, Role] | None = None, questions: set[int | str] | None = None
    ) -> list[Middleware]:
        """The ASGI guard: bodies capped; every route that starts work limited per address; the session
        cookie; uploads and ``privileged`` events (``login.privileged_events``) only for a signed-in role;
        ``questions`` (``app.question_events``) refused at the door once the client's quota is spent."""
        return [
            Middleware(
                RequestGuard,
                max_body_bytes=self.settings.max_request_bytes,
                limiters=dict.fromkeys(GRADIO_API_PREFIXES, self.requests),
                sessions=self.sessions,
                may_upload=self.may_upload,
                privileged=privileged or {},
                questions=questions or set(),
                question_limiter=self.limiter,
            )
        ]

    def rate(self, reply: Reply, rating: int | None, key: str, comment: str = "") -> None:
        if rating is None:
            self.store().retract(key)
        else:
            data = None if reply.log_id is not None else reply.answer.to_dict()
            self.store().rate(
                rating, answer_id=reply.log_id, question=reply.answer.question, answer=data, vote_key=key,
                comment=comment,
            )  # fmt: skip

    # ------------------------------------------------------------------ the trainers' desk

    def review_queue(self, query: ReviewQuery) -> ReviewPage:
        return self.store().review_queue(query)

    def logged_answer(self, answer_id: int) -> Answer | None:
        found = self.store().get_answer(answer_id)
        return None if found is None else Answer.from_dict(found.answer)

    def verdicts(self, answer_id: int) -> dict[int, Verdict]:
        return {v.n: v for v in self.store().verdicts(answer_id)}

    def set_verdict(self, answer_id: int, citation_n: int, verdict: str, note: str, reviewer: str) -> Verdict:
        return self.store().set_verdict(answer_id, citation_n, verdict, note=note, reviewer=reviewer)

    def gap_topics(self) -> list[Topic]:
        """Unanswered questions grouped by their e5 vectors, so trainers see what material to add."""
        return self.store().gap_clusters(self.assistant().embed_questions, keep=has_subject)

    def export_verdicts(self, fmt: str, folder: Path) -> Path:
        """Write every verdict as CSV or JSON lines into ``folder``; the path for a download."""
        path = folder / f"verdicts.{'csv' if fmt == 'csv' else 'jsonl'}"
        items = self.store().verdict_exports()
        with path.open("w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="") as fh:
            (write_verdicts_csv if fmt == "csv" else write_verdicts_json)(items, fh)
        return path


_services: dict[Settings, Service] = {}
_services_lock = threading.Lock()


def get_service(settings: Settings, say: Callable[[str], None] = print) -> Service:
    """The one Service for these settings (created on first call, shared by every session)."""
    with _services_lock:
        found = _services.get(settings)
        if found is None:
            found = _services[settings] = Service(settings, say)
        return found
