"""One runner per pipeline: the lease row, its heartbeat, expiry, and takeover from dead runners."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from graphlets.errors import ConcurrencyError, SchemaVersionError
from graphlets.pipeline import Runner
from graphlets.pipeline.lease import Lease, lease_table
from graphlets.store import MetadataStore
from tests.pipeline.helpers import chain


def _row(store: MetadataStore, name: str) -> tuple[str, int] | None:
    with store.engine.connect() as conn:
        row = conn.execute(
            select(lease_table.c.owner, lease_table.c.expires_ms).where(lease_table.c.name == name)
        ).first()
    return None if row is None else (str(row[0]), int(row[1]))


def test_second_runner_gets_a_clear_error(store: MetadataStore, tmp_path: Path) -> None:
    pipeline = chain(tmp_path)
    with Runner(store, pipeline, blobs=str(tmp_path / "b")) as first:
        with pytest.raises(ConcurrencyError, match="pipeline 'chain' is being run by"):
            Runner(store, pipeline, blobs=str(tmp_path / "b")).open()
        assert first.run(1).ok
    assert _row(store, "chain") is None  # released on exit
    assert Runner(store, pipeline, blobs=str(tmp_path / "b")).run(2).ok


def test_expired_lease_is_taken_over(store: MetadataStore) -> None:
    old = Lease(store, "p", ttl_s=0.05)
    old.acquire()
    old._stop.set()  # the old runner hangs: no more heartbeats
    if old._thread is not None:
        old._thread.join()
    time.sleep(0.1)
    new = Lease(store, "p", ttl_s=30)
    new.acquire()
    try:
        assert new.previous_owner == old.owner
        assert not old.renew() and old.lost
        row = _row(store, "p")
        assert row is not None and row[0] == new.owner
    finally:
        new.release()


def test_dead_local_owner_is_taken_over_at_once(store: MetadataStore) -> None:
    proc = subprocess.Popen(["true"])
    proc.wait()
    dead = f"{socket.gethostname()}:{proc.pid}:deadbeef"
    far = time.time_ns() // 1_000_000 + 3_600_000
    with store.engine.begin() as conn:
        conn.execute(insert(lease_table).values(name="p", owner=dead, expires_ms=far))
    with Lease(store, "p") as lease:
        assert lease.previous_owner == dead


def test_live_foreign_owner_blocks(store: MetadataStore) -> None:
    far = time.time_ns() // 1_000_000 + 3_600_000
    with store.engine.begin() as conn:
        conn.execute(insert(lease_table).values(name="p", owner="elsewhere:1:x", expires_ms=far))
    with pytest.raises(ConcurrencyError, match="elsewhere:1:x"):
        Lease(store, "p").acquire()


@pytest.mark.parametrize("backend", ["sqlite-file", pytest.param("pg", marks=pytest.mark.postgres)])
def test_heartbeat_keeps_the_lease(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 's.sqlite'}"
        if backend == "sqlite-file"
        else request.getfixturevalue("pg_url")
    )
    store = MetadataStore(url, create=True)
    try:
        with Lease(store, "p", ttl_s=0.3) as lease:
            time.sleep(0.7)
            row = _row(store, "p")
            assert row is not None and row[0] == lease.owner
            assert row[1] > time.time_ns() // 1_000_000
            assert not lease.lost
    finally:
        store.close()


def test_store_without_lease_table_says_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    MetadataStore(f"sqlite:///{path}", create=True).close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE graphlets_lease")
    store = MetadataStore(f"sqlite:///{path}")
    with pytest.raises(SchemaVersionError, match="graphlets store upgrade"):
        Lease(store, "p").acquire()
    store.close()
