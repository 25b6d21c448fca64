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
from sqlalchemy import Engine, create_engine, text
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


def _pg_database_url(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(False)


def _drop_pg_database(admin: Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database URL (not yet an MLMD store); dropped afterwards."""
    require_pg()
    name = f"graphlets_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        yield _pg_database_url(name)
    finally:
        _drop_pg_database(admin, name)
        admin.dispose()


@pytest.fixture(scope="session")
def pg_template() -> Iterator[tuple[Engine, str]]:
    """An initialised, empty store database to copy, built once per session (per xdist worker),
    with the admin engine that copies it; both are dropped at the end.

    ``store init`` on PostgreSQL costs 0.3-0.9 s (DDL, seeds, migrations); ``CREATE DATABASE ...
    TEMPLATE`` copies the result in a fraction of that. A template must have no open
    connections while it is copied, so the store that builds it is closed (engine disposed).
    """
    require_pg()
    name = f"graphlets_template_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        MetadataStore(_pg_database_url(name), create=True).close()
        yield admin, name
    finally:
        _drop_pg_database(admin, name)
        admin.dispose()


@pytest.fixture
def pg_store_url(pg_template: tuple[Engine, str]) -> Iterator[str]:
    """A fresh, initialised PostgreSQL store (a copy of the session template); dropped after."""
    admin, template = pg_template
    name = f"graphlets_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield _pg_database_url(name)
    finally:
        _drop_pg_database(admin, name)


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
        yield request.getfixturevalue("pg_store_url")


@pytest.fixture
def store(store_url: str) -> Iterator[MetadataStore]:
    """An open, empty store on each backend."""
    s = MetadataStore(store_url)
    try:
        yield s
    finally:
        s.close()
