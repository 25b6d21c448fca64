"""Opening a store: each failure is one line of the right error, and reading never writes."""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from graphlets.errors import (
    GraphletsError,
    InvalidArgumentError,
    NotAStoreError,
    SchemaVersionError,
    StoreConnectionError,
    StoreNotFoundError,
)
from graphlets.model import Artifact, ArtifactType, Event, EventType, Execution, ExecutionType
from graphlets.store import ListOptions, MetadataStore
from tests.conftest import PG_URL, _admin_url, require_pg
from tests.mlmd_proc import in_child
from tests.store.backends import require_mlmd


def _one_line(err: pytest.ExceptionInfo[GraphletsError]) -> str:
    msg = str(err.value)
    assert msg and "\n" not in msg
    return msg


def _journal_mode(path: Path) -> str:
    con = sqlite3.connect(path)
    try:
        return str(con.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        con.close()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_everything(url: str, migrated: bool) -> None:
    with MetadataStore(url) as store:
        assert store.get_artifact_types()
        arts = store.get_artifacts(ListOptions(limit=10, filter_query="uri LIKE '/%'"))
        assert arts
        store.get_executions()
        store.get_contexts()
        store.get_events_by_artifact_ids([a.id for a in arts if a.id])
        store.get_lineage_subgraph([a.id for a in arts if a.id], max_hops=3)
        assert store.count("artifact") >= 1
        assert store.migrations_pending != migrated  # reading never migrates


# SQLite -------------------------------------------------------------------------------------


def test_missing_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "store.sqlite"
    with pytest.raises(StoreNotFoundError) as err:
        MetadataStore(f"sqlite:///{path}")
    msg = _one_line(err)
    assert str(path) in msg and "graphlets store init" in msg
    assert not path.exists() and not path.parent.exists()


@pytest.mark.parametrize("content", [b"hello, not a database\n" * 10, b"", b"SQLite format 2\x00"])
def test_not_a_sqlite_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    with pytest.raises(NotAStoreError) as err:
        MetadataStore(f"sqlite:///{path}")
    assert str(path) in _one_line(err)
    if not content:  # an empty file is an empty SQLite database: store init may fill it
        MetadataStore(f"sqlite:///{path}", create=True).close()
        assert _journal_mode(path) == "wal"
        return
    with pytest.raises(NotAStoreError):  # store init refuses to overwrite it
        MetadataStore(f"sqlite:///{path}", create=True)
    assert path.read_bytes() == content


def test_a_directory(tmp_path: Path) -> None:
    with pytest.raises(NotAStoreError) as err:
        MetadataStore(f"sqlite:///{tmp_path}")
    assert "directory" in _one_line(err)


def test_sqlite_without_mlmd_tables(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE notes (x TEXT)")
    con.commit()
    con.close()
    before = _digest(path)
    with pytest.raises(NotAStoreError) as err:
        MetadataStore(f"sqlite:///{path}")
    msg = _one_line(err)
    assert "no MLMD tables" in msg and "store init" in msg
    assert _digest(path) == before


def _set_schema_version(path: Path, version: int) -> None:
    con = sqlite3.connect(path)
    con.execute("UPDATE mlmdenv SET schema_version = ?", (version,))
    con.commit()
    con.close()


@pytest.mark.parametrize("version", [9, 11])
def test_other_schema_version(tmp_path: Path, version: int) -> None:
    path = tmp_path / "old.sqlite"
    MetadataStore(f"sqlite:///{path}", create=True).close()
    _set_schema_version(path, version)
    with pytest.raises(SchemaVersionError) as err:
        MetadataStore(f"sqlite:///{path}")
    msg = _one_line(err)
    assert str(version) in msg and "10" in msg
    with pytest.raises(SchemaVersionError):
        MetadataStore(f"sqlite:///{path}", create=True)


def test_store_from_a_newer_graphlets(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    MetadataStore(f"sqlite:///{path}", create=True).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE graphlets_alembic_version SET version_num = '9999_future'")
    con.commit()
    con.close()
    with pytest.raises(SchemaVersionError) as err:
        MetadataStore(f"sqlite:///{path}")
    assert "newer graphlets" in _one_line(err)


def test_store_init_makes_wal_and_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "store.sqlite"
    with MetadataStore(f"sqlite:///{path}", create=True) as store:
        tid = store.put_artifact_type(ArtifactType("A"))
        store.put_artifacts([Artifact(tid, uri="/keep")])
        assert not store.migrations_pending
    assert _journal_mode(path) == "wal"
    with MetadataStore(f"sqlite:///{path}", create=True) as again:
        assert [a.uri for a in again.get_artifacts()] == ["/keep"]
        assert again.count("type") == 9 + 1


def _write_graph(url: str) -> None:
    with MetadataStore(url) as store:
        at = store.put_artifact_type(ArtifactType("A"))
        et = store.put_execution_type(ExecutionType("E"))
        store.put_execution(Execution(et), [(Artifact(at, uri="/a"), Event(type=EventType.OUTPUT))])


def test_reading_a_delete_journal_store_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    url = f"sqlite:///{path}"
    MetadataStore(url, create=True).close()
    _write_graph(url)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode = DELETE")
    con.close()
    before = _digest(path)
    _read_everything(url, migrated=True)
    assert _journal_mode(path) == "delete"
    assert _digest(path) == before


def mlmd_write(path: Path) -> None:
    """ml-metadata creates a store with one artifact (in a child process: see mlmd_proc)."""
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    config.sqlite.connection_mode = (
        metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    )
    mlmd = metadata_store.MetadataStore(config)
    tid = mlmd.put_artifact_type(metadata_store_pb2.ArtifactType(name="Examples"))
    mlmd.put_artifacts([metadata_store_pb2.Artifact(type_id=tid, uri="/data")])


@pytest.mark.mlmd
def test_reading_an_ml_metadata_store_changes_nothing(tmp_path: Path) -> None:
    require_mlmd()
    path = tmp_path / "mlmd.sqlite"
    in_child(mlmd_write, path)
    assert _journal_mode(path) == "delete"
    before = _digest(path)
    names = {p.name for p in tmp_path.iterdir()}
    _read_everything(f"sqlite:///{path}", migrated=False)
    assert _journal_mode(path) == "delete"
    assert _digest(path) == before
    assert {p.name for p in tmp_path.iterdir()} == names  # no -wal, -shm or -journal left
    con = sqlite3.connect(path)
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    con.close()
    assert "graphlets_alembic_version" not in tables


def test_memory_store_needs_no_init() -> None:
    with MetadataStore("sqlite://") as store:
        assert store.count("type") == 9  # MLMD's system types
        assert store.get_artifact_types() == []


@pytest.mark.parametrize("url", ["mysql://u@h/db", "nonsense", "http://example.com/store"])
def test_unsupported_url(url: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        MetadataStore(url)
    assert "sqlite:///" in _one_line(err)


# PostgreSQL ---------------------------------------------------------------------------------


def _pg_databases() -> set[str]:
    eng = create_engine(_admin_url())
    with eng.connect() as conn:
        names = set(conn.execute(text("SELECT datname FROM pg_database")).scalars())
    eng.dispose()
    return names


@pytest.fixture
def missing_pg_url() -> Iterator[str]:
    require_pg()
    name = f"graphlets_missing_{uuid.uuid4().hex[:12]}"
    yield make_url(PG_URL).set(database=name).render_as_string(False)
    assert name not in _pg_databases()


@pytest.mark.postgres
def test_missing_pg_database_is_not_created(missing_pg_url: str) -> None:
    with pytest.raises(StoreNotFoundError) as err:
        MetadataStore(missing_pg_url)
    msg = _one_line(err)
    assert "does not exist" in msg and "store init" in msg


@pytest.mark.postgres
def test_unknown_pg_role_is_a_connection_error() -> None:
    require_pg()
    url = make_url(PG_URL).set(username=f"nobody_{uuid.uuid4().hex[:6]}").render_as_string(False)
    with pytest.raises(StoreConnectionError) as err:
        MetadataStore(url)
    assert "nobody_" in _one_line(err)


@pytest.mark.parametrize(
    "url", ["postgresql://postgres@127.0.0.1:1/graphlets", "postgresql://u@host.invalid:5432/db"]
)
def test_unreachable_server(url: str) -> None:
    with pytest.raises(StoreConnectionError) as err:
        MetadataStore(url)
    msg = _one_line(err)
    assert "cannot reach" in msg


@pytest.mark.postgres
def test_empty_pg_database(pg_url: str) -> None:
    name = make_url(pg_url).database
    eng = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    with pytest.raises(NotAStoreError) as err:
        MetadataStore(pg_url)
    assert "no MLMD tables" in _one_line(err)


@pytest.mark.postgres
def test_pg_other_schema_version(pg_url: str) -> None:
    MetadataStore(pg_url, create=True).close()
    eng = create_engine(make_url(pg_url).set(drivername="postgresql+psycopg"))
    with eng.begin() as conn:
        conn.execute(text("UPDATE mlmdenv SET schema_version = 9"))
    eng.dispose()
    with pytest.raises(SchemaVersionError) as err:
        MetadataStore(pg_url)
    assert "9" in _one_line(err)


@pytest.mark.postgres
def test_pg_init_is_idempotent(pg_url: str) -> None:
    with MetadataStore(pg_url, create=True) as store:
        tid = store.put_artifact_type(ArtifactType("A"))
        store.put_artifacts([Artifact(tid, uri="/keep")])
    with MetadataStore(pg_url, create=True) as again:
        assert [a.uri for a in again.get_artifacts()] == ["/keep"]
        assert not again.migrations_pending
