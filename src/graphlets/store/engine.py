"""Engines for store URLs, with the connection settings each backend needs.

SQLite: a busy timeout so writers wait instead of failing, foreign keys on, and write transactions
opened with ``BEGIN IMMEDIATE`` (a deferred transaction that later upgrades to a write lock can fail
with "database is locked" without waiting). Journal mode is *not* touched here: only
``store init`` switches a new file to WAL, so reading never changes an existing file.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import NullPool, StaticPool

from graphlets.store.url import StoreURL

BUSY_TIMEOUT_MS = 60_000
WRITE_OPTION = "graphlets_write"


def make_engine(url: StoreURL) -> Engine:
    """Create the engine for ``url`` with the backend's connection hooks installed."""
    if url.backend == "postgresql":
        return create_engine(url.sqlalchemy_url, pool_pre_ping=True, pool_size=2, max_overflow=4)
    if url.is_memory:
        engine = create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        engine = create_engine(
            url.sqlalchemy_url,
            poolclass=NullPool,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        )
    _install_sqlite_hooks(engine)
    return engine


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
