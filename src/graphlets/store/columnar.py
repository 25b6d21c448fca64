"""Run one large SELECT and get an Arrow table back, streamed in record batches.

Every read goes through the store's own engine, so a process opens a SQLite file through one SQLite
library only: Python's ``sqlite3``, the same as every other connection. A second library in the
same process (ADBC's driver bundles its own SQLite, ml-metadata another) would release this one's
POSIX locks when it closes the file, and concurrent writers then corrupt the store (SQLite's "How
To Corrupt" page, section 2.2).

- SQLite: the cursor's ``fetchmany`` hands over ``chunk_rows`` rows at a time; each chunk becomes
  one Arrow record batch at once (see :func:`_batch`), so Python rows never pile up. The
  collector is paused meanwhile: millions of tuples trigger collections that cost more than the
  read.
- PostgreSQL: ``COPY (query) TO STDOUT`` as CSV, spooled to a temporary file, parsed by Arrow's
  multithreaded CSV reader (no Python object per value).

:func:`read_snapshot` makes several reads see one state of the store (one read transaction), so a
bulk load under concurrent writers never finds an event whose execution it did not load.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Select
from sqlalchemy.dialects import postgresql, sqlite

from graphlets.store.read_ops import gc_paused

if TYPE_CHECKING:
    from graphlets.store.metadata_store import MetadataStore

CHUNK_ROWS = 100_000
Advance = Callable[[int], None]

# id(store) -> the connection holding that store's open read snapshot, in this context
_SNAPSHOTS: ContextVar[dict[int, Connection] | None] = ContextVar("_SNAPSHOTS", default=None)


def _noop(_: int) -> None:
    return None


def read_table(
    store: MetadataStore,
    stmt: Select[Any],
    schema: pa.Schema,
    *,
    advance: Advance = _noop,
    chunk_rows: int = CHUNK_ROWS,
) -> pa.Table:
    """Run ``stmt`` on ``store`` and return its rows as a table with ``schema`` (names by position).

    Args:
        store: the open store to read.
        stmt: a SQLAlchemy Core select whose columns line up with ``schema``.
        schema: Arrow names and types of the result columns.
        advance: called with the number of rows after each batch (progress bars).
        chunk_rows: rows per batch (SQLite).
    """
    out: list[pa.RecordBatch] = []
    with _connection(store) as conn:
        for b in _batches(store, conn, stmt, schema, chunk_rows):
            out.append(b)
            advance(b.num_rows)
    return pa.Table.from_batches(out, schema=schema)


@contextmanager
def read_snapshot(store: MetadataStore) -> Iterator[None]:
    """Make every :func:`read_table` on ``store`` inside the block read one state of the store.

    One connection and one read transaction serve them all (SQLite: a deferred ``BEGIN``, which in
    WAL mode never blocks writers; PostgreSQL: ``REPEATABLE READ``). Nested blocks share the outer
    snapshot.
    """
    current = _SNAPSHOTS.get() or {}
    if id(store) in current:
        yield
        return
    opts = {"isolation_level": "REPEATABLE READ"} if store.url.backend == "postgresql" else {}
    with store.engine.connect().execution_options(**opts) as conn, conn.begin():
        token = _SNAPSHOTS.set({**current, id(store): conn})
        try:
            yield
        finally:
            _SNAPSHOTS.reset(token)


@contextmanager
def _connection(store: MetadataStore) -> Iterator[Connection]:
    held = (_SNAPSHOTS.get() or {}).get(id(store))
    if held is not None:
        yield held
        return
    with store.engine.connect() as conn, conn.begin():
        yield conn


def _batches(
    store: MetadataStore, conn: Connection, stmt: Select[Any], schema: pa.Schema, chunk_rows: int
) -> Iterator[pa.RecordBatch]:
    if store.url.backend == "postgresql":
        yield from _copy_batches(conn, compile_sql(stmt, "postgresql"), schema)
    else:
        yield from _sqlite_batches(conn, compile_sql(stmt, "sqlite"), schema, chunk_rows)


def compile_sql(stmt: Select[Any], backend: str) -> str:
    """``stmt`` as literal SQL for ``backend`` (``sqlite`` or ``postgresql``)."""
    if backend == "sqlite":
        dialect: Any = sqlite.dialect()
    else:
        dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _sqlite_batches(
    conn: Connection, sql: str, schema: pa.Schema, chunk_rows: int
) -> Iterator[pa.RecordBatch]:
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cur.execute(sql)
        while True:
            with gc_paused():
                rows = cur.fetchmany(chunk_rows)
                if not rows:
                    return
                batch = _batch(rows, schema)
            yield batch
    finally:
        cur.close()


def _batch(rows: Sequence[tuple[Any, ...]], schema: pa.Schema) -> pa.RecordBatch:
    """One chunk of DBAPI rows as an Arrow batch, converted in one call.

    Arrow reads the tuples as a struct array (by position) whose children are the columns.
    Measured on the bulk lineage load's queries (1/10 paper scale, rows already fetched): about
    2x faster than transposing with ``zip(*rows)`` and calling ``pa.array`` per column (events,
    1.66 M rows: 0.2-0.4 s against 0.5 s), and far faster than ``RecordBatch.from_pylist``.
    Fetching the rows themselves (``sqlite3`` making a Python object per value) still costs most.
    """
    return pa.RecordBatch.from_struct_array(pa.array(rows, type=pa.struct(list(schema))))


def _copy_batches(conn: Connection, sql: str, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """PostgreSQL: ``COPY (query) TO STDOUT`` as CSV, spooled to a temporary file (so a result
    larger than memory streams), then parsed by Arrow's multithreaded CSV reader in batches."""
    with tempfile.TemporaryFile() as spool:
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:  # type: ignore[union-attr]
            for block in copy:
                spool.write(block)
        if spool.tell() == 0:
            return  # no rows
        spool.seek(0)
        reader = pacsv.open_csv(
            spool,
            read_options=pacsv.ReadOptions(column_names=schema.names, block_size=1 << 24),
            convert_options=pacsv.ConvertOptions(  # NULL is unquoted empty, '' is ""
                column_types=schema,
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
        for batch in reader:
            yield pa.RecordBatch.from_arrays(batch.columns, schema=schema)
