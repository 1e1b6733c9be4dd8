"""Failed-login records that every instance sees: held, changed and written back in one transaction.

The login guard (``serving.auth``) decides; this module only keeps its
records.  ``hold(keys)`` yields one :class:`ThrottleRecord` per key and writes
them back when the block ends, atomically: on PostgreSQL the rows are created
if missing and locked (``SELECT … FOR UPDATE``), on SQLite the transaction
holds the one write lock, so two instances counting guesses at the same
moment both count.  :class:`MemoryThrottle` is the same thing for one process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects import postgresql

from .records import now_utc
from .tables import login_throttle

#: rows untouched this long are deleted by the store's hourly purge
STALE_DAYS = 1


@dataclass
class ThrottleRecord:
    """Recent failures of one key (oldest first), when it may try next, until when it is locked out."""

    key: str
    failures: list[float] = field(default_factory=list)
    next_try: float = 0.0
    locked_until: float = 0.0

    def clear(self) -> None:
        self.failures, self.next_try, self.locked_until = [], 0.0, 0.0

    def idle(self, now: float) -> bool:
        """Nothing to remember: no failures, no wait, no lockout still running."""
        return not self.failures and self.next_try <= now and self.locked_until <= now


class Throttle(Protocol):
    def hold(self, keys: Sequence[str]) -> AbstractContextManager[dict[str, ThrottleRecord]]: ...


class MemoryThrottle:
    """Records in this process only (tests, a single instance without a store); bounded, least recent out."""

    def __init__(self, max_keys: int = 20_000):
        self._records: OrderedDict[str, ThrottleRecord] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_keys

    @contextmanager
    def hold(self, keys: Sequence[str]) -> Iterator[dict[str, ThrottleRecord]]:
        with self._lock:
            held = {k: self._records.pop(k, None) or ThrottleRecord(k) for k in keys}
            try:
                yield held
            finally:
                for key, record in held.items():
                    self._records[key] = record  # most recently used last
                while len(self._records) > self._max:
                    self._records.popitem(last=False)


class _Keeps(Protocol):
    """A ``Store``: what :class:`StoreThrottle` needs of it."""

    def throttle(self, keys: Sequence[str]) -> AbstractContextManager[dict[str, ThrottleRecord]]: ...


class StoreThrottle:
    """The records in a store, shared by every instance on its database; ``store`` may be opened lazily."""

    def __init__(self, store: _Keeps | Callable[[], _Keeps]):
        self._store = store

    def hold(self, keys: Sequence[str]) -> AbstractContextManager[dict[str, ThrottleRecord]]:
        store = self._store() if callable(self._store) else self._store
        return store.throttle(keys)


def _record(row) -> ThrottleRecord:
    failures = [float(t) for t in (row.failures or []) if isinstance(t, int | float)]
    return ThrottleRecord(row.key, failures, float(row.next_try or 0.0), float(row.locked_until or 0.0))


@contextmanager
def hold(
    begin: Callable[[], AbstractContextManager[Connection]], keys: Sequence[str], now: Callable[[], float]
) -> Iterator[dict[str, ThrottleRecord]]:
    """Records for ``keys`` inside one write transaction (``begin``); written back, or deleted when idle."""
    keys = list(dict.fromkeys(keys))
    with begin() as conn:
        stamp = now_utc()
        if conn.dialect.name == "postgresql":  # rows must exist to be locked
            blank = [{"key": k, "failures": [], "next_try": 0.0, "locked_until": 0.0, "updated_at": stamp}
                     for k in keys]  # fmt: skip
            conn.execute(postgresql.insert(login_throttle).values(blank).on_conflict_do_nothing())
        query = select(login_throttle).where(login_throttle.c.key.in_(keys))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        found = {row.key: _record(row) for row in conn.execute(query)}
        held = {k: found.get(k) or ThrottleRecord(k) for k in keys}
        yield held
        moment = now()
        for key, record in held.items():
            if record.idle(moment):
                conn.execute(delete(login_throttle).where(login_throttle.c.key == key))
                continue
            values = {
                "failures": record.failures,
                "next_try": record.next_try,
                "locked_until": record.locked_until,
                "updated_at": stamp,
            }
            if key in found or conn.dialect.name == "postgresql":
                conn.execute(update(login_throttle).where(login_throttle.c.key == key).values(**values))
            else:
                conn.execute(login_throttle.insert().values(key=key, **values))


def purge_stale(conn: Connection) -> int:
    """Forget keys nobody has tried for a day (their failures are long outside any window)."""
    cutoff = now_utc() - timedelta(days=STALE_DAYS)
    return conn.execute(delete(login_throttle).where(login_throttle.c.updated_at < cutoff)).rowcount or 0
