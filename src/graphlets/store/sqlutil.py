"""Small SQL helpers shared by the store modules: chunked IN lists, insert-or-ignore, and the
driver-level fast path.

The hot reads and writes (properties, events, paths, whole-table loads) bypass SQLAlchemy's
per-row parameter and result processing, which costs a few microseconds a row: they send plain
parameterised SQL through the DBAPI cursor of the connection's current transaction and get plain
tuples back. Driver errors are re-raised as SQLAlchemy's wrapped exceptions, so callers (and the
store's retry loop) see the same exception types as from ``Connection.execute``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from graphlets.store.engine import map_engine_error

T = TypeVar("T")
# Below SQLite's 32,766 host-parameter limit and PostgreSQL's 65,535, with room for other params.
CHUNK = 10_000
# A set of ids is read as one BETWEEN range (and filtered here) when the range holds at most this
# many times as many ids as the set: one index range scan beats binding thousands of parameters.
DENSE_FACTOR = 2
DENSE_MIN = 32
# PostgreSQL inserts of up to this many parameters go as one multi-row INSERT, larger ones as COPY.
SMALL_INSERT_PARAMS = 1_000


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most ``size`` items."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def insert_ignore(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows, keeping existing ones on a unique conflict (MLMD's idempotent links)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(postgresql.insert(table).on_conflict_do_nothing(), rows)
    else:
        conn.execute(sqlite.insert(table).on_conflict_do_nothing(), rows)


# driver-level fast path ---------------------------------------------------------------------
def mark(conn: Connection) -> str:
    """The driver's positional parameter marker: ``?`` (sqlite3) or ``%s`` (psycopg)."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def is_postgresql(conn: Connection) -> bool:
    """True on PostgreSQL (the only other backend is SQLite)."""
    return conn.dialect.name == "postgresql"


def _wrap(conn: Connection, sql: str, params: Any, exc: Exception) -> Exception:
    """The exception SQLAlchemy would raise for ``exc`` (``IntegrityError``, ...), or the
    store's one-line error for it (:func:`graphlets.store.engine.map_engine_error`): these fast
    paths bypass the engine's ``handle_error`` hook."""
    mapped = map_engine_error(conn, exc)
    if mapped is not None:
        return mapped
    dbapi: Any = conn.dialect.loaded_dbapi
    return DBAPIError.instance(sql, params, exc, dbapi.Error)


def fetchall(conn: Connection, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` as plain tuples, inside ``conn``'s transaction."""
    dbapi: Any = conn.dialect.loaded_dbapi
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cur.execute(sql, params)
        return list(cur.fetchall())
    except dbapi.Error as exc:
        raise _wrap(conn, sql, params, exc) from exc
    finally:
        cur.close()


def fetch_many(
    conn: Connection, statements: Sequence[tuple[str, Sequence[Any]]]
) -> list[list[tuple[Any, ...]]]:
    """The rows of several independent statements, in order.

    On PostgreSQL they go out as one pipeline, so the batch costs one round trip to the server
    instead of one per statement; SQLite (in-process) runs them one after the other.
    """
    if not is_postgresql(conn):
        return [fetchall(conn, sql, params) for sql, params in statements]
    dbapi: Any = conn.dialect.loaded_dbapi
    raw: Any = conn.connection.driver_connection
    cursors: list[Any] = []
    try:
        with raw.pipeline():
            for sql, params in statements:
                cursors.append(raw.cursor())
                cursors[-1].execute(sql, params)
        return [list(cur.fetchall()) for cur in cursors]
    except dbapi.Error as exc:
        raise _wrap(conn, "; ".join(sql for sql, _ in statements), None, exc) from exc
    finally:
        for cur in cursors:
            cur.close()


def executemany(conn: Connection, sql: str, rows: Iterable[Sequence[Any]]) -> None:
    """``executemany`` with tuple rows, inside ``conn``'s transaction."""
    dbapi: Any = conn.dialect.loaded_dbapi
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cur.executemany(sql, rows)
    except dbapi.Error as exc:
        raise _wrap(conn, sql, None, exc) from exc
    finally:
        cur.close()


def insert_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert tuple rows: ``executemany`` on SQLite; on PostgreSQL one multi-row ``INSERT`` for
    a few rows and ``COPY ... FROM STDIN`` for many.

    psycopg's ``executemany`` costs tens of microseconds of client work a row (a pipelined
    statement each); one statement is one round trip, and COPY streams any number of rows.
    """
    if not rows:
        return
    if not is_postgresql(conn):
        executemany(conn, insert_sql(conn, table, columns), rows)
        return
    if len(rows) * len(columns) <= SMALL_INSERT_PARAMS:
        one = f"({', '.join(['%s'] * len(columns))})"
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([one] * len(rows))}"
        fetch_none(conn, sql, [v for row in rows for v in row])
        return
    dbapi: Any = conn.dialect.loaded_dbapi
    raw: Any = conn.connection.driver_connection
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    try:
        with raw.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    except dbapi.Error as exc:
        raise _wrap(conn, sql, None, exc) from exc


def insert_ignore_pairs(
    conn: Connection, table: str, columns: tuple[str, str], rows: Sequence[tuple[int, int]]
) -> None:
    """Insert integer pairs (link rows), keeping rows that already exist (unique conflict).

    On PostgreSQL one statement over two array parameters (``unnest``), whatever the count.
    """
    if not rows:
        return
    cols = ", ".join(columns)
    if is_postgresql(conn):
        firsts, seconds = [r[0] for r in rows], [r[1] for r in rows]
        sql = (
            f"INSERT INTO {table} ({cols}) SELECT * FROM unnest(%s::integer[], %s::integer[]) "
            "ON CONFLICT DO NOTHING"
        )
        fetch_none(conn, sql, (firsts, seconds))
        return
    executemany(conn, insert_sql(conn, table, columns, " ON CONFLICT DO NOTHING"), rows)


def fetch_none(conn: Connection, sql: str, params: Sequence[Any] = ()) -> None:
    """Run one statement that returns no rows, inside ``conn``'s transaction."""
    dbapi: Any = conn.dialect.loaded_dbapi
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cur.execute(sql, params)
    except dbapi.Error as exc:
        raise _wrap(conn, sql, params, exc) from exc
    finally:
        cur.close()


def rows_by_ids(
    conn: Connection, select_sql: str, column: str, ids: Iterable[int], key: int
) -> list[tuple[Any, ...]]:
    """Rows of ``select_sql`` (a ``SELECT ... FROM t`` with no WHERE) whose ``column`` is in ids.

    ``key`` is the position of ``column`` in the selected row (used to filter a range read).
    Order is whatever the database returns; callers sort when they need to.
    """
    wanted = sorted(set(ids))
    if not wanted:
        return []
    lo, hi = wanted[0], wanted[-1]
    m = mark(conn)
    dense = isinstance(lo, int) and isinstance(hi, int) and len(wanted) >= DENSE_MIN
    if dense and hi - lo + 1 <= DENSE_FACTOR * len(wanted):
        rows = fetchall(conn, f"{select_sql} WHERE {column} BETWEEN {m} AND {m}", (lo, hi))
        if hi - lo + 1 == len(wanted):
            return rows
        keep = set(wanted)
        return [r for r in rows if r[key] in keep]
    out: list[tuple[Any, ...]] = []
    for part in chunks(wanted, CHUNK):
        cond, params = in_clause(conn, column, part)
        out += fetchall(conn, f"{select_sql} WHERE {cond}", params)
    return out


def in_clause(conn: Connection, column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
    """``column IN (...)`` for at most :data:`CHUNK` ids, and its parameters.

    PostgreSQL gets one array parameter (``= ANY(%s)``), so the statement text never changes.
    SQLite gets one marker per id, padded (by repeating the last id) to the next power of two (or
    multiple of 1,024), so a few statement texts cover every size and sqlite3's statement cache
    reuses them.
    """
    if is_postgresql(conn):
        return f"{column} = ANY(%s)", [list(ids)]
    n = len(ids)
    size = 1 << max(n - 1, 0).bit_length() if n <= 1024 else -(-n // 1024) * 1024
    padded = [*ids, *[ids[-1]] * (size - len(ids))] if ids else [None]
    return f"{column} IN ({', '.join('?' * len(padded))})", padded


def allocate_ids(conn: Connection, table: str, n: int) -> list[int]:
    """``n`` fresh, increasing ids for new rows of ``table``, inside a write transaction.

    SQLite: the transaction holds the database's write lock (``BEGIN IMMEDIATE``), so the block
    after every id in the table and every id the AUTOINCREMENT sequence ever gave out is ours; the
    insert with explicit ids advances ``sqlite_sequence`` itself. PostgreSQL: ``nextval`` on the
    table's sequence, which is safe under concurrency (the ids need not be contiguous).
    """
    if n <= 0:
        return []
    if is_postgresql(conn):
        got = fetchall(conn, f"SELECT nextval('{table}_id_seq') FROM generate_series(1, %s)", (n,))
        return sorted(int(r[0]) for r in got)
    sql = (
        f"SELECT MAX(COALESCE((SELECT MAX(id) FROM {table}), 0), "
        "COALESCE((SELECT MAX(seq) FROM sqlite_sequence WHERE lower(name) = ?), 0))"
    )
    top = int(fetchall(conn, sql, (table,))[0][0])
    return list(range(top + 1, top + 1 + n))


def insert_sql(conn: Connection, table: str, columns: Sequence[str], suffix: str = "") -> str:
    """``INSERT INTO table (columns) VALUES (markers)`` in the driver's paramstyle."""
    marks = ", ".join([mark(conn)] * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}){suffix}"
