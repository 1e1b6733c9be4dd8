"""An ASGI guard in front of the web app: body size cap and per-client limits on API routes.

Pure ASGI (no framework import) so it wraps Gradio's FastAPI app, or any other,
with ``app.add_middleware(RequestGuard, ...)`` or ``RequestGuard(app, ...)``.
A body is refused by its Content-Length before the app runs, and a streamed
(chunked) one as soon as it passes the cap, so nobody can fill the disk or
memory through ``/gradio_api/upload``.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from .limits import Busy, ClientLimiter, client_key

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Gradio's public API routes (the UI's own events go through /gradio_api/queue/join).
GRADIO_API_PREFIXES = ("/gradio_api/upload", "/gradio_api/call/", "/gradio_api/run/", "/gradio_api/api/")
UPLOAD_PREFIX = "/gradio_api/upload"
UPLOAD_REFUSED = (
    "بارگذاری فایل فقط پس از ورود مدیر ممکن است. / Uploads are accepted only after an admin login."
)
FREE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # hold an in-flight slot but cost no rate


def too_large_message(limit: int) -> str:
    mb = limit / (1024 * 1024)
    return f"درخواست بزرگ‌تر از {mb:.0f} مگابایت است. / The request is larger than {mb:.0f} MB."


class RequestGuard:
    """Refuse bodies over ``max_body_bytes`` (413) and over-eager clients on ``limiters``' prefixes (429).

    ``limiters`` maps a path prefix to the ClientLimiter for it (the first
    matching prefix wins); clients are keyed by the peer address.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        limiters: Mapping[str, ClientLimiter] | None = None,
        upload_allowed: Callable[[str], bool] | None = None,
    ):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.limiters = dict(limiters or {})
        self.upload_allowed = upload_allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        if length is not None and length > self.max_body_bytes:
            await _reply(send, 413, too_large_message(self.max_body_bytes))
            return
        key = client_key((scope.get("client") or (None,))[0])
        if self._refuse_upload(scope, key):
            log.warning("upload refused from %s: no admin login from this address", key)
            await _reply(send, 403, UPLOAD_REFUSED)
            return
        limiter = next((lim for p, lim in self.limiters.items() if scope["path"].startswith(p)), None)
        if limiter is None:
            await self._capped(scope, receive, send)
            return
        cost = 0.0 if scope["method"] in FREE_METHODS else 1.0
        try:
            with limiter.acquire(key, cost):
                await self._capped(scope, receive, send)
        except Busy as exc:
            log.info("busy %s %s from %s", scope["method"], scope["path"], key)
            headers = [(b"retry-after", str(math.ceil(exc.retry_after_s)).encode())]
            await _reply(send, 429, str(exc), headers)

    def _refuse_upload(self, scope: Scope, key: str) -> bool:
        """Uploads only from where an admin logged in (Gradio's upload route has no session)."""
        if self.upload_allowed is None or scope["method"] in FREE_METHODS:
            return False
        return scope["path"].startswith(UPLOAD_PREFIX) and not self.upload_allowed(key)

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
                    log.info("body over %d bytes on %s: refused", self.max_body_bytes, scope["path"])
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


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _reply(send: Send, status: int, message: str, headers: list | None = None) -> None:
    body = json.dumps({"error": message}, ensure_ascii=False).encode("utf-8")
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
