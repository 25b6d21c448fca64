"""The columnar reader: one SELECT into Arrow on every backend, one SQLite library per process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import select

from graphlets.model import Artifact, ArtifactType
from graphlets.store import MetadataStore
from graphlets.store import schema as s
from graphlets.store.columnar import read_snapshot, read_table

SCHEMA = pa.schema([("id", pa.int64()), ("uri", pa.string()), ("name", pa.string())])
NAMES = ["plain", "ünïcode ✓", "NA", "NULL", 'quote " and, comma', "", None, "new\nline"]


def _fill(store: MetadataStore, type_name: str = "Examples") -> list[int]:
    tid = store.put_artifact_type(ArtifactType(type_name))
    arts = [Artifact(tid, name=n, uri=f"/u/{i}" if i % 2 else None) for i, n in enumerate(NAMES)]
    return store.put_artifacts(arts)


def _stmt():  # type: ignore[no-untyped-def]
    a = s.artifact
    return select(a.c.id, a.c.uri, a.c.name).order_by(a.c.id)


def test_rows_types_and_nulls_on_every_backend(store: MetadataStore) -> None:
    ids = _fill(store)
    seen: list[int] = []
    got = read_table(store, _stmt(), SCHEMA, advance=seen.append, chunk_rows=4)
    assert got.schema == SCHEMA
    assert got.column("id").to_pylist() == ids
    assert got.column("name").to_pylist() == NAMES  # empty string and NULL stay apart
    assert got.column("uri").to_pylist() == [
        f"/u/{i}" if i % 2 else None for i in range(len(NAMES))
    ]
    assert sum(seen) == len(NAMES) and all(n > 0 for n in seen)


def test_empty_result(store: MetadataStore) -> None:
    got = read_table(store, _stmt(), SCHEMA)
    assert got.num_rows == 0 and got.schema == SCHEMA


@pytest.mark.parametrize(
    "store_url",
    ["sqlite-file", pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)  # an in-memory store has one connection: no other writer to hide
def test_a_snapshot_reads_one_state_of_the_store(store_url: str) -> None:
    with MetadataStore(store_url) as reader, MetadataStore(store_url) as writer:
        _fill(writer)
        with read_snapshot(reader):
            before = read_table(reader, _stmt(), SCHEMA).num_rows
            _fill(writer, "Other")  # committed by another connection meanwhile
            with read_snapshot(reader):  # nested: the same snapshot
                assert read_table(reader, _stmt(), SCHEMA).num_rows == before
        assert read_table(reader, _stmt(), SCHEMA).num_rows == 2 * before


CHECKPOINT = (
    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], timeout=0); "
    "print(c.execute('PRAGMA wal_checkpoint(TRUNCATE)').fetchone()[0])"
)


def _checkpoint_busy(path: Path) -> bool:
    """From another process: would a truncating checkpoint have to wait for a reader here?"""
    out = subprocess.run([sys.executable, "-c", CHECKPOINT, str(path)], capture_output=True)
    return out.stdout.decode().strip() == "1"


def test_bulk_load_keeps_this_process_s_sqlite_locks(tmp_path: Path) -> None:
    """A second SQLite library in this process (ADBC's, ml-metadata's) releases every POSIX lock
    the process holds on the file when it closes it: another process could then truncate the WAL
    under an open read transaction, or write under it. The bulk load must not do that."""
    from graphlets.lineage import load_tables

    path = tmp_path / "store.sqlite"
    with MetadataStore(f"sqlite:///{path}", create=True) as store:
        _fill(store)
        with store.engine.connect() as held, held.begin():  # the UI's read, say
            held.exec_driver_sql("SELECT count(*) FROM Artifact").all()
            assert _checkpoint_busy(path)  # the read lock protects the WAL
            load_tables(store)
            assert _checkpoint_busy(path)  # ... and still does after the bulk load
        assert not _checkpoint_busy(path)
    assert not {m for m in sys.modules if m.startswith("adbc_driver")}
