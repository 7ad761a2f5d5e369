"""Alembic environment: always run with a connection handed in by gatehouse.storage.sql.migrate."""

from alembic import context

from gatehouse.storage.sql.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached by running the alembic CLI by hand
    raise SystemExit("run migrations through gatehouse (gatehouse serve / gatehouse init), not the alembic CLI")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
