"""Writers racing to create the same types never duplicate them (MLMD's type table has no unique
name constraint, so the store must serialise creation itself)."""

from __future__ import annotations

import multiprocessing as mp

import pytest
from sqlalchemy import text

from graphlets.model import ArtifactType
from graphlets.store import MetadataStore


def _create_types(url: str) -> None:
    store = MetadataStore(url)
    try:
        for i in range(15):
            store.put_artifact_type(ArtifactType(f"Raced{i}"))
    finally:
        store.close()


@pytest.mark.integration
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_racing_type_creation_makes_each_type_once(
    backend: str, tmp_path: object, request: pytest.FixtureRequest
) -> None:
    if backend == "postgresql":
        url = request.getfixturevalue("pg_store_url")
    else:
        url = f"sqlite:///{tmp_path}/race.sqlite"
        MetadataStore(url, create=True).close()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_create_types, args=(url,)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    with MetadataStore(url) as store, store.engine.connect() as conn:
        dupes = conn.execute(
            text("SELECT name, COUNT(*) FROM type GROUP BY name HAVING COUNT(*) > 1")
        ).all()
        assert dupes == []
        assert len([t for t in store.get_artifact_types() if t.name.startswith("Raced")]) == 15
