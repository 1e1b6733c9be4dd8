"""Login sessions: signed ids, a new id at login, idle expiry, logout; a manual clock instead of sleeps."""

from __future__ import annotations

from assistant.serving.auth import Role
from assistant.serving.sessions import SWAP_GRACE_S, Sessions


class ManualClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_cookie_is_only_what_this_server_signed():
    sessions = Sessions(60)
    value = sessions.mint()
    assert sessions.read(value) == value.split(".")[0]
    sid, signature = value.split(".")
    assert sessions.read(f"{sid}x.{signature}") is None  # another id under the same signature
    other = "B" if signature.endswith("A") else "A"  # a changed last character (it may have been "A")
    assert sessions.read(f"{sid}.{signature[:-1]}{other}") is None
    assert sessions.read(value + ".x") is None and sessions.read("") is None and sessions.read(None) is None
    assert Sessions(60).read(value) is None  # another server (process) signs with another key
    assert sessions.role(value) is None  # a valid anonymous id is a student


def test_login_grants_a_new_id_and_the_old_one_lasts_only_until_the_browser_shows_it():
    clock = ManualClock()
    sessions = Sessions(60, clock=clock)
    before = sessions.mint()
    granted = sessions.grant(before, Role.ADMIN, "10.0.0.1")
    assert granted is not None and granted.role is Role.ADMIN
    assert sessions.role(before) is Role.ADMIN  # the event that logged in, and any until the swap
    after = sessions.swap(before)
    assert after is not None and after != before and sessions.read(after) == granted.sid
    assert sessions.role(after) is Role.ADMIN  # the browser holds the new id now...
    assert sessions.role(before) is None  # ...so the pre-login id (a planted one) is worth nothing
    assert sessions.swap(before) is None


def test_an_unclaimed_rename_ends_after_the_grace():
    clock = ManualClock()
    sessions = Sessions(3600, clock=clock)
    before = sessions.mint()
    sessions.grant(before, Role.TRAINER, "10.0.0.1")
    clock.now += SWAP_GRACE_S + 1
    assert sessions.role(before) is None and sessions.swap(before) is None


def test_sessions_expire_after_inactivity_and_on_logout():
    clock = ManualClock()
    sessions = Sessions(60, clock=clock)
    first = sessions.mint()
    sessions.grant(first, Role.ADMIN, "a")
    cookie = sessions.swap(first)
    for _ in range(5):  # kept alive by use
        clock.now += 50
        assert sessions.role(cookie) is Role.ADMIN
    clock.now += 61
    assert sessions.role(cookie) is None and len(sessions) == 0
    second = sessions.mint()
    sessions.grant(second, Role.TRAINER, "a")
    cookie = sessions.swap(second)
    assert sessions.revoke(cookie).role is Role.TRAINER
    assert sessions.role(cookie) is None and sessions.revoke(cookie) is None


def test_no_cookie_no_session_and_the_number_kept_is_bounded():
    sessions = Sessions(60, max_sessions=3)
    assert sessions.grant(None, Role.ADMIN, "a") is None
    assert sessions.grant("forged.value", Role.ADMIN, "a") is None
    cookies = []
    for _ in range(5):
        value = sessions.mint()
        sessions.grant(value, Role.ADMIN, "a")
        cookies.append(sessions.swap(value))
    assert len(sessions) == 3
    assert [sessions.role(c) for c in cookies] == [None, None, Role.ADMIN, Role.ADMIN, Role.ADMIN]


def test_signing_in_again_replaces_the_session():
    sessions = Sessions(60)
    first = sessions.mint()
    sessions.grant(first, Role.TRAINER, "a")
    trainer = sessions.swap(first)
    sessions.grant(trainer, Role.ADMIN, "a")
    admin = sessions.swap(trainer)
    assert sessions.role(admin) is Role.ADMIN
    assert len(sessions) == 1
