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
import sqlite3
import weakref
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool, StaticPool

from graphlets.errors import (
    GraphletsError,
    InvalidArgumentError,
    NotAStoreError,
    StoreBusyError,
    StoreReadOnlyError,
)
from graphlets.store.url import StoreURL

BUSY_TIMEOUT_MS = 60_000
WRITE_OPTION = "graphlets_write"

# Driver errors a reader with its own connection may raise (adapters map them with map_db_error
# instead of importing the database libraries themselves).
DRIVER_ERRORS: tuple[type[Exception], ...] = (DBAPIError, sqlite3.Error)


def make_engine(url: StoreURL) -> Engine:
    """Create the engine for ``url`` with the backend's connection hooks installed."""
    if url.backend == "postgresql":
        engine = create_engine(url.sqlalchemy_url, pool_pre_ping=True, pool_size=2, max_overflow=4)
        _install_fork_guard(engine)
        _install_error_mapping(engine, url)
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
    _install_error_mapping(engine, url)
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


# error mapping ------------------------------------------------------------------------------
# SQLite's messages for a damaged, foreign, read-only or busy file, as sqlite3 words them.
_CORRUPT = ("database disk image is malformed", "file is not a database", "file is encrypted")
_READONLY = ("attempt to write a readonly database", "readonly database", "unable to open database")
_LOCKED = ("database is locked", "database table is locked", "database is busy")
_NUL = ("nul (0x00)", "cannot contain nul")


def _install_error_mapping(engine: Engine, url: StoreURL) -> None:
    """Turn the driver errors a user can cause (a damaged file, a read-only folder, a lock held
    too long, a NUL byte on PostgreSQL) into one-line :class:`GraphletsError`\\ s that name the
    store and the fix. Lock errors on write connections are left alone: the write loop retries
    them and reports :class:`~graphlets.errors.ConcurrencyError` when it gives up."""

    _URLS[engine] = url

    @event.listens_for(engine, "handle_error")
    def _map(context: ExceptionContext) -> None:
        write = False
        if context.connection is not None and not context.connection.closed:
            write = bool(context.connection.get_execution_options().get(WRITE_OPTION, False))
        mapped = map_db_error(url, context.original_exception, write=write)
        if mapped is not None:
            raise mapped from context.original_exception


_URLS: weakref.WeakKeyDictionary[Engine, StoreURL] = weakref.WeakKeyDictionary()


def map_engine_error(conn: Connection, exc: BaseException) -> GraphletsError | None:
    """:func:`map_db_error` for a driver error raised on ``conn`` outside SQLAlchemy's execute
    (the raw-cursor fast paths of :mod:`graphlets.store.sqlutil`)."""
    url = _URLS.get(conn.engine)
    if url is None:
        return None
    write = bool(conn.get_execution_options().get(WRITE_OPTION, False))
    return map_db_error(url, exc, write=write)


def map_db_error(
    url: StoreURL, exc: BaseException, *, write: bool = False
) -> GraphletsError | None:
    """The one-line error for a driver exception, or None when it is not one a user causes.

    Args:
        url: the store, named in the message.
        exc: the DB-API exception (``sqlite3.DatabaseError``, ``psycopg.Error``, ...).
        write: True inside a write transaction, where lock errors are retried, not mapped.
    """
    msg = str(exc).strip().splitlines()[0].lower() if str(exc).strip() else ""
    where = str(url.path) if url.path is not None else url.redacted()
    if url.backend == "sqlite" and any(k in msg for k in _CORRUPT):
        return NotAStoreError(
            f"{where} is damaged or not an SQLite database ({msg}): restore it from a backup, "
            f"or recover what is readable with `sqlite3 {where} .recover`"
        )
    if url.backend == "sqlite" and any(k in msg for k in _READONLY):
        return StoreReadOnlyError(
            f"{where} cannot be written ({msg}): make the file and its folder writable by this "
            "user (SQLite writes -wal/-shm files beside it), or copy the store somewhere writable"
        )
    if not write and any(k in msg for k in _LOCKED):
        return StoreBusyError(
            f"{where} stayed locked by another process for {BUSY_TIMEOUT_MS // 1000} s ({msg}): "
            "wait for it to finish or stop it, then retry"
        )
    if url.backend == "postgresql" and "index row size" in msg:
        return InvalidArgumentError(
            f"a text value sent to {where} is too long for PostgreSQL's index on it ({msg}): "
            "keep names and string properties under about 2,000 bytes; store bigger text as a "
            "blob and record its URI"
        )
    if url.backend == "postgresql" and any(k in msg for k in _NUL):
        return InvalidArgumentError(
            f"a text value sent to {where} contains a NUL byte (0x00), which PostgreSQL cannot "
            "store: remove the NUL from names, URIs and string properties"
        )
    return None
