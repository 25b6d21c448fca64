"""Driver errors a user can cause become one-line store errors naming the file and the fix:
a damaged or truncated SQLite file, a read-only store, a lock held too long, NUL bytes on
PostgreSQL; and ``store init`` never adopts or converts a database that holds other data."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from graphlets.errors import (
    GraphletsError,
    InvalidArgumentError,
    NotAStoreError,
    StoreBusyError,
    StoreReadOnlyError,
)
from graphlets.model import (
    Artifact,
    ArtifactType,
    Context,
    ContextType,
    Event,
    EventType,
    Execution,
    ExecutionType,
)
from graphlets.store import ListOptions, MetadataStore, bootstrap, engine, parse_store_url
from tests.conftest import PG_URL, _admin_url, require_pg

PAGE = 4096


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_line(exc: BaseException) -> str:
    msg = str(exc)
    assert msg and "\n" not in msg
    return msg


def populated(path: Path, n: int = 400) -> str:
    """A store with ``n`` artifacts, executions and events (many pages), in DELETE journal mode
    so the whole database is in the one file a test then damages."""
    url = f"sqlite:///{path}"
    with MetadataStore(url, create=True) as st:
        at = st.put_artifact_type(ArtifactType("Examples"))
        et = st.put_execution_type(ExecutionType("Trainer"))
        ct = st.put_context_type(ContextType("pipeline"))
        [ctx] = st.put_contexts([Context(ct, name="p")])
        for i in range(n // 100):
            arts = [
                Artifact(at, uri=f"/d/{i}/{j}", custom_properties={"k": "v" * 40})
                for j in range(100)
            ]
            ids = st.put_artifacts(arts)
            [eid] = st.put_executions([Execution(et, name=f"t{i}")])
            st.put_events([Event(a, eid, EventType.INPUT) for a in ids])
        assert ctx
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode = DELETE")
    con.close()
    return url


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: 3 * PAGE + 100])


def scramble(path: Path) -> None:
    """Overwrite every page but the first (the header and schema) with garbage."""
    data = bytearray(path.read_bytes())
    for start in range(PAGE, len(data), PAGE):
        data[start : start + PAGE] = bytes((start // PAGE * 37 + i) % 251 for i in range(PAGE))
    path.write_bytes(bytes(data))


def read_all(url: str) -> None:
    with MetadataStore(url) as st:
        arts = st.get_artifacts()
        st.get_executions(ListOptions(filter_query="name LIKE 't%'"))
        st.get_contexts()
        st.get_events_by_artifact_ids([a.id for a in arts if a.id][:50])
        st.get_lineage_subgraph([a.id for a in arts if a.id][:5], max_hops=2)
        st.count("event")


@pytest.mark.parametrize("damage", [truncate, scramble], ids=["truncated", "scrambled"])
def test_damaged_file_is_one_line_on_read_and_init(
    tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    path = tmp_path / "store.sqlite"
    url = populated(path)
    damage(path)
    before = _digest(path)
    for action in (lambda: read_all(url), lambda: MetadataStore(url, create=True).close()):
        with pytest.raises(NotAStoreError) as err:
            action()
        msg = _one_line(err.value)
        assert str(path) in msg and "backup" in msg and ".recover" in msg
    assert _digest(path) == before  # neither the read nor store init wrote to it


def test_read_only_store_names_the_file_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    url = populated(path, n=100)
    with MetadataStore(url) as st:
        st.engine.dispose()  # new connections get the hook below
        event.listen(st.engine, "connect", _query_only)
        assert st.get_artifacts(ListOptions(limit=3))  # reads still work
        at = st.get_artifact_type("Examples").id
        assert at is not None
        with pytest.raises(StoreReadOnlyError) as err:
            st.put_artifacts([Artifact(at, uri="/new")])
    msg = _one_line(err.value)
    assert str(path) in msg and "writable" in msg


def _query_only(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA query_only = ON")  # SQLite's "attempt to write a readonly database"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files; see the test above")
def test_read_only_file_and_folder(tmp_path: Path) -> None:  # pragma: no cover - non-root only
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "store.sqlite"
    url = populated(path, n=100)
    path.chmod(0o444)
    folder.chmod(0o555)
    try:
        with pytest.raises(StoreReadOnlyError) as err, MetadataStore(url) as st:
            st.put_artifact_type(ArtifactType("New"))
        assert str(path) in _one_line(err.value)
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)


@pytest.fixture
def locked_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A store another connection holds an exclusive lock on, and a 0.2 s busy timeout."""
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 200)
    path = tmp_path / "store.sqlite"
    url = populated(path, n=100)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("UPDATE artifact SET uri = uri")
    try:
        yield url
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_lock_held_too_long_is_one_line(locked_store: str) -> None:
    with pytest.raises(StoreBusyError) as err:
        read_all(locked_store)
    msg = _one_line(err.value)
    assert "locked" in msg and "retry" in msg and locked_store.removeprefix("sqlite:///") in msg


def test_map_db_error_leaves_write_locks_to_the_retry_loop(tmp_path: Path) -> None:
    url = parse_store_url(f"sqlite:///{tmp_path / 's.sqlite'}")
    locked = sqlite3.OperationalError("database is locked")
    assert engine.map_db_error(url, locked, write=True) is None
    assert isinstance(engine.map_db_error(url, locked), StoreBusyError)
    assert engine.map_db_error(url, sqlite3.IntegrityError("UNIQUE constraint failed")) is None


# store init never adopts or converts other data -------------------------------------------


@pytest.mark.parametrize("with_mlmd", [False, True])
def test_init_refuses_sqlite_with_other_tables(tmp_path: Path, with_mlmd: bool) -> None:
    path = tmp_path / "app.sqlite"
    if with_mlmd:
        MetadataStore(f"sqlite:///{path}", create=True).close()
        con = sqlite3.connect(path)
        con.execute("PRAGMA journal_mode = DELETE")
    else:
        con = sqlite3.connect(path)
    con.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    con.execute("INSERT INTO invoices VALUES (1, 9.5)")
    con.commit()
    con.close()
    before = _digest(path)
    with pytest.raises(NotAStoreError) as err:
        MetadataStore(f"sqlite:///{path}", create=True)
    msg = _one_line(err.value)
    assert "invoices" in msg and str(path) in msg and "new file" in msg
    assert _digest(path) == before
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # not switched to WAL
    con.close()


def test_init_keeps_an_existing_store_with_our_own_tables(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    MetadataStore(f"sqlite:///{path}", create=True).close()
    assert bootstrap.init_store(parse_store_url(f"sqlite:///{path}")) is False


@pytest.mark.postgres
def test_init_refuses_pg_database_with_other_tables() -> None:
    require_pg()
    name = f"graphlets_foreign_{uuid.uuid4().hex[:10]}"
    admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(False)
    try:
        app = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
        with app.begin() as conn:
            conn.execute(text("CREATE TABLE orders (id int)"))
        app.dispose()
        with pytest.raises(NotAStoreError) as err:
            MetadataStore(url, create=True)
        assert "orders" in _one_line(err.value)
        app = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
        with app.connect() as conn:
            tables = set(
                conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname='public'"))
                .scalars()
                .all()
            )
        app.dispose()
        assert tables == {"orders"}
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# URLs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["sqlite:///", "sqlite:///?mode=ro"])
def test_sqlite_url_without_a_path_is_an_error(url: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        MetadataStore(url)
    msg = _one_line(err.value)
    assert "no file path" in msg and "sqlite://" in msg


def test_sqlite_memory_urls_stay_memory() -> None:
    for url in ("sqlite://", "sqlite:///:memory:"):
        with MetadataStore(url) as st:
            assert st.url.is_memory and st.count("type") == 9


# NUL bytes on PostgreSQL ----------------------------------------------------------------------


NUL_WRITES: list[tuple[str, Callable[[MetadataStore, int], Any], str]] = [
    ("name", lambda st, t: st.put_artifacts([Artifact(t, name="a\x00b")]), "name"),
    ("uri", lambda st, t: st.put_artifacts([Artifact(t, uri="/a\x00")]), "uri"),
    (
        "property value",
        lambda st, t: st.put_artifacts([Artifact(t, custom_properties={"note": "x\x00"})]),
        "custom_properties['note']",
    ),
    (
        "property key",
        lambda st, t: st.put_artifacts([Artifact(t, custom_properties={"k\x00": 1})]),
        "custom_properties key",
    ),
    ("type name", lambda st, _t: st.put_artifact_type(ArtifactType("T\x00")), "NUL"),
]


@pytest.mark.postgres
@pytest.mark.parametrize("case", NUL_WRITES, ids=[c[0] for c in NUL_WRITES])
def test_nul_bytes_on_postgresql_name_the_field(
    pg_store_url: str, case: tuple[str, Callable[[MetadataStore, int], Any], str]
) -> None:
    _, write, field = case
    with MetadataStore(pg_store_url) as st:
        t = st.put_artifact_type(ArtifactType("A"))
        with pytest.raises(InvalidArgumentError) as err:
            write(st, t)
        msg = _one_line(err.value)
        assert field in msg and "NUL" in msg
        assert st.count("artifact") == 0  # nothing half-written
        st.put_artifacts([Artifact(t, uri="/fine")])  # the store still takes writes


def test_nul_bytes_on_sqlite_are_stored(tmp_path: Path) -> None:
    with MetadataStore(f"sqlite:///{tmp_path / 's.sqlite'}", create=True) as st:
        t = st.put_artifact_type(ArtifactType("A"))
        [aid] = st.put_artifacts([Artifact(t, uri="/a\x00b")])
        assert st.get_artifacts_by_id([aid])[0].uri == "/a\x00b"


def test_every_mapped_error_is_a_graphlets_error() -> None:
    url = parse_store_url("sqlite:///x.sqlite")
    for msg in (
        "database disk image is malformed",
        "file is not a database",
        "attempt to write a readonly database",
        "database is locked",
    ):
        mapped = engine.map_db_error(url, sqlite3.DatabaseError(msg))
        assert isinstance(mapped, GraphletsError) and "x.sqlite" in str(mapped)
