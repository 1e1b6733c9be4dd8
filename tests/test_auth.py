"""The login guard: back-off, per-client lockout, hashes, logs; a manual clock instead of sleeps."""

from __future__ import annotations

import logging
import threading

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.core.errors import AssistantError
from assistant.core.settings import Settings
from assistant.serving.auth import (
    DISABLED,
    BadPasswordHash,
    LoginGuard,
    LoginPolicy,
    PasswordHash,
    Role,
    Secret,
    Secrets,
    hash_password,
)

ADMIN, TRAINER = "درست-admin-pw", "trainer-pw"


class ManualClock:
    """A clock the test moves by hand (the guard only reads it)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_guard(clock: ManualClock, **policy) -> LoginGuard:
    secrets = Secrets(
        admin=Secret.from_values(ADMIN, "", "ADMIN"), trainer=Secret.from_values(TRAINER, "", "TRAINER")
    )
    return LoginGuard(secrets, LoginPolicy(**policy), clock=clock)


def test_sixth_wrong_password_is_locked_out_but_not_other_clients():
    clock = ManualClock()
    guard = make_guard(clock)
    for n in range(1, 5):
        result = guard.check("10.0.0.9", f"guess{n}", "admin")
        assert not result.ok and result.role is None and "Wrong password" in result.message
        clock.advance(result.retry_after_s)  # a patient guesser waits out each back-off
    fifth = guard.check("10.0.0.9", "guess5", "admin")
    assert "Too many wrong passwords" in fifth.message  # the 5th failure starts the lockout
    sixth = guard.check("10.0.0.9", ADMIN, "admin")  # even the right password: no guess is checked
    assert not sixth.ok and sixth.retry_after_s == LoginPolicy().lockout_s == 300
    assert "۵ دقیقه" in sixth.message and "try again in 5 min" in sixth.message
    other = guard.check("10.0.0.1", ADMIN, "admin")  # the real admin elsewhere is not locked out
    assert other.ok and other.role is Role.ADMIN
    clock.advance(sixth.retry_after_s)
    assert guard.check("10.0.0.9", ADMIN, "admin").ok


def test_back_off_doubles_and_is_returned_not_slept():
    clock = ManualClock()
    guard = make_guard(clock, backoff_s=1.0)
    waits = []
    for _ in range(3):
        first = guard.check("c", "wrong", "admin")
        waits.append(first.retry_after_s)
        early = guard.check("c", ADMIN, "admin")  # too early: refused without checking
        assert not early.ok and early.retry_after_s == first.retry_after_s
        assert "صبر کنید" in early.message and "Please wait" in early.message
        clock.advance(first.retry_after_s)
    assert waits == [1.0, 2.0, 4.0]
    burst = [guard.check("c", "wrong", "admin") for _ in range(200)]  # queued guesses return at once
    assert "Wrong password (1 more" in burst[0].message  # the 4th failure; the other 199 were refused
    assert all("Please wait 8 s" in r.message for r in burst[1:])
    clock.advance(8)
    assert guard.check("c", ADMIN, "admin").ok  # refusals did not count as failures


def test_failures_outside_the_window_are_forgotten():
    clock = ManualClock()
    guard = make_guard(clock, window_s=600, max_failures=5)
    for _ in range(4):
        clock.advance(guard.check("c", "wrong").retry_after_s)
    clock.advance(601)
    for _ in range(4):
        result = guard.check("c", "wrong")
        assert "Wrong password" in result.message
        clock.advance(result.retry_after_s)
    assert guard.check("c", TRAINER).ok


def test_success_resets_the_count():
    clock = ManualClock()
    guard = make_guard(clock)
    for _ in range(4):
        clock.advance(guard.check("c", "wrong").retry_after_s)
    assert guard.check("c", ADMIN).ok
    result = guard.check("c", "wrong")
    assert "(4 more tries" in result.message and "۴" in result.message


def test_roles_admin_opens_everything_trainer_only_review():
    guard = make_guard(ManualClock(), backoff_s=0)
    assert guard.check("a", ADMIN, "trainer").role is Role.ADMIN
    assert guard.check("b", TRAINER, "trainer").role is Role.TRAINER
    assert guard.check("c", TRAINER).role is Role.TRAINER
    assert not guard.check("d", TRAINER, Role.ADMIN).ok


def test_no_password_configured_means_login_disabled():
    guard = LoginGuard(Secrets())
    assert guard.check("a", "", "admin") == guard.check("a", "x", "trainer")
    assert guard.check("a", "x").message == DISABLED
    trainer_only = LoginGuard(Secrets(trainer=Secret.from_values(TRAINER, "", "T")))
    assert trainer_only.check("a", TRAINER, "admin").message == DISABLED
    assert trainer_only.check("a", TRAINER, "trainer").ok


def test_parallel_guesses_from_one_client_are_checked_one_at_a_time():
    """Each try is counted before the slow scrypt check, so a burst cannot slip past the limit."""
    secrets = Secrets(admin=Secret(hashed=PasswordHash.parse(hash_password(ADMIN, n=2**12))))
    guard = LoginGuard(secrets, clock=ManualClock())  # time stands still: no back-off expires
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(guard.check("bot", "guess"))) for _ in range(20)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum("Wrong password" in r.message for r in results) == 1
    assert sum("Please wait" in r.message for r in results) == 19


def test_failed_logins_are_logged_with_the_client_never_the_password(caplog):
    clock = ManualClock()
    guard = make_guard(clock, max_failures=2)
    with caplog.at_level(logging.INFO, logger="assistant.audit"):
        for typed in ("hunter2-typed", "s3cret-typed"):
            clock.advance(guard.check("203.0.113.7", typed, "admin").retry_after_s or 0)
    text = caplog.text
    assert text.count("203.0.113.7") == 2 and "locked out" in text
    assert "hunter2" not in text and "s3cret" not in text and ADMIN not in text


def test_hashes_from_the_environment(monkeypatch):
    monkeypatch.setenv("ASSISTANT_ADMIN_PASSWORD_HASH", hash_password("adm", n=2**12))
    monkeypatch.setenv("ASSISTANT_TRAINER_PASSWORD_HASH", hash_password("trn", n=2**12))
    monkeypatch.delenv("ASSISTANT_ADMIN_PASSWORD", raising=False)
    guard = LoginGuard.from_settings(Settings.from_env())
    assert guard.check("a", "adm", "admin").role is Role.ADMIN
    assert guard.check("b", "trn", "trainer").role is Role.TRAINER
    assert not guard.check("c", "adm ", "admin").ok


def test_a_bad_or_doubled_setting_fails_at_start_with_a_bilingual_message(monkeypatch):
    for bad in ("scrypt$3$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==", "bcrypt$x", "scrypt$16384$8$1$!!$!!"):
        with pytest.raises(BadPasswordHash, match="assistant password hash") as info:
            PasswordHash.parse(bad, "ASSISTANT_ADMIN_PASSWORD_HASH")
        assert " / " in str(info.value) and "درهم" in str(info.value)
    monkeypatch.setenv("ASSISTANT_ADMIN_PASSWORD", "x")
    monkeypatch.setenv("ASSISTANT_ADMIN_PASSWORD_HASH", hash_password("x", n=2**12))
    with pytest.raises(AssistantError, match="not both"):
        Secrets.from_settings(Settings.from_env())


def test_password_hash_command_reads_a_prompt_and_prints_a_verifiable_hash():
    result = CliRunner().invoke(main, ["password", "hash"], input="گذرواژه ۱\nگذرواژه ۱\n")
    assert result.exit_code == 0, result.output
    printed = result.output.strip().splitlines()[-1]
    assert printed.startswith("scrypt$16384$8$1$")
    assert PasswordHash.parse(printed).matches("گذرواژه ۱")
    assert not PasswordHash.parse(printed).matches("گذرواژه 1")
    piped = CliRunner().invoke(main, ["password", "hash", "--stdin"], input="from-a-pipe\n")
    assert PasswordHash.parse(piped.output.strip()).matches("from-a-pipe")


def test_an_account_is_locked_after_many_failures_from_many_addresses():
    """Many addresses do not buy many guesses: the role's own count locks it (for everyone)."""
    clock = ManualClock()
    guard = make_guard(clock, account_max_failures=6, max_failures=5)
    for n in range(6):  # six addresses, one wrong guess each: none is locked by itself
        result = guard.check(f"10.0.1.{n}", "guess", "admin")
        assert "Wrong password" in result.message or "Too many" in result.message
    locked = guard.check("10.0.2.1", ADMIN, "admin")  # a fresh address, even with the right password
    assert not locked.ok and "Too many wrong passwords" in locked.message and locked.retry_after_s == 300
    assert guard.check("10.0.2.2", TRAINER, "trainer").ok  # the trainer's account is another one
    clock.advance(301)
    assert guard.check("10.0.2.1", ADMIN, "admin").ok


def test_a_right_password_does_not_count_against_the_account():
    clock = ManualClock()
    guard = make_guard(clock, account_max_failures=3)
    for n in range(10):
        assert guard.check(f"10.0.3.{n}", ADMIN, "admin").ok


def test_success_failure_and_throttling_are_all_logged_with_the_address(caplog):
    clock = ManualClock()
    guard = make_guard(clock)
    with caplog.at_level(logging.INFO, logger="assistant.audit"):
        guard.check("198.51.100.4", ADMIN, "admin")
        guard.check("198.51.100.5", "nope", "admin")
        guard.check("198.51.100.5", "again", "admin")  # inside the back-off: throttled
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "login ok: admin from 198.51.100.4"
    assert lines[1].startswith("login failed: admin password from 198.51.100.5")
    assert lines[2].startswith("login throttled: admin from 198.51.100.5")
    assert all(r.created > 0 for r in caplog.records)  # each with its time


def test_two_instances_on_one_store_share_lockouts(tmp_path):
    """The store keeps the counts: a second guard (another instance) sees the first one's lockout."""
    from assistant.store import Store
    from assistant.store.throttle import StoreThrottle

    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    one, two = Store(url), Store(url)
    clock = ManualClock()
    secrets = Secrets(admin=Secret.from_values(ADMIN, "", "ADMIN"))
    first = LoginGuard(secrets, LoginPolicy(), clock=clock, throttle=StoreThrottle(one))
    second = LoginGuard(secrets, LoginPolicy(), clock=clock, throttle=StoreThrottle(two))
    for n in range(5):
        guard = (first, second)[n % 2]  # guesses spread over both instances
        clock.advance(guard.check("203.0.113.9", f"guess{n}", "admin").retry_after_s)
    clock.now -= 1  # still inside the lockout that the fifth failure started
    for guard in (first, second):
        held = guard.check("203.0.113.9", ADMIN, "admin")
        assert not held.ok and "Too many wrong passwords" in held.message
    assert second.check("203.0.113.10", ADMIN, "admin").ok
    one.close()
    two.close()
