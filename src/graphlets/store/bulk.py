"""Bulk writes for millions of rows: one transaction, client-side ids, executemany / COPY.

The normal ``put_*`` methods pay per batch for type checks, ``RETURNING`` round trips and property
deletes; a trace simulator writing 100M rows cannot. :class:`BulkWriter` instead holds one write
transaction, hands out ids in contiguous blocks (:meth:`BulkWriter.reserve`), and streams rows into
MLMD's tables with ``executemany`` on SQLite and ``COPY ... FROM STDIN`` on PostgreSQL::

    with BulkWriter(store) as w:
        art_ids = w.put_artifacts(artifacts)           # encoded like store.put_artifacts
        first = w.reserve("execution", n)               # ids first .. first + n - 1
        w.write("execution", ["id", "type_id", "last_known_state", "name"], rows)

Rules the caller keeps:

* Types come first, through ``store.put_*_type``: the writer holds the write lock (SQLite) or
  exclusive table locks (PostgreSQL), so a normal store write inside the ``with`` would wait on it.
* It only inserts. A node with ``id`` set is written with that id, which must come from
  :meth:`reserve` (or from another store, as ``copy_store`` does); ``id=None`` gets a fresh id.
* Ids an event or link refers to are not checked (MLMD has no foreign keys); unique keys are, by the
  database, and a clash raises :class:`~graphlets.errors.AlreadyExistsError`.
* Nothing is visible to readers before the ``with`` block ends; an exception inside it rolls
  everything back. Reserved ids are never handed out again, written or not, so later normal inserts
  cannot collide with them (SQLite's ``sqlite_sequence`` and PostgreSQL's sequences are advanced).

Columnar callers pass ``zip(*columns)`` as ``rows``; nothing is materialised beyond one row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from operator import itemgetter
from types import TracebackType
from typing import TYPE_CHECKING, Any

import psycopg
from sqlalchemy import Connection, Table

from graphlets.errors import AlreadyExistsError, InvalidArgumentError
from graphlets.model.entities import (
    Artifact,
    Association,
    Attribution,
    Context,
    Event,
    Execution,
    ParentContext,
)
from graphlets.model.enums import TypeKind
from graphlets.store import schema as s
from graphlets.store.codec import property_rows
from graphlets.store.engine import WRITE_OPTION
from graphlets.store.types_ops import TypeCache
from graphlets.store.write_ops import now_ms

if TYPE_CHECKING:
    from graphlets.store.metadata_store import MetadataStore

Node = Artifact | Execution | Context
TABLES: dict[str, Table] = {t.name: t for t in (*s.MLMD_TABLES, s.mlmd_env)}
ID_TABLES = frozenset(t.name for t in s.MLMD_TABLES if "id" in t.c and t.c.id.primary_key)
# Everything but the type tables is locked up front on PostgreSQL (one statement, one order).
_LOCK_UP_FRONT = [
    t.name for t in s.MLMD_TABLES if t.name not in ("type", "typeproperty", "parenttype")
]
NODE_COLUMNS: dict[str, tuple[str, ...]] = {
    "artifact": ("id", "type_id", "uri", "state", "name", "external_id"),
    "execution": ("id", "type_id", "last_known_state", "name", "external_id"),
    "context": ("id", "type_id", "name", "external_id"),
}
_TIMES = ("create_time_since_epoch", "last_update_time_since_epoch")
_VALUES = ("int_value", "double_value", "string_value", "byte_value", "proto_value", "bool_value")
ANALYZE_MIN_ROWS = 50_000
SQLITE_CACHE_KIB = 256 * 1024  # page cache for index inserts during the bulk transaction


class BulkWriter:
    """One bulk write transaction on ``store``; use it as a context manager."""

    def __init__(self, store: MetadataStore) -> None:
        self._store = store
        self._backend = store.url.backend
        self._conn: Connection | None = None
        self._next: dict[str, int] = {}  # next free id per table, once reserved
        self._written: dict[str, int] = {}  # rows written per table
        self._locked: set[str] = set()
        self._types = TypeCache()
        self._types_loaded = False
        self._old_cache: int | None = None

    # transaction --------------------------------------------------------------------------
    def __enter__(self) -> BulkWriter:
        conn = self._store.engine.connect().execution_options(**{WRITE_OPTION: True})
        try:
            conn.begin()
            if self._backend == "postgresql":
                self._lock(conn, _LOCK_UP_FRONT)
            else:
                self._old_cache = int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())
                conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self.connection
        try:
            if exc_type is None:
                self._fix_sequences(conn)
                conn.commit()
                self._analyze(conn)
            else:
                conn.rollback()
        finally:
            if self._old_cache is not None:  # on the driver: no new (write) transaction for it
                raw: Any = conn.connection.driver_connection
                raw.execute(f"PRAGMA cache_size = {self._old_cache}")
            conn.close()
            self._conn = None

    @property
    def connection(self) -> Connection:
        """The writer's SQLAlchemy connection, inside its transaction (for reads of own rows)."""
        if self._conn is None:
            raise InvalidArgumentError("BulkWriter is not open: use it as `with BulkWriter(store)`")
        return self._conn

    def lock_tables(self, *tables: str) -> None:
        """Lock more tables against other writers before reading them (PostgreSQL only: SQLite's
        write lock already covers the whole file).

        Node, edge and property tables are locked on entry; the type tables only when written or
        asked for here, so on PostgreSQL ``store.put_*_type`` still works beside a writer that
        does not write types.
        """
        self._lock(self.connection, [_table(t).name for t in tables])

    def _lock(self, conn: Connection, names: Sequence[str]) -> None:
        todo = [n for n in names if n not in self._locked]
        if todo and self._backend == "postgresql":
            conn.exec_driver_sql(f"LOCK TABLE {', '.join(todo)} IN EXCLUSIVE MODE")
        self._locked.update(todo)

    # ids ----------------------------------------------------------------------------------
    def reserve(self, table: str, n: int) -> int:
        """Reserve ``n`` consecutive ids of ``table``; returns the first.

        The block starts after every id in the table, every id the sequence ever gave out and every
        id reserved earlier in this writer, so it collides with nothing.
        """
        t = _table(table)
        if t.name not in ID_TABLES:
            raise InvalidArgumentError(f"table {t.name!r} has no id column to reserve")
        if n < 0:
            raise InvalidArgumentError(f"cannot reserve {n} ids: pass n >= 0")
        conn = self.connection
        self._lock(conn, [t.name])
        top = int(conn.exec_driver_sql(f"SELECT COALESCE(MAX(id), 0) FROM {t.name}").scalar_one())
        first = max(top, self._sequence_value(conn, t.name), self._next.get(t.name, 1) - 1) + 1
        self._next[t.name] = first + n
        if self._backend == "postgresql" and n:
            # setval is not transactional: the block stays burnt even after a rollback.
            conn.exec_driver_sql(f"SELECT setval('{_pg_seq(t.name)}', {first + n - 1})")
        return first

    def _sequence_value(self, conn: Connection, table: str) -> int:
        if self._backend == "postgresql":
            row = conn.exec_driver_sql(f"SELECT last_value, is_called FROM {_pg_seq(table)}").one()
            return int(row[0]) if row[1] else int(row[0]) - 1
        seq = conn.exec_driver_sql(
            "SELECT MAX(seq) FROM sqlite_sequence WHERE lower(name) = ?", (table,)
        ).scalar_one()
        return int(seq or 0)

    def _fix_sequences(self, conn: Connection) -> None:
        """Advance sequences past every id written or reserved, so later inserts cannot clash."""
        for name in sorted(ID_TABLES & (set(self._written) | set(self._next))):
            top = int(conn.exec_driver_sql(f"SELECT COALESCE(MAX(id), 0) FROM {name}").scalar_one())
            top = max(top, self._next.get(name, 1) - 1)
            if top <= self._sequence_value(conn, name):
                continue
            if self._backend == "postgresql":
                conn.exec_driver_sql(f"SELECT setval('{_pg_seq(name)}', {top})")
            else:
                _set_sqlite_sequence(conn, name, top)

    def _analyze(self, conn: Connection) -> None:
        """Refresh PostgreSQL's planner statistics after a big load: without them the first
        queries on a freshly copied store can pick sequential scans over the indexes."""
        big = [t for t, n in sorted(self._written.items()) if n >= ANALYZE_MIN_ROWS]
        if self._backend == "postgresql" and big:
            conn.exec_driver_sql(f"ANALYZE {', '.join(big)}")
            conn.commit()

    # raw rows -----------------------------------------------------------------------------
    def write(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Insert raw MLMD rows (tuples in ``columns`` order); returns the number written.

        Values are stored as given (MLMD's encoding: enums as ints, booleans as bool or 0/1, structs
        as ``mlmd-struct::`` strings); the put_* helpers below do that encoding for records.
        """
        t = _table(table)
        unknown = [c for c in columns if c not in t.c]
        if unknown:
            raise InvalidArgumentError(
                f"table {t.name!r} has no columns {unknown}: use {list(t.c.keys())}"
            )
        conn = self.connection
        self._lock(conn, [t.name])
        try:
            if self._backend == "postgresql":
                n = _copy_rows(conn, t.name, columns, rows)
            else:
                n = _executemany(conn, t.name, columns, rows)
        except (sqlite3.IntegrityError, psycopg.errors.IntegrityError) as exc:
            first = str(exc).strip().splitlines()[0]
            raise AlreadyExistsError(
                f"bulk write into {t.name} hit an existing key ({first}): write each row once, "
                "with ids from reserve()"
            ) from exc
        self._written[t.name] = self._written.get(t.name, 0) + n
        return n

    # records ------------------------------------------------------------------------------
    def put_artifacts(self, artifacts: Sequence[Artifact]) -> list[int]:
        """Insert artifacts with their properties; ids index-aligned with the input."""
        return self._put_nodes("artifact", artifacts)

    def put_executions(self, executions: Sequence[Execution]) -> list[int]:
        """Insert executions with their properties; ids index-aligned with the input."""
        return self._put_nodes("execution", executions)

    def put_contexts(self, contexts: Sequence[Context]) -> list[int]:
        """Insert contexts with their properties; ids index-aligned with the input."""
        if any(not c.name for c in contexts):
            raise InvalidArgumentError("a context needs a name: MLMD requires Context.name")
        return self._put_nodes("context", contexts)

    def put_events(self, events: Sequence[Event]) -> list[int]:
        """Insert events and their paths; returns the new event ids (input order)."""
        if any(e.artifact_id is None or e.execution_id is None for e in events):
            raise InvalidArgumentError(
                "an event needs artifact_id and execution_id: put the artifact and execution first"
            )
        first, stamp = self.reserve("event", len(events)), now_ms()
        ids = list(range(first, first + len(events)))
        self.write(
            "event",
            ("id", "artifact_id", "execution_id", "type", "milliseconds_since_epoch"),
            (
                (i, e.artifact_id, e.execution_id, int(e.type), e.milliseconds_since_epoch or stamp)
                for i, e in zip(ids, events, strict=True)
            ),
        )
        steps = (
            (i, st.key is None, st.index, st.key)
            for i, e in zip(ids, events, strict=True)
            for st in e.path
        )
        self.write("eventpath", ("event_id", "is_index_step", "step_index", "step_key"), steps)
        return ids

    def put_attributions(self, links: Sequence[Attribution]) -> list[int]:
        """Insert artifact-context links (each once); returns their ids."""
        rows = [(a.context_id, a.artifact_id) for a in links]
        return self._put_links("attribution", ("context_id", "artifact_id"), rows)

    def put_associations(self, links: Sequence[Association]) -> list[int]:
        """Insert execution-context links (each once); returns their ids."""
        rows = [(a.context_id, a.execution_id) for a in links]
        return self._put_links("association", ("context_id", "execution_id"), rows)

    def put_parent_contexts(self, links: Sequence[ParentContext]) -> int:
        """Insert context nesting rows (each once); returns how many."""
        for link in links:
            if link.child_id == link.parent_id:
                raise InvalidArgumentError(f"context:{link.child_id} cannot be its own parent")
        rows = ((p.child_id, p.parent_id) for p in links)
        return self.write("parentcontext", ("context_id", "parent_context_id"), rows)

    def _put_links(
        self, table: str, cols: tuple[str, str], rows: list[tuple[int, int]]
    ) -> list[int]:
        first = self.reserve(table, len(rows))
        self.write(table, ("id", *cols), ((first + i, *r) for i, r in enumerate(rows)))
        return list(range(first, first + len(rows)))

    def _put_nodes(self, kind: str, nodes: Sequence[Node]) -> list[int]:
        declared = self._check_types(kind, nodes)
        fresh = self.reserve(kind, sum(n.id is None for n in nodes))
        ids: list[int] = []
        for n in nodes:
            ids.append(fresh if n.id is None else n.id)
            fresh += n.id is None
        stamp, row = now_ms(), _NODE_ROW[kind]
        rows = (row(n, i, _times(n, stamp)) for n, i in zip(nodes, ids, strict=True))
        self.write(kind, (*NODE_COLUMNS[kind], *_TIMES), rows)
        ptable, owner = s.PROPERTY_TABLES[kind]
        pcols = (owner, "name", "is_custom_property", *_VALUES)
        as_tuple = itemgetter(*pcols)
        props = (
            as_tuple(r)
            for n, i in zip(nodes, ids, strict=True)
            if n.properties or n.custom_properties
            for r in property_rows(owner, i, n.properties, n.custom_properties, declared[n.type_id])
        )
        self.write(ptable.name, pcols, props)
        return ids

    def _check_types(self, kind: str, nodes: Sequence[Node]) -> dict[int, Any]:
        """Declared property types per type id; rejects wrong kinds and undeclared properties."""
        conn = self.connection
        if not self._types_loaded:
            self._types.load(conn)
            self._types_loaded = True
        declared: dict[int, Any] = {}
        for n in nodes:
            if n.type_id not in declared:
                t = self._types.get_by_id(conn, n.type_id)
                if t.kind != TypeKind[f"{kind.upper()}_TYPE"]:
                    raise InvalidArgumentError(
                        f"type id {n.type_id} ({t.name!r}) is {_label(t.kind)}, not "
                        f"{_label(TypeKind[f'{kind.upper()}_TYPE'])}: use the id returned by "
                        f"put_{kind}_type()"
                    )
                declared[n.type_id] = t.properties
            unknown = set(n.properties) - set(declared[n.type_id])
            if unknown:
                raise InvalidArgumentError(
                    f"{kind} properties {sorted(unknown)} are not declared on type id "
                    f"{n.type_id}: declare them (can_add_fields=True) or pass them as "
                    "custom_properties"
                )
        return declared


def _label(kind: TypeKind) -> str:
    word = kind.name.lower().replace("_", " ")
    return ("an " if word[0] in "ae" else "a ") + word


def _table(name: str) -> Table:
    t = TABLES.get(name.lower())
    if t is None:
        raise InvalidArgumentError(f"{name!r} is not an MLMD table: use one of {sorted(TABLES)}")
    return t


def _artifact_row(a: Any, i: int, times: tuple[int, int]) -> tuple[Any, ...]:
    return (i, a.type_id, a.uri, int(a.state), a.name, a.external_id, *times)


def _execution_row(e: Any, i: int, times: tuple[int, int]) -> tuple[Any, ...]:
    return (i, e.type_id, int(e.last_known_state), e.name, e.external_id, *times)


def _context_row(c: Any, i: int, times: tuple[int, int]) -> tuple[Any, ...]:
    return (i, c.type_id, c.name, c.external_id, *times)


_NODE_ROW = {"artifact": _artifact_row, "execution": _execution_row, "context": _context_row}


def _times(n: Node, stamp: int) -> tuple[int, int]:
    """Given times are kept (a simulated trace has its own clock); zero means now."""
    created = n.create_time_since_epoch or stamp
    return created, n.last_update_time_since_epoch or created


def _pg_seq(table: str) -> str:
    return f"{table}_id_seq"


def _set_sqlite_sequence(conn: Connection, table: str, value: int) -> None:
    found = conn.exec_driver_sql(
        "SELECT name FROM sqlite_sequence WHERE lower(name) = ?", (table,)
    ).first()
    if found is None:
        # MLMD's table names are mixed case; sqlite_master has the spelling AUTOINCREMENT uses.
        real = conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND lower(name) = ?", (table,)
        ).scalar_one()
        conn.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (real, value))
    else:
        conn.exec_driver_sql("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", (value, found[0]))


def _executemany(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    raw = conn.connection.driver_connection
    marks = ", ".join("?" for _ in columns)
    cur = raw.cursor()  # type: ignore[union-attr]
    try:
        cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        return max(int(cur.rowcount), 0)
    finally:
        cur.close()


def _copy_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    raw = conn.connection.driver_connection
    n = 0
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cur, cur.copy(sql) as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row(row)
            n += 1
    return n
