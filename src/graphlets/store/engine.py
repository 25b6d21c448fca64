"""Engines for store URLs, with the connection settings each backend needs.

SQLite: a busy timeout so writers wait instead of failing, foreign keys on, and write transactions
opened with ``BEGIN IMMEDIATE`` (a deferred transaction that later upgrades to a write lock can fail
with "database is locked" without waiting). Journal mode is *not* touched here: only
``store init`` switches a new file to WAL, so reading never changes an existing file.

Connections are pooled on both backends: closing the last connection to a WAL file checkpoints it,
which per transaction cost more than the transaction itself. A pooled connection is never used by a
process other than the one that opened it: after ``fork`` the child starts with empty pools.
"""

from __future__ import annotations

import os
import weakref
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import QueuePool, StaticPool

from graphlets.store.url import StoreURL

BUSY_TIMEOUT_MS = 60_000
WRITE_OPTION = "graphlets_write"


def make_engine(url: StoreURL) -> Engine:
    """Create the engine for ``url`` with the backend's connection hooks installed."""
    if url.backend == "postgresql":
        engine = create_engine(url.sqlalchemy_url, pool_pre_ping=True, pool_size=2, max_overflow=4)
        _install_fork_guard(engine)
        return engine
    if url.is_memory:
        engine = create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        engine = create_engine(
            url.sqlalchemy_url,
            poolclass=QueuePool,
            pool_size=2,
            max_overflow=8,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        )
        _install_fork_guard(engine)
    _install_sqlite_hooks(engine)
    return engine


_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()
_INHERITED: list[Any] = []  # a parent's pools, kept alive in a child so it never closes them


def _install_fork_guard(engine: Engine) -> None:
    """Give a forked child fresh pools; the parent's connections stay untouched and open."""
    _ENGINES.add(engine)


def _after_fork_in_child() -> None:
    # SQLAlchemy's recipe for fork: dispose(close=False) drops the pool without closing its
    # connections; keeping the old pool referenced stops garbage collection from closing them
    # (which would end the parent's PostgreSQL sessions).
    for engine in list(_ENGINES):
        _INHERITED.append(engine.pool)
        engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


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
