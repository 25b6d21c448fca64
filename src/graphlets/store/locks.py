"""Named write locks: a read-modify-write sequence of store calls as one locked transaction.

The model registry reads the state (who is in production, who holds an alias, the next version
number), decides, and writes the change with its audit record. Without a lock, two processes read
the same state and both write: two versions in production, a lost fallback. :func:`run_locked`
runs such a sequence as one write transaction that holds a lock named by the caller (e.g.
``registry:churn``), so writers of one name take turns and each one reads what the previous one
committed.

- SQLite: the transaction starts with ``BEGIN IMMEDIATE`` (the engine's write option), which takes
  the database's write lock before the first read; another writer waits (busy timeout) and then
  reads the new state. One lock per file, so the name is not needed.
- PostgreSQL: ``pg_advisory_xact_lock`` on a 64-bit hash of the name, held until commit or
  rollback. The store runs in READ COMMITTED, so every statement after the lock sees what the
  previous holder committed. Writers of other names are not held up.

Inside the function every call on that store, reads and writes, in this thread (or task) runs on
the lock's connection and transaction (:func:`bound_connection`, checked by the store's
``_read``/``_write``): the sequence commits or rolls back as a whole. The store's retry on
"database is locked", serialization failures and deadlocks reruns the whole function, so it must
have no effects outside the store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Connection

from graphlets.store.sqlutil import fetchall, is_postgresql

if TYPE_CHECKING:
    from graphlets.store.metadata_store import MetadataStore

R = TypeVar("R")
_BOUND: ContextVar[tuple[object, Connection] | None] = ContextVar("graphlets_locked", default=None)


def lock_key(name: str) -> int:
    """The advisory lock key of ``name``: a stable signed 64-bit hash (same in every process)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def bound_connection(store: object) -> Connection | None:
    """The connection of the locked transaction ``store`` is running in here, or None."""
    bound = _BOUND.get()
    return bound[1] if bound is not None and bound[0] is store else None


@contextmanager
def binding(store: object, conn: Connection) -> Iterator[None]:
    """Within the block, every call on ``store`` in this thread runs on ``conn``'s transaction."""
    token = _BOUND.set((store, conn))
    try:
        yield
    finally:
        _BOUND.reset(token)


def acquire(conn: Connection, name: str) -> None:
    """Take the lock ``name`` for the rest of ``conn``'s transaction (waits for its holder).

    SQLite needs nothing more: the write transaction already holds the database's write lock.
    """
    if is_postgresql(conn):
        fetchall(conn, "SELECT pg_advisory_xact_lock(%s)", (lock_key(name),))


def run_locked(store: MetadataStore, name: str, fn: Callable[[], R]) -> R:
    """Run ``fn`` with every call on ``store`` inside one write transaction holding lock ``name``.

    Re-entrant: called again inside ``fn`` (a promote calling a transition), it joins the same
    transaction (taking the second name's lock too on PostgreSQL).

    Args:
        store: the store whose calls ``fn`` makes.
        name: the lock's name, e.g. ``registry:churn``.
        fn: the sequence; rerun from the start when the store retries the transaction.

    Returns:
        What ``fn`` returns, once the transaction has committed.
    """
    conn = bound_connection(store)
    if conn is not None:
        acquire(conn, name)
        return fn()

    def tx(conn: Connection) -> R:
        acquire(conn, name)
        with binding(store, conn):
            return fn()

    return store._write(tx)
