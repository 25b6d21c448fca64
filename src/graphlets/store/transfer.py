"""``store copy``: any MLMD schema v10 store into an empty one, in bulk, ids preserved.

Rows are streamed from one consistent read snapshot of the source (a server-side cursor on
PostgreSQL, a plain cursor on SQLite) and written through the bulk writer's raw
:meth:`~graphlets.store.bulk.BulkWriter.write`, so memory stays flat and the whole copy is one
transaction: a failed copy leaves the destination as empty as it was. Ids are copied as they are, so
events and links stay valid and a later graphlets or ml-metadata insert continues after them.

The destination may hold the system types (``mlmd.Dataset`` ...) that ``store init`` seeds; they are
replaced by the source's Type rows, whose ids the source's ParentType rows point at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import Connection, Table, delete, func, select

from graphlets.errors import AlreadyExistsError, InvalidArgumentError
from graphlets.model.enums import SYSTEM_ARTIFACT_TYPES, SYSTEM_EXECUTION_TYPES, TypeKind
from graphlets.store import schema as s
from graphlets.store.bulk import BulkWriter
from graphlets.store.metadata_store import MetadataStore
from graphlets.store.url import parse_store_url

Progress = Callable[[str, int, int], None]
CHUNK_ROWS = 20_000
# MLMD's own spelling of its table names (file names, progress labels, result keys).
MLMD_NAMES: dict[str, str] = {
    "type": "Type",
    "typeproperty": "TypeProperty",
    "parenttype": "ParentType",
    "artifact": "Artifact",
    "artifactproperty": "ArtifactProperty",
    "execution": "Execution",
    "executionproperty": "ExecutionProperty",
    "context": "Context",
    "contextproperty": "ContextProperty",
    "event": "Event",
    "eventpath": "EventPath",
    "parentcontext": "ParentContext",
    "association": "Association",
    "attribution": "Attribution",
    "mlmdenv": "MLMDEnv",
}
SYSTEM_TYPES: dict[str, TypeKind] = {
    **{n: TypeKind.ARTIFACT_TYPE for n in SYSTEM_ARTIFACT_TYPES.values()},
    **{n: TypeKind.EXECUTION_TYPE for n in SYSTEM_EXECUTION_TYPES.values()},
}


def copy_store(src_url: str, dst_url: str, *, progress: Progress | None = None) -> dict[str, int]:
    """Copy every MLMD table of ``src_url`` into ``dst_url`` (created if missing).

    Returns rows copied per table (MLMD's table names). ``progress(table, done, total)`` is called
    as each table starts and after every chunk. Raises AlreadyExistsError when the destination holds
    anything but the seeded system types.
    """
    with MetadataStore(src_url) as src:
        if _same_store(src, dst_url):
            raise InvalidArgumentError(
                f"source and destination are the same store ({src.url.redacted()}): "
                "copy into another URL"
            )
        with MetadataStore(dst_url, create=True) as dst, snapshot(src) as sconn:
            return _copy(sconn, dst, progress)


def _copy(sconn: Connection, dst: MetadataStore, progress: Progress | None) -> dict[str, int]:
    counts: dict[str, int] = {}
    with BulkWriter(dst) as w:
        w.lock_tables("type", "typeproperty", "parenttype")
        _check_empty(w.connection, dst)
        w.connection.execute(delete(s.type_table))  # the seeded system types; the source's follow
        for table in s.MLMD_TABLES:
            name = MLMD_NAMES[table.name]
            total = count_rows(sconn, table)
            if progress:
                progress(name, 0, total)
            rows = _counted(stream_table(sconn, table), name, total, progress)
            counts[name] = w.write(table.name, list(table.c.keys()), rows)
        _add_missing_system_types(w)
    return counts


def snapshot(store: MetadataStore) -> Connection:
    """A read connection on one consistent snapshot (REPEATABLE READ on PostgreSQL), begun."""
    conn = store.engine.connect()
    if store.url.backend == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    conn.begin()
    return conn


def count_rows(conn: Connection, table: Table) -> int:
    """Raw row count of one table."""
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def stream_table(
    conn: Connection, table: Table, chunk_rows: int = CHUNK_ROWS
) -> Iterator[list[tuple[Any, ...]]]:
    """All rows of ``table`` (columns in ``table.c`` order) in chunks, without loading them all.

    Tables with an id come in id order; the others in storage order, which keeps EventPath's steps
    in the order they were written (MLMD reads a path back in that order).
    """
    cols = ", ".join(table.c.keys())
    sql = f"SELECT {cols} FROM {table.name}"
    if "id" in table.c:
        sql += " ORDER BY id"
    raw: Any = conn.connection.driver_connection
    is_pg = conn.dialect.name == "postgresql"
    cur = raw.cursor(name=f"graphlets_stream_{table.name}") if is_pg else raw.cursor()
    try:
        if is_pg:
            cur.itersize = chunk_rows
        cur.execute(sql)
        while chunk := cur.fetchmany(chunk_rows):
            yield chunk
    finally:
        cur.close()


def _counted(
    chunks: Iterable[list[tuple[Any, ...]]], name: str, total: int, progress: Progress | None
) -> Iterator[tuple[Any, ...]]:
    done = 0
    for chunk in chunks:
        yield from chunk
        done += len(chunk)
        if progress:
            progress(name, done, total)


def _check_empty(conn: Connection, dst: MetadataStore) -> None:
    for table in s.MLMD_TABLES:
        if table is s.type_table:
            rows = conn.execute(select(s.type_table.c.name, s.type_table.c.type_kind)).all()
            extra = [r.name for r in rows if SYSTEM_TYPES.get(r.name) != r.type_kind]
            if extra:
                raise _not_empty(dst, f"types such as {extra[0]!r}")
        elif conn.execute(select(1).select_from(table).limit(1)).first() is not None:
            raise _not_empty(dst, f"rows in {MLMD_NAMES[table.name]}")


def _not_empty(dst: MetadataStore, what: str) -> AlreadyExistsError:
    return AlreadyExistsError(
        f"destination {dst.url.redacted()} is not empty (it has {what}): copy into a new URL "
        "or an empty store"
    )


def _add_missing_system_types(w: BulkWriter) -> None:
    """Seed the system types an old source lacked, so base types work in the copy."""
    have = set(w.connection.execute(select(s.type_table.c.name)).scalars())
    missing = [(n, k) for n, k in SYSTEM_TYPES.items() if n not in have]
    if missing:
        first = w.reserve("type", len(missing))
        rows = [(first + i, n, int(k)) for i, (n, k) in enumerate(missing)]
        w.write("type", ("id", "name", "type_kind"), rows)


def _same_store(src: MetadataStore, dst_url: str) -> bool:
    dst = parse_store_url(dst_url)
    if src.url.path is not None and dst.path is not None:
        return src.url.path.resolve() == dst.path.resolve()
    return not src.url.is_memory and src.url.redacted() == dst.redacted()
