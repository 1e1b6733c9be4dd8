"""Schema migrations: any store database brought to the current revision, once, whoever starts first.

Alembic's scripts live in ``migrations/`` (revision ``0001`` is the schema
the store had before migrations existed).  :func:`upgrade` runs on every
``Store`` open and from ``assistant db upgrade``: in one transaction, under
PostgreSQL's advisory lock or SQLite's write lock, so instances starting
together migrate once and the others find nothing to do.  A database at the
head revision costs one small query; alembic is imported only when there
is work.  A database made before migrations (the tables, no
``alembic_version``) is recognised and stamped as ``0001`` first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from .engine import StoreError, open_engine, safe_url

#: the newest revision in ``migrations/versions`` (a test keeps the two in step)
HEAD = "0004"
BASELINE = "0001"
SCRIPTS = Path(__file__).resolve().parent / "migrations"
_ADVISORY_LOCK = 0x50524153  # any constant; PostgreSQL serializes every instance's upgrade on it


@dataclass(frozen=True)
class Upgrade:
    """What an upgrade found and left: revisions before and after (None: an empty database)."""

    before: str | None
    after: str
    stamped: bool = False  # a database from before migrations, recognised as the baseline

    @property
    def changed(self) -> bool:
        return self.stamped or self.before != self.after

    def __str__(self) -> str:
        before = self.before or "empty"
        if self.stamped:
            before = f"unversioned (the schema before migrations, stamped {BASELINE})"
        return f"{before} → {self.after}"


def revision(conn: Connection) -> str | None:
    """The database's revision, or None when it has no ``alembic_version`` table (empty or pre-migration)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _config(conn: Connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = conn
    return config


def upgrade(engine: Engine, target: str = "head") -> Upgrade:
    """Bring the database at ``engine`` to ``target``; safe to call on every start."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
        before = revision(conn)
        if before == HEAD and target in ("head", HEAD):
            return Upgrade(before, before)
        from alembic import command

        stamped = before is None and inspect(conn).has_table("answers")
        if stamped:
            command.stamp(_config(conn), BASELINE)
        command.upgrade(_config(conn), target)
        after = revision(conn) or ""
    return Upgrade(before, after, stamped)


def upgrade_url(url: str) -> str:
    """``assistant db upgrade``: migrate the database at ``url``; one line saying where it was and is."""
    engine = open_engine(url)
    try:
        return f"{safe_url(url)}: {upgrade(engine)}"
    except SQLAlchemyError as exc:
        raise StoreError(f"پایگاه داده به‌روز نشد. / Cannot upgrade {safe_url(url)}: {exc}") from exc
    finally:
        engine.dispose()


def script_head() -> str:
    """The head revision as alembic reads it from ``migrations/versions``."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    return ScriptDirectory.from_config(config).get_current_head() or ""
