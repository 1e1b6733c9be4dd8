"""Per-client rate and in-flight limits; a manual clock instead of sleeps."""

from __future__ import annotations

import pytest

from assistant.core.errors import AssistantError
from assistant.core.settings import Settings
from assistant.serving.limits import Busy, ClientLimiter, LimitPolicy, client_key


class ManualClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_the_sustained_rate():
    clock = ManualClock()
    limiter = ClientLimiter(LimitPolicy(per_minute=20, burst=5), clock=clock)
    for _ in range(5):
        with limiter.acquire("a"):
            pass
    with pytest.raises(Busy) as info, limiter.acquire("a"):
        pytest.fail("the 6th question in a burst must not run")
    assert info.value.retry_after_s == pytest.approx(3.0)  # 20 a minute: one every 3 s
    assert isinstance(info.value, AssistantError)
    assert "۳ ثانیه" in str(info.value) and "try again in 3 s" in str(info.value)
    clock.now += 3.0
    with limiter.acquire("a"):
        pass
    with limiter.acquire("b"):  # another client has its own bucket
        pass


def test_in_flight_cap_and_release():
    clock = ManualClock()
    limiter = ClientLimiter(LimitPolicy(per_minute=60, burst=10, max_inflight=2), clock=clock)
    with limiter.acquire("a"), limiter.acquire("a"):
        assert limiter.inflight("a") == 2
        with pytest.raises(Busy) as info, limiter.acquire("a"):
            pass
        assert info.value.inflight and "still running" in str(info.value)
        with limiter.acquire("b"):
            assert limiter.inflight("b") == 1
    assert limiter.inflight("a") == 0
    for _ in range(8):  # 2 used + 8 = the burst of 10: the refusal above cost nothing
        with limiter.acquire("a"):
            pass
    with pytest.raises(Busy), limiter.acquire("a"):
        pass


def test_slot_is_released_when_the_handler_fails():
    limiter = ClientLimiter(LimitPolicy(max_inflight=1), clock=ManualClock())
    with pytest.raises(ValueError), limiter.acquire("a"):
        raise ValueError("handler bug")
    assert limiter.inflight("a") == 0


def test_cost_zero_counts_in_flight_only():
    limiter = ClientLimiter(LimitPolicy(per_minute=1, burst=1, max_inflight=3), clock=ManualClock())
    for _ in range(10):
        with limiter.acquire("a", cost=0):
            pass
    with limiter.acquire("a"):
        pass


def test_memory_stays_bounded_and_running_clients_are_kept():
    limiter = ClientLimiter(LimitPolicy(max_clients=3), clock=ManualClock())
    with limiter.acquire("busy"):
        for n in range(20):
            with limiter.acquire(f"c{n}"):
                pass
        assert len(limiter) <= 3
        assert limiter.inflight("busy") == 1


def test_policy_from_settings(monkeypatch):
    monkeypatch.setenv("ASSISTANT_RATE_PER_MINUTE", "6")
    monkeypatch.setenv("ASSISTANT_RATE_BURST", "1")
    monkeypatch.setenv("ASSISTANT_MAX_INFLIGHT", "4")
    assert LimitPolicy.from_settings(Settings.from_env()) == LimitPolicy(
        per_minute=6, burst=1, max_inflight=4
    )


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::9", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("testclient", "testclient"),
        (None, "unknown"),
    ],
)
def test_client_key(host, key):
    assert client_key(host) == key


def test_the_door_counts_questions_already_let_in():
    """Ten arriving together: the door lets in what the bucket holds, not all ten."""
    clock = ManualClock()
    limiter = ClientLimiter(LimitPolicy(per_minute=60, burst=3, max_inflight=2), clock=clock)
    decisions = [limiter.admit("a") for _ in range(10)]
    assert decisions[:3] == [None] * 3 and all(d is not None and not d.inflight for d in decisions[3:])
    assert decisions[3].retry_after_s == pytest.approx(1.0)
    with limiter.acquire("a"), limiter.acquire("a"):  # two arrive and run
        assert limiter.admit("a").inflight  # the door refuses while two are running
    with limiter.acquire("a"):  # the third arrives
        pass
    assert limiter.admit("a") is not None  # the three tokens are spent
    clock.now += 1.0
    assert limiter.admit("a") is None
    clock.now += 11  # an admission that never arrived (a refused input, a client that left) is forgotten
    assert [limiter.admit("a") is None for _ in range(4)] == [True, True, True, False]
