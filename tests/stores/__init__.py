"""The store's tests on SQLite and PostgreSQL; a package, so its conftest shadows no other."""
