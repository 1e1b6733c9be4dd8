"""An ASGI guard in front of the web app: one identity per client, body cap, sessions, uploads, events.

Pure ASGI (no framework import) so it wraps Gradio's FastAPI app, or any
other, with ``app.add_middleware(RequestGuard, ...)`` or ``RequestGuard(app, ...)``.

- **Who**: the client is the peer address.  uvicorn replaces it from
  ``X-Forwarded-For`` only when the peer is a proxy the deployment named
  (``ASSISTANT_TRUSTED_PROXIES`` → ``forwarded_allow_ips``); nothing the
  client chooses (a session hash, a header) makes it another client.
- **How much**: every route that starts work (:data:`GRADIO_API_PREFIXES`:
  events, API calls, uploads, files) takes from the client's bucket: 429 with
  ``Retry-After`` when it is empty.  A body is refused by its
  Content-Length before the app runs, and a streamed one as soon as it
  passes the cap (413).
- **Questions**: an event that asks a question (``questions``, by
  ``fn_index`` or API name) is refused at the door (429) when the client's
  question limiter would refuse it, counting the questions already let in,
  so a flood of them never reaches Gradio's queue; the limiter is charged
  where the answer is made.
- **Rights**: the ``pr_session`` cookie (``serving.sessions``) is minted
  when missing and renamed after a login; an upload needs a session whose
  role may upload, and an event marked privileged (by ``fn_index`` or API
  name) a session that opens its role (403 otherwise).  Never an address.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable, Collection, Mapping, MutableMapping
from typing import Any

from .auth import Role, audit
from .limits import Busy, ClientLimiter, client_key
from .sessions import COOKIE, SWAP_PATH, Sessions

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Every Gradio route that starts work for a client (the UI's events go through queue/join).
GRADIO_API_PREFIXES = (
    "/gradio_api/queue/join",
    "/gradio_api/call/",
    "/gradio_api/run/",
    "/gradio_api/api/",
    "/gradio_api/upload",
    "/gradio_api/component_server",
    "/gradio_api/file=",
    "/gradio_api/file/",
    "/gradio_api/stream/",
    "/gradio_api/reset",
    "/gradio_api/cancel",
    "/gradio_api/process_recording",
)
#: Routes that run an event: their body names it (``fn_index``) or their path does (the API name).
EVENT_PREFIXES = ("/gradio_api/queue/join", "/gradio_api/call/", "/gradio_api/run/", "/gradio_api/api/")
UPLOAD_PREFIX = "/gradio_api/upload"
UPLOAD_REFUSED = (
    "بارگذاری فایل فقط پس از ورود مدیر ممکن است. / Uploads are accepted only after an admin login."
)
SIGN_IN_AGAIN = (
    "برای این کار باید وارد شده باشید؛ نشست ورود شما پایان یافته یا باز نشده است. / "
    "Sign in first: your login session has ended or was never opened."
)
FREE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # hold an in-flight slot but cost no rate
TARPIT_S = 1.0  # a refusal (429) is sent after this long at most (see RequestGuard._too_many)
MAX_TARPIT = 512  # refusals held back at once; beyond this they go out at once


def too_large_message(limit: int) -> str:
    mb = limit / (1024 * 1024)
    return f"درخواست بزرگ‌تر از {mb:.0f} مگابایت است. / The request is larger than {mb:.0f} MB."


class RequestGuard:
    """Refuse big bodies (413), over-eager clients (429), session-less uploads and privileged events (403).

    ``limiters`` maps a path prefix to the ClientLimiter for it (the first
    matching prefix wins); clients are keyed by the peer address.  With
    ``sessions``, every browser gets its cookie; ``may_upload`` decides
    uploads by the session's role; ``privileged`` maps an event (its
    ``fn_index`` or API name) to the role it needs; ``questions`` are the
    events ``question_limiter`` must let through.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        limiters: Mapping[str, ClientLimiter] | None = None,
        sessions: Sessions | None = None,
        may_upload: Callable[[Role | None], bool] | None = None,
        privileged: Mapping[int | str, Role] | None = None,
        questions: Collection[int | str] = (),
        question_limiter: ClientLimiter | None = None,
        tarpit_s: float = TARPIT_S,
    ):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.limiters = dict(limiters or {})
        self.sessions = sessions
        self.may_upload = may_upload
        self.privileged = dict(privileged or {})
        self.questions = frozenset(questions) if question_limiter is not None else frozenset()
        self.question_limiter = question_limiter
        self.tarpit_s = tarpit_s
        self._tarpitted = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        if length is not None and length > self.max_body_bytes:
            await _reply(send, 413, too_large_message(self.max_body_bytes))
            return
        cookie, send = self._cookie(scope, send)
        if scope["path"] == SWAP_PATH:  # the login button's fetch: the renamed cookie rides on this reply
            await _reply(send, 200, "")
            return
        key = client_key((scope.get("client") or (None,))[0])
        limiter = next((lim for p, lim in self.limiters.items() if scope["path"].startswith(p)), None)
        if limiter is None:
            await self._capped(scope, receive, send)
            return
        try:
            limiter.enter(key, 0.0 if scope["method"] in FREE_METHODS else 1.0)
        except Busy as exc:
            await self._too_many(send, exc)
            return
        try:
            await self._checked(scope, receive, send, key, cookie)
        finally:
            limiter.leave(key)

    def _cookie(self, scope: Scope, send: Send) -> tuple[str | None, Send]:
        """This request's session cookie, minted (and put on the request) when missing or forged.

        The reply carries a ``Set-Cookie`` for a new or renamed id; the
        session behind the cookie is marked as seen (it expires when idle).
        """
        if self.sessions is None:
            return None, send
        value = _cookies(scope).get(COOKIE)
        issue = None
        if self.sessions.read(value) is None:
            value = issue = self.sessions.mint()
            others = [f"{k}={v}" for k, v in _cookies(scope).items() if k != COOKIE]
            headers = [(k, v) for k, v in scope.get("headers", []) if k != b"cookie"]
            scope["headers"] = [*headers, (b"cookie", "; ".join([*others, f"{COOKIE}={value}"]).encode())]
        else:
            issue = self.sessions.swap(value)
            self.sessions.session(value)
        if issue is None:
            return value, send
        attributes = "; Path=/; HttpOnly; SameSite=Lax" + (
            "; Secure" if scope.get("scheme") == "https" else ""
        )
        header = (b"set-cookie", f"{COOKIE}={issue}{attributes}".encode("latin-1"))

        async def with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), header]}
            await send(message)

        return value, with_cookie

    async def _checked(
        self, scope: Scope, receive: Receive, send: Send, key: str, cookie: str | None
    ) -> None:
        """Uploads and privileged events need the right session, questions the client's quota."""
        path = scope["path"]
        if scope["method"] in FREE_METHODS:
            pass
        elif path.startswith(UPLOAD_PREFIX) and self.may_upload is not None and self.sessions is not None:
            if not self.may_upload(self.sessions.role(cookie)):
                audit.warning("upload refused from %s: no session that may upload", key)
                await _reply(send, 403, UPLOAD_REFUSED)
                return
        elif (self.privileged or self.questions) and path.startswith(EVENT_PREFIXES):
            buffered = await self._buffer(receive, send)
            if buffered is None:
                return
            body, receive = buffered
            if not await self._event_allowed(path, body, send, key, cookie):
                return
        await self._capped(scope, receive, send)

    async def _event_allowed(self, path: str, body: bytes, send: Send, key: str, cookie: str | None) -> bool:
        """Refuse (and say why) a privileged event without its session, or a question over the quota."""
        names = _event_names(path, body)
        need = next((self.privileged[n] for n in names if n in self.privileged), None)
        if need is not None:
            role = self.sessions.role(cookie) if self.sessions is not None else None
            if role is None or not role.opens(need):
                audit.warning("%s event refused from %s: no %s session", need.value, key, need.value)
                await _reply(send, 403, SIGN_IN_AGAIN)
                return False
        if self.question_limiter is not None and any(n in self.questions for n in names):
            busy = self.question_limiter.admit(key)
            if busy is not None:
                await self._too_many(send, busy)
                return False
        return True

    async def _too_many(self, send: Send, busy: Busy) -> None:
        """429 with Retry-After, sent after a pause of up to ``tarpit_s``.

        Why: a script that fires again as soon as it is refused makes the
        server parse a request for every refusal; held a second, each of its
        connections costs one request a second, not hundreds.  The pause
        holds no slot, and at most :data:`MAX_TARPIT` replies wait at once.
        """
        if self.tarpit_s > 0 and self._tarpitted < MAX_TARPIT:
            self._tarpitted += 1
            try:
                await asyncio.sleep(min(busy.retry_after_s, self.tarpit_s))
            finally:
                self._tarpitted -= 1
        headers = [(b"retry-after", str(math.ceil(busy.retry_after_s)).encode())]
        await _reply(send, 429, str(busy), headers)

    async def _buffer(self, receive: Receive, send: Send) -> tuple[bytes, Receive] | None:
        """Read the whole (capped) body, and a ``receive`` that hands it to the app again."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None  # the client left
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body_bytes:
                await _reply(send, 413, too_large_message(self.max_body_bytes))
                return None
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        given = False

        async def replay() -> Message:
            nonlocal given
            if given:
                return await receive()  # after the body: a disconnect, whenever it comes
            given = True
            return {"type": "http.request", "body": body, "more_body": False}

        return body, replay

    async def _capped(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app, counting streamed body bytes; past the cap answer 413 and end the body."""
        seen = 0
        started = replied = False

        async def capped_receive() -> Message:
            nonlocal seen, replied
            if replied:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    if not started:
                        await _reply(send, 413, too_large_message(self.max_body_bytes))
                    replied = True
                    return {"type": "http.disconnect"}  # the app stops reading, as if the client left
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if replied:
                return  # our 413 went out; the app's late answer is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, capped_receive, guarded_send)
        except Exception:
            if not replied:  # else: the app tripped over the body we cut (e.g. ClientDisconnect)
                raise


def _event_names(path: str, body: bytes) -> list[int | str]:
    """What an event route runs: the ``fn_index`` in its body, and the API name in its path (call/run/api)."""
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = None
    index = data.get("fn_index") if isinstance(data, dict) else None
    names: list[int | str] = [index] if isinstance(index, int) and not isinstance(index, bool) else []
    if not path.startswith("/gradio_api/queue/"):
        names.append(path.rstrip("/").rsplit("/", 1)[-1])
    return names


def _cookies(scope: Scope) -> dict[str, str]:
    """The request's cookies (a tolerant parse: a malformed pair is skipped, never an error)."""
    found: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        if name != b"cookie":
            continue
        for pair in value.decode("latin-1").split(";"):
            key, sep, val = pair.strip().partition("=")
            if sep and key:
                found.setdefault(key, val.strip().strip('"'))
    return found


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _reply(send: Send, status: int, message: str, headers: list | None = None) -> None:
    body = json.dumps({"error": message, "detail": message}, ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
