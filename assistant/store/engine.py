"""Open a database by URL: SQLite (a file, the default) or PostgreSQL through psycopg 3.

SQLite gets one writer at a time (``BEGIN IMMEDIATE`` with a 30 s busy
timeout) so that threads of the web server wait for each other instead of
failing with "database is locked"; WAL lets readers run beside the writer.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, String, Table, Text, TypeDecorator, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from ..core.errors import AssistantError

#: Execution option of a connection that only reads (SQLite then opens a plain deferred transaction).
READ_ONLY = "pr_read_only"
# What neither backend can keep: PostgreSQL refuses NUL in text and JSONB, and no UTF-8 holds a lone
# surrogate (JSON's "\ud800" decodes to one).  Removed on the way in, so a row is never lost over it.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: Any) -> Any:
    """``value`` with NUL and lone surrogates removed from every string in it (dicts and lists too)."""
    if isinstance(value, str):
        return _UNSTORABLE.sub("", value)
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    return value


def _dumps(value: Any) -> str:
    # Persian kept as UTF-8 in JSON columns: a third of the size of \uXXXX escapes.
    return json.dumps(storable(value), ensure_ascii=False)


_JSON = {"json_serializer": _dumps}


class CleanText(TypeDecorator):
    """Text that both backends accept: see :func:`storable`."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return storable(value) if isinstance(value, str) else value


class CleanString(CleanText):
    impl = String
    cache_ok = True


class StoreError(AssistantError):
    """The database cannot be opened or a request names something that is not there."""


def normalize_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` use psycopg 3, the driver installed with the project."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid URL>"


def open_engine(url: str) -> Engine:
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"نشانی پایگاه داده نامعتبر است. / Invalid database URL: {url!r}") from None
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database or "")
    if parsed.get_backend_name() != "postgresql":
        message = "فقط SQLite و PostgreSQL پشتیبانی می‌شوند. / Only SQLite and PostgreSQL URLs are supported"
        raise StoreError(f"{message}: {safe_url(url)}")
    try:
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, **_JSON)
    except (SQLAlchemyError, ImportError) as exc:
        raise StoreError(f"پایگاه داده باز نشد. / Cannot open {safe_url(url)}: {exc}") from exc


def _sqlite_engine(url: str, database: str) -> Engine:
    if database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **_JSON)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" below opens transactions
        cursor = dbapi_connection.cursor()
        for pragma in (
            "foreign_keys = ON",
            "journal_mode = WAL",
            "synchronous = NORMAL",
            "busy_timeout = 30000",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # readers (READ_ONLY) take no lock in WAL mode; writers queue for the one write lock up front
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def upsert(engine: Engine, table: Table) -> Any:
    """``INSERT … ON CONFLICT`` for this engine's dialect (both have ``on_conflict_do_update``)."""
    return (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(table)
