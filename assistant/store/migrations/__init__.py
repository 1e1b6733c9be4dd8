"""Alembic migrations of the store (``env.py``, ``versions/``); run by ``assistant.store.migrate``."""
