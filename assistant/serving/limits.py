"""Per-client limits: how often and how many at once one client may ask.

One student pasting a script must not slow the chat for the whole class: each
client key gets a token bucket (a sustained rate plus a small burst) and a cap on
requests in flight.  Decisions are immediate and a refusal says how long to wait.

Written here, not with the ``limits`` package (looked at, 5.8.0): its in-memory
storage reads the wall clock inline (no clock to inject, jumps with NTP), starts
a timer thread per storage, has no token bucket in its sync API and no
in-flight count; the bucket below is twenty lines.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..core.errors import AssistantError
from ..core.settings import Settings

Clock = Callable[[], float]
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
INFLIGHT_RETRY_S = 2.0  # a question usually finishes well within this
ADMIT_TTL_S = 10.0  # a question let in at the door reaches the answer path well within this
#: HTTP requests one address may have open at once (a page holds two streams; a few tabs, downloads)
REQUEST_INFLIGHT = 8


class Busy(AssistantError):
    """This client must wait ``retry_after_s`` seconds; ``str()`` is "Persian / English".

    ``what`` names what was refused: "questions" (answers) or "requests" (any HTTP work).
    """

    def __init__(self, retry_after_s: float, inflight: bool = False, what: str = "questions"):
        self.retry_after_s = retry_after_s
        self.inflight = inflight
        n = max(1, math.ceil(retry_after_s))
        fa = str(n).translate(_PERSIAN_DIGITS)
        if inflight:
            message = (
                f"درخواست قبلی شما هنوز در جریان است؛ {fa} ثانیه دیگر دوباره امتحان کنید. / "
                f"Your previous request is still running; try again in {n} s."
            )
        elif what == "requests":
            message = (
                f"درخواست‌ها زیاد بود؛ {fa} ثانیه دیگر دوباره امتحان کنید. / "
                f"Too many requests; try again in {n} s."
            )
        else:
            message = (
                f"پرسش‌ها زیاد بود؛ {fa} ثانیه دیگر دوباره بپرسید. / Too many questions; try again in {n} s."
            )
        super().__init__(message)


@dataclass(frozen=True)
class LimitPolicy:
    per_minute: float = 20  # sustained rate
    burst: int = 5  # requests allowed back to back after a quiet spell
    max_inflight: int = 2  # requests running at once
    max_clients: int = 10_000  # idle client keys beyond this are forgotten (least recent first)
    what: str = "questions"  # named in the refusal

    @classmethod
    def from_settings(cls, settings: Settings) -> LimitPolicy:
        """Questions: what a student may ask."""
        return cls(
            per_minute=max(1, settings.rate_per_minute),
            burst=max(1, settings.rate_burst),
            max_inflight=max(1, settings.max_inflight),
        )

    @classmethod
    def for_requests(cls, settings: Settings) -> LimitPolicy:
        """Any HTTP request that starts work: generous for a person, tight for a script."""
        return cls(
            per_minute=max(1, settings.requests_per_minute),
            burst=max(1, settings.request_burst),
            max_inflight=REQUEST_INFLIGHT,
            what="requests",
        )


@dataclass
class _Bucket:
    tokens: float
    stamp: float
    inflight: int = 0
    admitted: list[float] = field(default_factory=list)  # let in at the door, not entered yet (when)


class ClientLimiter:
    """A token bucket and an in-flight count per client key; thread-safe, never sleeps."""

    def __init__(self, policy: LimitPolicy | None = None, clock: Clock = time.monotonic):
        self.policy = policy or LimitPolicy()
        self._clock = clock
        self._clients: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock = time.monotonic) -> ClientLimiter:
        return cls(LimitPolicy.from_settings(settings), clock)

    @contextmanager
    def acquire(self, client_key: str, cost: float = 1.0) -> Iterator[None]:
        """Hold one in-flight slot for the ``with`` body; ``cost=0`` counts in-flight only.

        Raises Busy on entering when the client has too many requests running
        or has used up its rate; nothing is taken from the client then.
        """
        self.enter(client_key, cost)
        try:
            yield
        finally:
            self.leave(client_key)

    def _bucket(self, key: str, now: float) -> _Bucket:
        """The client's bucket, refilled to ``now``, moved to the most recently seen end (under the lock)."""
        p = self.policy
        bucket = self._clients.pop(key, None) or _Bucket(tokens=float(p.burst), stamp=now)
        self._clients[key] = bucket
        bucket.tokens = min(float(p.burst), bucket.tokens + (now - bucket.stamp) * p.per_minute / 60.0)
        bucket.stamp = now
        return bucket

    def enter(self, key: str, cost: float = 1.0) -> None:
        """Take ``cost`` tokens and one in-flight slot, or raise Busy; pair with :meth:`leave`."""
        p = self.policy
        rate = p.per_minute / 60.0
        with self._lock:
            bucket = self._bucket(key, self._clock())
            if bucket.admitted:
                bucket.admitted.pop(0)  # one the door let in has arrived
            if bucket.inflight >= p.max_inflight:
                raise Busy(INFLIGHT_RETRY_S, inflight=True, what=p.what)
            if bucket.tokens < cost:
                raise Busy((cost - bucket.tokens) / rate, what=p.what)
            bucket.tokens -= cost
            bucket.inflight += 1
            self._forget_idle()

    def admit(self, key: str, cost: float = 1.0) -> Busy | None:
        """At the door: the Busy that would refuse one more question, counting those let in; else None.

        Why: the ASGI guard asks this before Gradio queues a question, so a
        question that would be refused costs a 429, not a queued event, and
        a burst of requests arriving together cannot all slip in before the
        first is charged.  Tokens are taken by :meth:`enter`, on the answer path.
        """
        p = self.policy
        with self._lock:
            now = self._clock()
            bucket = self._bucket(key, now)
            bucket.admitted = [t for t in bucket.admitted if now - t < ADMIT_TTL_S]
            waiting = len(bucket.admitted)  # a refused input never arrives: its token is free again soon
            if bucket.inflight >= p.max_inflight:
                return Busy(INFLIGHT_RETRY_S, inflight=True, what=p.what)
            if bucket.tokens - waiting * cost < cost:
                return Busy((cost * (waiting + 1) - bucket.tokens) / (p.per_minute / 60.0), what=p.what)
            bucket.admitted.append(now)
            self._forget_idle()
        return None

    def leave(self, key: str) -> None:
        with self._lock:
            bucket = self._clients.get(key)
            if bucket is not None:
                bucket.inflight -= 1

    def _forget_idle(self) -> None:
        """Bound memory: drop the least recently seen clients with nothing running."""
        excess = len(self._clients) - self.policy.max_clients
        if excess <= 0:
            return
        for key in [k for k, b in self._clients.items() if b.inflight == 0][:excess]:
            del self._clients[key]

    def __len__(self) -> int:
        """Client keys remembered (bounded by ``max_clients`` plus those with requests running)."""
        return len(self._clients)

    def inflight(self, client_key: str) -> int:
        with self._lock:
            bucket = self._clients.get(client_key)
            return bucket.inflight if bucket else 0


def client_key(host: str | None) -> str:
    """The limit key for a peer address: IPv4 as is, IPv6 by its /64 (one host owns a whole /64)."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # e.g. Starlette's TestClient calls itself "testclient"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def trusted_proxies(text: str) -> str:
    """``ASSISTANT_TRUSTED_PROXIES`` checked for uvicorn's ``forwarded_allow_ips``: addresses or networks.

    Empty trusts nobody: the peer is the client and ``X-Forwarded-For`` is
    ignored.  ``*`` is refused: it would let any client name its own address.
    """
    items = [item.strip() for item in text.split(",") if item.strip()]
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise AssistantError(
                f"«{item}» در ASSISTANT_TRUSTED_PROXIES نشانی IP یا شبکه نیست. / "
                f"ASSISTANT_TRUSTED_PROXIES: {item!r} is not an IP address or network "
                "(e.g. 10.0.0.5, 10.0.0.0/24)."
            ) from None
    return ",".join(items)
