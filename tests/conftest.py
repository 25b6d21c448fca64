"""Shared fixtures: every store test runs on SQLite (file and memory) and PostgreSQL.

PostgreSQL tests create and drop their own database through ``GRAPHLETS_TEST_PG_URL`` so parallel
workers never collide. With ``CI=true`` an unreachable server fails the run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from graphlets.store import MetadataStore

PG_URL = os.environ.get("GRAPHLETS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _admin_url() -> str:
    return make_url(PG_URL).set(drivername="postgresql+psycopg").render_as_string(False)


def pg_available() -> bool:
    """True when the test server answers."""
    try:
        eng = create_engine(_admin_url(), connect_args={"connect_timeout": 3})
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
        eng.dispose()
        return True
    except Exception:
        return False


def require_pg() -> None:
    """Skip locally without PostgreSQL; fail in CI."""
    if not pg_available():
        if IN_CI:
            pytest.fail(f"PostgreSQL at {PG_URL} is unreachable, and CI=true requires it")
        pytest.skip(f"PostgreSQL at {PG_URL} is unreachable")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database URL (not yet an MLMD store); dropped afterwards."""
    require_pg()
    name = f"graphlets_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    url = make_url(PG_URL).set(database=name).render_as_string(False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite-file", "sqlite-memory", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store URL on each backend, already initialised."""
    if request.param == "sqlite-file":
        url = f"sqlite:///{tmp_path / 'store.sqlite'}"
        MetadataStore(url, create=True).close()
        yield url
    elif request.param == "sqlite-memory":
        yield "sqlite://"
    else:
        request.applymarker(pytest.mark.postgres)
        gen = request.getfixturevalue("pg_url")
        MetadataStore(gen, create=True).close()
        yield gen


@pytest.fixture
def store(store_url: str) -> Iterator[MetadataStore]:
    """An open, empty store on each backend."""
    s = MetadataStore(store_url)
    try:
        yield s
    finally:
        s.close()
