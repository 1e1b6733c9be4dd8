"""Move the rows of the release before the store (one SQLite table ``feedback``) into it, then drop it.

Ratings become ratings (vote keys hashed) and each abstention is counted into
its deduplicated gap.  A database without that table is left as it is.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

from assistant.store.legacy import import_feedback_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":  # that release only ever wrote SQLite files
        import_feedback_table(connection)


def downgrade() -> None:
    pass  # the old table is not brought back; its rows stay in ratings and gaps
