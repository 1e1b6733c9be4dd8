"""Who may open the Index and review tabs: passwords that resist guessing.

The web server answers many clients at once, so a guesser must neither slow
down nor lock out the real admin.  Each client address gets a few tries with
a growing wait, then a lockout of that address; each account (role) is locked
too after many failures from anywhere, so many addresses do not buy many
guesses.  The records live in the store (``store.throttle``), so every
instance on one database sees the same lockouts.  The check never sleeps: it
returns the decision and how long to wait.  Every success, failure and
refusal is logged on ``assistant.audit`` with the address.  Passwords compare
in constant time and may be stored as scrypt hashes made by
``assistant password hash``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from ..core.errors import AssistantError
from ..core.settings import Settings
from ..store.throttle import MemoryThrottle, Throttle, ThrottleRecord

#: logins, failures, lockouts and refused uploads, with the client's address (``assistant serve`` shows them)
audit = logging.getLogger("assistant.audit")

Clock = Callable[[], float]

SCRYPT_N = 2**14  # 16 MiB and ~50 ms a check: cheap for one login, costly for a million guesses
SCRYPT_R = 8
SCRYPT_P = 1
_MAX_N = 2**20  # a configured hash may not ask for more than 1 GiB
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


class Role(StrEnum):
    ADMIN = "admin"
    TRAINER = "trainer"

    def opens(self, need: Role) -> bool:
        """The admin opens everything; the trainer opens the trainer's (review) tab."""
        return self is Role.ADMIN or self is need


class BadPasswordHash(AssistantError):
    """A configured ``*_PASSWORD_HASH`` that is not ``scrypt$n$r$p$salt$hash``."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """``scrypt$n$r$p$salt_b64$hash_b64`` with a fresh random salt (stdlib only)."""
    salt = os.urandom(16)
    digest = _scrypt(password, salt, n, r, p)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    maxmem = 128 * r * (n + p + 2) + (1 << 20)
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=32)


@dataclass(frozen=True)
class PasswordHash:
    """A parsed scrypt hash; ``matches`` recomputes and compares in constant time."""

    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes

    @classmethod
    def parse(cls, text: str, source: str = "password hash") -> PasswordHash:
        parts = text.strip().split("$")
        try:
            if len(parts) != 6 or parts[0] != "scrypt":
                raise ValueError("expected scrypt$n$r$p$salt$hash")
            n, r, p = (int(x) for x in parts[1:4])
            salt, digest = (base64.b64decode(x, validate=True) for x in parts[4:6])
            if n < 2 or n & (n - 1) or n > _MAX_N or not 1 <= r <= 64 or not 1 <= p <= 16:
                raise ValueError(f"n={n} r={r} p={p} out of range")
            if len(salt) < 8 or len(digest) < 16:
                raise ValueError("salt or hash too short")
        except (ValueError, binascii.Error) as exc:
            raise BadPasswordHash(
                f"مقدار {source} درهم درست نیست؛ با `assistant password hash` بسازید. / "
                f"{source} is not a valid hash ({exc}); make one with `assistant password hash`."
            ) from None
        return cls(n, r, p, salt, digest)

    def matches(self, password: str) -> bool:
        return hmac.compare_digest(_scrypt(password, self.salt, self.n, self.r, self.p), self.digest)


@dataclass(frozen=True)
class Secret:
    """One role's password, plain (kept only as its SHA-256) or hashed; empty means not configured."""

    plain_sha256: bytes = b""
    hashed: PasswordHash | None = None

    @classmethod
    def from_values(cls, plain: str, hashed: str, name: str) -> Secret:
        if plain and hashed:
            raise AssistantError(
                f"برای {name} فقط یکی از گذرواژه یا درهم را بدهید. / "
                f"Set either {name} or {name}_HASH, not both."
            )
        if hashed:
            return cls(hashed=PasswordHash.parse(hashed, f"{name}_HASH"))
        return cls(plain_sha256=hashlib.sha256(plain.encode("utf-8")).digest() if plain else b"")

    @property
    def configured(self) -> bool:
        return bool(self.plain_sha256) or self.hashed is not None

    def matches(self, password: str) -> bool:
        """Constant time: digests of equal length, so not even the length leaks."""
        if self.hashed is not None:
            return self.hashed.matches(password)
        if not self.plain_sha256:
            return False
        return hmac.compare_digest(hashlib.sha256(password.encode("utf-8")).digest(), self.plain_sha256)


@dataclass(frozen=True)
class Secrets:
    admin: Secret = field(default_factory=Secret)
    trainer: Secret = field(default_factory=Secret)

    @classmethod
    def from_settings(cls, settings: Settings) -> Secrets:
        """Raises BadPasswordHash / AssistantError at start-up, not at the first login."""
        return cls(
            admin=Secret.from_values(
                settings.admin_password, settings.admin_password_hash, "ASSISTANT_ADMIN_PASSWORD"
            ),
            trainer=Secret.from_values(
                settings.trainer_password, settings.trainer_password_hash, "ASSISTANT_TRAINER_PASSWORD"
            ),
        )

    def can_open(self, need: Role) -> bool:
        """Whether any configured password opens ``need`` (else hide that tab)."""
        return self.admin.configured or (need is Role.TRAINER and self.trainer.configured)

    def role_for(self, password: str, need: Role | None = None) -> Role | None:
        """The role this password opens; only the secrets that could open ``need`` are checked."""
        if self.admin.matches(password):
            return Role.ADMIN
        if need is not Role.ADMIN and self.trainer.matches(password):
            return Role.TRAINER
        return None


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5  # the next try after this many failures in the window is locked out
    window_s: float = 15 * 60
    lockout_s: float = 5 * 60
    backoff_s: float = 1.0  # wait after the first failure, doubled after each further one
    backoff_max_s: float = 30.0
    account_max_failures: int = 20  # failures for one role from all addresses together before its lockout

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginPolicy:
        return cls(
            max_failures=max(1, settings.login_max_failures),
            window_s=settings.login_window_s,
            lockout_s=settings.login_lockout_s,
            account_max_failures=max(1, settings.login_account_max_failures),
        )

    def backoff(self, failures: int) -> float:
        return min(self.backoff_s * 2 ** (failures - 1), self.backoff_max_s) if failures else 0.0


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    role: Role | None = None
    message: str = ""  # "Persian / English"; empty when ok
    retry_after_s: float = 0.0  # > 0: this client may not try again before then


def wait_text(seconds: float) -> tuple[str, str]:
    """A wait as Persian and English words: seconds under 90 s, else whole minutes (rounded up)."""
    if seconds < 90:
        n = max(1, math.ceil(seconds))
        return f"{n} ثانیه".translate(_PERSIAN_DIGITS), f"{n} s"
    n = math.ceil(seconds / 60)
    return f"{n} دقیقه".translate(_PERSIAN_DIGITS), f"{n} min"


DISABLED = "ورود برای این بخش فعال نیست. / Login is not enabled for this section."


def _wrong(left: int) -> str:
    left = max(0, left)
    fa_left = str(left).translate(_PERSIAN_DIGITS)
    return f"گذرواژه نادرست است ({fa_left} بار دیگر). / Wrong password ({left} more tries before a lockout)."


def _locked(seconds: float) -> str:
    fa, en = wait_text(seconds)
    return (
        f"تلاش‌های نادرست زیاد بود؛ {fa} دیگر دوباره امتحان کنید. / "
        f"Too many wrong passwords; try again in {en}."
    )


def _slow_down(seconds: float) -> str:
    fa, en = wait_text(seconds)
    return f"لطفاً {fa} صبر کنید و دوباره امتحان کنید. / Please wait {en} and try again."


@dataclass(frozen=True)
class _Tried:
    """A try counted up front: the address's failures so far and the wait it now faces."""

    failures: int
    wait: float
    locked: bool
    stamp: float


class LoginGuard:
    """Checks passwords per client address and per account, with back-off and lockout; never sleeps.

    Each try is counted as a failure *before* the (slow, scrypt) check and
    forgiven if the password was right, so parallel guesses from one client
    cannot slip past the limit together.  ``throttle`` keeps the counts: the
    store's (shared by instances) or, by default, this process's memory.
    """

    def __init__(
        self,
        secrets: Secrets,
        policy: LoginPolicy | None = None,
        clock: Clock = time.time,
        throttle: Throttle | None = None,
    ):
        self.secrets = secrets
        self.policy = policy or LoginPolicy()
        self._clock = clock
        self.throttle: Throttle = throttle or MemoryThrottle()

    @classmethod
    def from_settings(
        cls, settings: Settings, clock: Clock = time.time, throttle: Throttle | None = None
    ) -> LoginGuard:
        return cls(Secrets.from_settings(settings), LoginPolicy.from_settings(settings), clock, throttle)

    def check(self, client_key: str, password: str, role: Role | str | None = None) -> LoginResult:
        """``role``: the tab being opened (None: whichever role the password opens)."""
        need = Role(role) if role is not None else None
        address = client_key or "unknown"
        what = need.value if need else "any"
        if not self.secrets.can_open(need or Role.TRAINER):
            return LoginResult(False, message=DISABLED)
        keys = (f"address:{address}", f"account:{what}")
        tried = self._reserve(keys)
        if isinstance(tried, LoginResult):
            audit.warning("login throttled: %s from %s, %.0f s to wait", what, address, tried.retry_after_s)
            return tried
        matched = self.secrets.role_for(password or "", need)
        if matched is not None and (need is None or matched.opens(need)):
            self._forgive(keys, tried.stamp)
            audit.info("login ok: %s from %s", matched.value, address)
            return LoginResult(True, role=matched)
        if tried.locked:
            audit.warning(
                "login failed: %s password from %s (%d recent): locked out for %.0f s",
                what, address, tried.failures, tried.wait,
            )  # fmt: skip
            return LoginResult(False, message=_locked(tried.wait), retry_after_s=tried.wait)
        audit.warning("login failed: %s password from %s (%d recent)", what, address, tried.failures)
        left = self.policy.max_failures - tried.failures
        return LoginResult(False, message=_wrong(left), retry_after_s=max(0.0, tried.wait))

    def _reserve(self, keys: tuple[str, str]) -> LoginResult | _Tried:
        """Refuse a locked or too-early client; otherwise count this try as a failure up front."""
        p = self.policy
        with self.throttle.hold(keys) as held:
            now = self._clock()
            client, account = held[keys[0]], held[keys[1]]
            for record in (client, account):
                record.failures = [t for t in record.failures if now - t < p.window_s]
            locked = max(client.locked_until, account.locked_until)
            if locked > now:
                return LoginResult(False, message=_locked(locked - now), retry_after_s=locked - now)
            if client.next_try > now:
                wait = client.next_try - now
                return LoginResult(False, message=_slow_down(wait), retry_after_s=wait)
            client.failures.append(now)
            account.failures.append(now)
            client.next_try = now + p.backoff(len(client.failures))
            if len(client.failures) >= p.max_failures:
                client.locked_until = now + p.lockout_s
            if len(account.failures) >= p.account_max_failures:
                account.locked_until = now + p.lockout_s
            until = max(client.locked_until, account.locked_until, client.next_try)
            return _Tried(len(client.failures), until - now, until > client.next_try, now)

    def _forgive(self, keys: tuple[str, str], stamp: float) -> None:
        """A right password: the address starts afresh; the account loses only this try."""
        with self.throttle.hold(keys) as held:
            held[keys[0]].clear()
            account: ThrottleRecord = held[keys[1]]
            if stamp in account.failures:
                account.failures.remove(stamp)
            if len(account.failures) < self.policy.account_max_failures:
                account.locked_until = 0.0
