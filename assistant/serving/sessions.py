"""Login sessions: rights kept on the server, named by a signed, HTTP-only, SameSite cookie.

Every browser carries an anonymous id in the ``pr_session`` cookie, minted by
the ASGI guard for any request that comes without a valid one; it costs the
server nothing until a login.  A login grants a role to a *new* id and the
browser is handed that id on its next request (the old one keeps working only
until then, or :data:`SWAP_GRACE_S` at most), so an id planted in a browser
before the login is worth nothing after it.  A session ends on logout or after
``idle_s`` without a request.  An address is never a credential: a request
without the cookie is a student, wherever it comes from.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from .auth import Role

COOKIE = "pr_session"
SWAP_GRACE_S = 60.0  # the pre-login id resolves to the new session until the browser shows the new one
SWAP_PATH = "/pr/session"  # the guard answers here; the login button fetches it to take the new id at once

Clock = Callable[[], float]


@dataclass
class LoginSession:
    """One signed-in browser: its role, the address it signed in from (for the log), when last seen."""

    sid: str
    role: Role
    address: str
    last_seen: float
    replaced: str = ""  # the pre-login id, until the browser shows this one


@dataclass(frozen=True)
class _Swap:
    new_sid: str
    until: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class Sessions:
    """Signed ids and the login sessions behind them; thread-safe, bounded, in this process's memory.

    Sessions are per instance, like Gradio's own state: several instances need
    the sticky sessions Gradio's queue needs anyway.
    """

    def __init__(
        self,
        idle_s: float,
        *,
        secret: bytes | None = None,
        clock: Clock = time.monotonic,
        max_sessions: int = 1000,
    ):
        self.idle_s = idle_s
        self._secret = secret or secrets.token_bytes(32)
        self._clock = clock
        self._max = max_sessions
        self._live: OrderedDict[str, LoginSession] = OrderedDict()  # least recently seen first
        self._swaps: dict[str, _Swap] = {}
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- cookie values

    def _sign(self, sid: str) -> str:
        return _b64(hmac.new(self._secret, sid.encode("ascii"), hashlib.sha256).digest()[:18])

    def mint(self) -> str:
        """A new anonymous cookie value: ``id.signature``."""
        return self._value(secrets.token_urlsafe(24))

    def _value(self, sid: str) -> str:
        return f"{sid}.{self._sign(sid)}"

    def read(self, value: str | None) -> str | None:
        """The id in a cookie value whose signature holds; None for anything else."""
        if not value or len(value) > 200 or value.count(".") != 1:
            return None
        sid, signature = value.split(".")
        if not sid.isascii() or not hmac.compare_digest(signature, self._sign(sid)):
            return None
        return sid

    # ---------------------------------------------------------------- sessions

    def grant(self, value: str | None, role: Role, address: str) -> LoginSession | None:
        """Sign the browser holding ``value`` in as ``role`` under a new id; None without a valid cookie."""
        old = self.read(value)
        if old is None:
            return None
        with self._lock:
            now = self._clock()
            self._sweep(now)
            previous = self._resolve(old, now)
            if previous is not None:  # signing in again (or as another role) replaces that session
                self._live.pop(previous.sid, None)
            session = LoginSession(secrets.token_urlsafe(24), role, address, now, replaced=old)
            self._live[session.sid] = session
            self._swaps[old] = _Swap(session.sid, now + SWAP_GRACE_S)
            while len(self._live) > self._max:
                _, dropped = self._live.popitem(last=False)
                self._swaps.pop(dropped.replaced, None)
        return session

    def session(self, value: str | None) -> LoginSession | None:
        """The live session behind a cookie value, marked as seen now; None when there is none."""
        sid = self.read(value)
        if sid is None:
            return None
        with self._lock:
            now = self._clock()
            session = self._resolve(sid, now)
            if session is None:
                return None
            if now - session.last_seen > self.idle_s:
                self._end(session)
                return None
            session.last_seen = now
            self._live.move_to_end(session.sid)
            if sid == session.sid and session.replaced:  # the browser holds the new id: the old one ends
                self._swaps.pop(session.replaced, None)
                session.replaced = ""
            return session

    def role(self, value: str | None) -> Role | None:
        session = self.session(value)
        return session.role if session is not None else None

    def revoke(self, value: str | None) -> LoginSession | None:
        """End the session behind this cookie value (logout); returns it, or None if there was none."""
        sid = self.read(value)
        if sid is None:
            return None
        with self._lock:
            session = self._resolve(sid, self._clock())
            if session is not None:
                self._end(session)
            return session

    def swap(self, value: str | None) -> str | None:
        """The cookie value this browser should now hold instead of ``value``, if a login renamed it."""
        sid = self.read(value)
        if sid is None:
            return None
        with self._lock:
            found = self._swaps.get(sid)
            if found is None or found.until <= self._clock() or found.new_sid not in self._live:
                return None
        return self._value(found.new_sid)

    def __len__(self) -> int:
        return len(self._live)

    # ---------------------------------------------------------------- under the lock

    def _resolve(self, sid: str, now: float) -> LoginSession | None:
        session = self._live.get(sid)
        if session is not None:
            return session
        found = self._swaps.get(sid)
        if found is None:
            return None
        if found.until <= now:
            del self._swaps[sid]
            return None
        return self._live.get(found.new_sid)

    def _end(self, session: LoginSession) -> None:
        self._live.pop(session.sid, None)
        self._swaps.pop(session.replaced, None)

    def _sweep(self, now: float) -> None:
        """Drop sessions idle too long (the least recently seen come first) and stale swaps."""
        while self._live:
            oldest = next(iter(self._live.values()))
            if now - oldest.last_seen <= self.idle_s:
                break
            self._end(oldest)
        for sid in [s for s, found in self._swaps.items() if found.until <= now]:
            del self._swaps[sid]
