"""The store as it was before migrations (main at 81cefda): question log, ratings, gaps, verdicts.

A database made by that code (``metadata.create_all``) has these tables and
no ``alembic_version``; ``migrate.upgrade`` stamps it with this revision
instead of running it.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("resolved_question", sa.Text(), nullable=False),
        sa.Column("answer_json", _JSON, nullable=False),
        sa.Column("build_id", sa.String(length=128), nullable=False),
        sa.Column("timings", _JSON, nullable=False),
        sa.Column("abstained", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_answers_created_at"), "answers", ["created_at"], unique=False)
    op.create_table(
        "answer_docs",
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("doc_id", sa.String(length=512), nullable=False),
        sa.ForeignKeyConstraint(["answer_id"], ["answers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("answer_id", "doc_id"),
    )
    op.create_index(op.f("ix_answer_docs_doc_id"), "answer_docs", ["doc_id"], unique=False)
    op.create_table(
        "gaps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("normalized", sa.Text(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_seen", _TIME, nullable=False),
        sa.Column("last_seen", _TIME, nullable=False),
        sa.Column("answer_text", sa.Text(), nullable=False),
        sa.Column("related", _JSON, nullable=False),
        sa.Column("last_answer_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["last_answer_id"], ["answers.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index(op.f("ix_gaps_last_seen"), "gaps", ["last_seen"], unique=False)
    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("answer_json", _JSON, nullable=True),
        sa.Column("vote_key", sa.String(length=64), nullable=True),
        sa.CheckConstraint("rating IN (-1, 1)", name="rating_is_plus_or_minus_one"),
        sa.ForeignKeyConstraint(["answer_id"], ["answers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("vote_key"),
    )
    op.create_index(op.f("ix_ratings_answer_id"), "ratings", ["answer_id"], unique=False)
    op.create_table(
        "verdicts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.String(length=128), nullable=False),
        sa.Column("build_id", sa.String(length=128), nullable=False),
        sa.Column("doc_id", sa.String(length=512), nullable=False),
        sa.Column("doc_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.CheckConstraint(
            "verdict IN ('supports', 'partly', 'does_not_support', 'wrong_passage')", name="known_verdict"
        ),
        sa.ForeignKeyConstraint(["answer_id"], ["answers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("answer_id", "n", name="one_verdict_per_citation"),
    )
    op.create_index("verdicts_by_kind", "verdicts", ["verdict", "answer_id"], unique=False)


def downgrade() -> None:
    for table in ("verdicts", "ratings", "gaps", "answer_docs", "answers"):
        op.drop_table(table)
