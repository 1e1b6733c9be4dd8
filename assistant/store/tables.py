"""The store's tables, one SQLAlchemy Core ``MetaData`` for SQLite and PostgreSQL alike.

Times are UTC; SQLite keeps them as ISO text without the offset, which
still sorts and compares correctly because every value is UTC.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

from .engine import CleanString as String
from .engine import CleanText as Text

#: What a trainer may say about one citation of an answer.
VERDICTS = ("supports", "partly", "does_not_support", "wrong_passage")

metadata = MetaData()
_Json = JSON().with_variant(JSONB(), "postgresql")
_Time = DateTime(timezone=True)

answers = Table(
    "answers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", _Time, nullable=False, index=True),
    Column("question", Text, nullable=False),
    Column("resolved_question", Text, nullable=False, default=""),
    Column("answer_json", _Json, nullable=False),
    Column("build_id", String(128), nullable=False, default=""),
    Column("timings", _Json, nullable=False),
    Column("abstained", Boolean, nullable=False),
)

# The documents a logged answer cites: the review queue filters on them.
answer_docs = Table(
    "answer_docs",
    metadata,
    Column("answer_id", Integer, ForeignKey("answers.id", ondelete="CASCADE"), primary_key=True),
    Column("doc_id", String(512), primary_key=True, index=True),
)

ratings = Table(
    "ratings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("answer_id", Integer, ForeignKey("answers.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("created_at", _Time, nullable=False),
    Column("question", Text, nullable=False),
    Column("rating", Integer, nullable=False),
    # only for a rating without a logged answer (logging off): what was rated
    Column("answer_json", _Json, nullable=True),
    # sha256 of the caller's key (e.g. session + message): one vote per key, no session id in clear
    Column("vote_key", String(64), nullable=True, unique=True),
    Column("comment", Text, nullable=True),  # a student's few words on a thumbs-down (issue 17)
    CheckConstraint("rating IN (-1, 1)", name="rating_is_plus_or_minus_one"),
)

gaps = Table(
    "gaps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, unique=True),  # sha256 of the normalized question
    Column("normalized", Text, nullable=False),
    Column("question", Text, nullable=False),  # the latest wording as typed
    Column("count", Integer, nullable=False),
    Column("first_seen", _Time, nullable=False),
    Column("last_seen", _Time, nullable=False, index=True),
    Column("answer_text", Text, nullable=False, default=""),
    Column("related", _Json, nullable=False),
    Column("last_answer_id", Integer, ForeignKey("answers.id", ondelete="SET NULL"), nullable=True),
)

verdicts = Table(
    "verdicts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("answer_id", Integer, ForeignKey("answers.id", ondelete="CASCADE"), nullable=False),
    Column("n", Integer, nullable=False),
    Column("verdict", String(32), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("reviewer", String(128), nullable=False, default=""),
    Column("build_id", String(128), nullable=False, default=""),
    Column("doc_id", String(512), nullable=False),
    Column("doc_sha256", String(64), nullable=False, default=""),
    Column("created_at", _Time, nullable=False),
    UniqueConstraint("answer_id", "n", name="one_verdict_per_citation"),
    CheckConstraint("verdict IN ({})".format(", ".join(f"'{v}'" for v in VERDICTS)), name="known_verdict"),
)
Index("verdicts_by_kind", verdicts.c.verdict, verdicts.c.answer_id)

# Failed logins per client address and per account ("address:…", "account:admin"), shared by every
# instance on this database; times are epoch seconds (the instances' clocks, not the database's).
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("failures", _Json, nullable=False),  # times of recent failures, oldest first
    Column("next_try", Float, nullable=False, default=0.0),
    Column("locked_until", Float, nullable=False, default=0.0),
    Column("updated_at", _Time, nullable=False, index=True),
)
