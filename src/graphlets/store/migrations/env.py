"""Alembic environment: always runs on the connection graphlets hands it."""

from __future__ import annotations

from alembic import context

from graphlets.store.migrate import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table=VERSION_TABLE)
context.run_migrations()
