"""Schema migrations on both backends: from an empty database, from the schema before migrations, by
`assistant db upgrade` and on every open; and the store's lockouts shared by two instances."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import insert, inspect

from assistant.cli import main
from assistant.serving.auth import LoginGuard, LoginPolicy, Secret, Secrets
from assistant.store import Store
from assistant.store.engine import open_engine
from assistant.store.migrate import BASELINE, HEAD, script_head, upgrade
from assistant.store.tables import metadata
from assistant.store.throttle import StoreThrottle

from . import schema_81cefda as old
from .conftest import BACKENDS


def _differences(engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), metadata)


def test_head_is_the_newest_script():
    assert script_head() == HEAD


def test_upgrade_from_an_empty_database(database_url):
    engine = open_engine(database_url)
    try:
        done = upgrade(engine)
        assert (done.before, done.after, done.stamped) == (None, HEAD, False)
        assert _differences(engine) == []  # the migrations build exactly tables.py
        assert not upgrade(engine).changed  # the second time: one query, nothing to do
    finally:
        engine.dispose()


def _old_rows(engine) -> None:
    """The schema and a few rows as main at 81cefda wrote them."""
    old.metadata.create_all(engine)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(old.answers).values(
                id=1, created_at=now, question="ارکان اعتماد؟", resolved_question="", build_id="b1",
                answer_json={"question": "ارکان اعتماد؟", "answer": "صداقت [1]"}, timings={}, abstained=False,
            )
        )  # fmt: skip
        conn.execute(
            insert(old.ratings).values(answer_id=1, created_at=now, question="ارکان اعتماد؟", rating=1)
        )
        conn.execute(
            insert(old.verdicts).values(
                answer_id=1, n=1, verdict="supports", doc_id="000_trust.md", created_at=now, note="",
                reviewer="", build_id="b1", doc_sha256="",
            )
        )  # fmt: skip


def test_upgrade_from_the_schema_before_migrations_keeps_every_row(database_url):
    engine = open_engine(database_url)
    try:
        _old_rows(engine)
        assert "alembic_version" not in inspect(engine).get_table_names()
        done = upgrade(engine)
        assert (done.before, done.after, done.stamped) == (None, HEAD, True)
        assert "login_throttle" in inspect(engine).get_table_names()
        assert _differences(engine) == []
    finally:
        engine.dispose()
    store = Store(database_url)  # and what the store reads of them
    try:
        (logged,) = store.answers()
        assert logged.question == "ارکان اعتماد؟" and logged.answer["answer"] == "صداقت [1]"
        assert [r.rating for r in store.ratings()] == [1]
        assert [v.verdict for v in store.verdicts(1)] == ["supports"]
    finally:
        store.close()


def test_the_store_migrates_on_open(database_url):
    engine = open_engine(database_url)
    _old_rows(engine)
    engine.dispose()
    store = Store(database_url)
    try:
        with store.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == HEAD
    finally:
        store.close()


@pytest.fixture(params=BACKENDS)
def two_databases(request, tmp_path):
    """Two fresh, empty databases on one backend (the CLI test migrates one of each kind)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'a.sqlite'}", f"sqlite:///{tmp_path / 'b.sqlite'}"
        return
    import psycopg

    server = request.getfixturevalue("postgres_server")
    names = [f"t_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    admin = f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names:
            conn.execute(f"CREATE DATABASE {name}")
    yield tuple(server.url(name) for name in names)
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_db_upgrade_command_from_empty_and_from_the_old_schema(two_databases, monkeypatch):
    empty_url, old_url = two_databases
    monkeypatch.setenv("ASSISTANT_DATABASE_URL", empty_url)
    first = CliRunner().invoke(main, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert first.output.strip().endswith(f"empty → {HEAD}")
    again = CliRunner().invoke(main, ["db", "upgrade"])
    assert again.output.strip().endswith(f"{HEAD} → {HEAD}")
    engine = open_engine(old_url)
    _old_rows(engine)
    engine.dispose()
    monkeypatch.setenv("ASSISTANT_DATABASE_URL", old_url)
    done = CliRunner().invoke(main, ["db", "upgrade"])
    assert done.exit_code == 0, done.output
    assert f"stamped {BASELINE}) → {HEAD}" in done.output and "password" not in done.output


def test_a_lockout_made_on_one_instance_holds_on_another(database_url):
    """Two instances (two stores, two guards) on one database: guesses on either count for both."""
    one, two = Store(database_url), Store(database_url)
    secrets = Secrets(admin=Secret.from_values("the-admin-password", "", "ADMIN"))
    first, second = (LoginGuard(secrets, LoginPolicy(), throttle=StoreThrottle(s)) for s in (one, two))
    try:
        for n in range(5):
            result = first.check("203.0.113.50", f"guess-{n}", "admin")
            assert not result.ok
            if n < 4:  # wait out the back-off, as a patient guesser would, by moving the records' clock
                _rewind(one, result.retry_after_s + 1)
        held = second.check("203.0.113.50", "the-admin-password", "admin")
        assert not held.ok and "Too many wrong passwords" in held.message and held.retry_after_s > 250
        assert second.check("203.0.113.51", "the-admin-password", "admin").ok  # another address is not
    finally:
        one.close()
        two.close()


def _rewind(store: Store, seconds: float) -> None:
    """Move every record's times back, as if ``seconds`` had passed."""
    from sqlalchemy import select, update

    from assistant.store.tables import login_throttle

    with store.engine.begin() as conn:
        for row in conn.execute(select(login_throttle)).all():
            conn.execute(
                update(login_throttle)
                .where(login_throttle.c.key == row.key)
                .values(
                    failures=[t - seconds for t in row.failures],
                    next_try=row.next_try - seconds,
                    locked_until=max(0.0, row.locked_until - seconds),
                )
            )


@pytest.mark.parametrize("text", ["NUL\x00 inside", "a lone \ud800 surrogate", "bidi \u202e override"])
def test_text_neither_backend_can_keep_is_cleaned_not_lost(store, answer_of, text):
    answer = answer_of(text, abstained=True)
    answer["related"][0]["text"] = text  # corpus text rides in the answer's JSON too
    logged = store.log_answer(text, answer, resolved_question=text)
    assert logged is not None
    (row,) = store.answers()
    assert "\x00" not in row.question and "\ud800" not in row.question
    assert "\x00" not in row.answer["related"][0]["text"]
    assert store.gaps()[0].count == 1
