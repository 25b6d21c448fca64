"""``store export --parquet``: one Parquet file per MLMD table, streamed in record batches.

Files are named after MLMD's tables (``Artifact.parquet``, ``Event.parquet``, ...) and keep MLMD's
column names and raw values (enums as their numbers, structs as ``mlmd-struct::`` strings), so the
files are the store, column for column, for DuckDB, polars or pandas. Integers are int64, flags
bool. Each file is written to a temporary name and renamed when complete, and all tables come
from one read snapshot.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Boolean, Float, Integer, LargeBinary, Table

from graphlets.store import schema as s
from graphlets.store.metadata_store import MetadataStore
from graphlets.store.transfer import MLMD_NAMES, Progress, count_rows, snapshot, stream_table

BATCH_ROWS = 65_536
EXPORT_TABLES: tuple[Table, ...] = (*s.MLMD_TABLES, s.mlmd_env)


def export_parquet(
    src_url: str, out_dir: Path, *, progress: Progress | None = None
) -> dict[str, Path]:
    """Write every MLMD table of ``src_url`` to ``out_dir``; returns table name -> file.

    ``progress(table, done, total)`` is called as each table starts and after every batch.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    with MetadataStore(src_url) as src, snapshot(src) as conn:
        for table in EXPORT_TABLES:
            name = MLMD_NAMES[table.name]
            total = count_rows(conn, table)
            if progress:
                progress(name, 0, total)
            path = out_dir / f"{name}.parquet"
            tmp = path.with_name(path.name + ".tmp")
            schema = arrow_schema(table)
            done = 0
            with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
                for chunk in stream_table(conn, table, BATCH_ROWS):
                    writer.write_batch(_batch(schema, chunk))
                    done += len(chunk)
                    if progress:
                        progress(name, done, total)
            os.replace(tmp, path)
            files[name] = path
    return files


def arrow_schema(table: Table) -> pa.Schema:
    """The Arrow schema of an MLMD table; nullability follows the SQL columns."""
    return pa.schema(
        [pa.field(c.name, _arrow_type(c.type), nullable=bool(c.nullable)) for c in table.c]
    )


def _arrow_type(sql_type: Any) -> pa.DataType:
    if isinstance(sql_type, Boolean):
        return pa.bool_()
    if isinstance(sql_type, Integer):  # Integer, BigInteger and SmallInteger
        return pa.int64()
    if isinstance(sql_type, Float):
        return pa.float64()
    if isinstance(sql_type, LargeBinary):
        return pa.binary()
    return pa.string()


def _batch(schema: pa.Schema, rows: list[tuple[Any, ...]]) -> pa.RecordBatch:
    columns = list(zip(*rows, strict=True))
    arrays = [_array(field, values) for field, values in zip(schema, columns, strict=True)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _array(field: pa.Field, values: tuple[Any, ...]) -> pa.Array:
    if pa.types.is_boolean(field.type):  # SQLite keeps MLMD's flags as 0/1
        return pa.array([None if v is None else bool(v) for v in values], pa.bool_())
    return pa.array(values, field.type)
