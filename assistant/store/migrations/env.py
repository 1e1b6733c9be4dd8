"""Alembic's environment: always run inside the store's own connection and transaction.

``assistant.store.migrate.upgrade`` opens the transaction (with PostgreSQL's
advisory lock, or SQLite's write lock, so two instances starting together
migrate once) and hands its connection over in ``config.attributes``.
"""

from __future__ import annotations

from alembic import context

from assistant.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
)
with context.begin_transaction():
    context.run_migrations()
