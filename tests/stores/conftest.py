"""The store's tests run twice: on a SQLite file and on a real PostgreSQL server started here.

The server comes from Debian's ``postgresql`` package (``apt-get install -y
postgresql``, done by ``.ci/run``): initdb into a tmp dir, a unix socket in
that dir and a free TCP port on 127.0.0.1, run as the ``postgres`` user when
we are root (initdb refuses root), stopped at the end of the session.  Each
test gets a fresh database.  Without the binaries the postgres half is skipped
on a developer's machine and fails in CI (``CI`` set).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

BACKENDS = ("sqlite", "postgres")


@dataclass(frozen=True)
class PostgresServer:
    port: int
    root: Path

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


def _bin_dir() -> Path | None:
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    found.sort(key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(command: list[str | Path]) -> None:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {done.stdout}\n{done.stderr}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = _bin_dir()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries missing in CI: apt-get install -y postgresql")
        pytest.skip("PostgreSQL is not installed (apt-get install -y postgresql)")
    root = Path(tempfile.mkdtemp(prefix="pr-assistant-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")  # created by Debian's postgresql package
        os.chown(root, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()
    try:
        _run(
            [
                *as_user,
                bin_dir / "initdb",
                "-D",
                data,
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        )
        options = f"-k {root} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
        _run(
            [
                *as_user,
                bin_dir / "pg_ctl",
                "-D",
                data,
                "-l",
                root / "server.log",
                "-o",
                options,
                "-w",
                "start",
            ]
        )
        yield PostgresServer(port, root)
    finally:
        if (data / "postmaster.pid").exists():
            _run([*as_user, bin_dir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"])
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> Iterator[str]:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    import psycopg

    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield server.url(name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def store(database_url):
    from assistant.store import Store

    opened = Store(database_url)
    yield opened
    opened.close()


def sample_answer(
    question: str, doc_ids: tuple[str, ...] = ("000_trust.md",), abstained: bool = False
) -> dict:
    """An ``Answer.to_dict()``-shaped dict citing ``doc_ids`` as [1], [2], … (related ones when abstained)."""
    passages = [
        {
            "n": n,
            "doc_id": doc_id,
            "title": f"عنوان {doc_id}",
            "source": doc_id,
            "start": 10 * n,
            "end": 10 * n + 40,
            "text": f"متن بند {n} از {doc_id}",
            "score": 0.9,
            "chunk_id": f"{doc_id}#{n}",
            "speaker": "",
            "date": "",
        }
        for n, doc_id in enumerate(doc_ids, start=1)
    ]
    return {
        "question": question,
        "answer": "منابع موجود پاسخ این پرسش را ندارند." if abstained else f"پاسخ به {question} [1]",
        "abstained": abstained,
        "sentences": [] if abstained else [{"text": f"پاسخ به {question}", "citations": [1], "score": 0.9}],
        "citations": [] if abstained else passages,
        "related": passages if abstained else [],
        "timings_ms": {"retrieve": 12.5, "answer": 30.0},
    }


@pytest.fixture
def answer_of():
    return sample_answer
