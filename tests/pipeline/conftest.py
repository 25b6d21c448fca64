"""Pipeline fixtures: ``lite_store`` runs a test on SQLite (file and memory) only.

The runner's store writes are the store's API, which the store suite covers on every backend; the
pipeline tests that exercise backend behaviour (provenance shape, cache hits, failures, resume,
hooks, kills, executors) use the ``store`` fixture or ``pg_url`` and so run on PostgreSQL too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from graphlets.store import MetadataStore


@pytest.fixture(params=["sqlite-file", "sqlite-memory"])
def lite_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetadataStore]:
    """An empty store on SQLite (a file, or memory)."""
    url = (
        f"sqlite:///{tmp_path / 'store.sqlite'}" if request.param == "sqlite-file" else "sqlite://"
    )
    store = MetadataStore(url, create=True)
    try:
        yield store
    finally:
        store.close()
