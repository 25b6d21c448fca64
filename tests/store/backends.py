"""A store per backend shared by a whole test module, for tests that only read.

The ``store`` fixture in ``tests/conftest.py`` makes a fresh store (a fresh PostgreSQL database) for
every test; modules whose tests only query one fixed graph use :func:`module_store` instead, so the
graph is written once per backend.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from graphlets.store import MetadataStore
from tests.conftest import IN_CI, PG_URL, _admin_url, require_pg

BACKENDS = ["sqlite-file", "sqlite-memory", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextmanager
def module_store(backend: str, folder: Path) -> Iterator[MetadataStore]:
    """An initialised, empty store on ``backend``; a PostgreSQL database is dropped afterwards."""
    name = f"graphlets_test_{uuid.uuid4().hex[:12]}"
    if backend == "sqlite-file":
        url = f"sqlite:///{folder / 'store.sqlite'}"
    elif backend == "sqlite-memory":
        url = "sqlite://"
    else:
        require_pg()
        url = make_url(PG_URL).set(database=name).render_as_string(False)
    store = MetadataStore(url, create=True)
    try:
        yield store
    finally:
        store.close()
        if backend == "postgresql":
            admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def require_mlmd() -> None:
    """Skip without ml-metadata, except in CI on Python 3.11, where it must be installed."""
    try:
        import ml_metadata  # noqa: F401
    except ImportError as exc:
        if IN_CI and sys.version_info[:2] == (3, 11):
            pytest.fail(f"ml-metadata 1.17.1 must be installed in CI on Python 3.11: {exc}")
        pytest.skip(f"ml-metadata is not importable here: {exc}")
