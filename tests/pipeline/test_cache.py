"""The cache key, the indexed lookup, and when a stored result is not reusable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text

from graphlets.model import Artifact
from graphlets.pipeline import Runner
from graphlets.pipeline.cache import cache_key, lookup_statement, param_fingerprint
from graphlets.store import MetadataStore
from tests.pipeline.helpers import chain, states


def _a(fp: str) -> Artifact:
    return Artifact(type_id=1, id=1, custom_properties={"fingerprint": fp})


@pytest.mark.unit
def test_key_covers_name_code_params_and_inputs(tmp_path: Path) -> None:
    base = cache_key("train", "code1", {"epochs": 3}, {"examples": [_a("x"), _a("y")]})
    assert base == cache_key("train", "code1", {"epochs": 3}, {"examples": [_a("x"), _a("y")]})
    changed = [
        cache_key("train2", "code1", {"epochs": 3}, {"examples": [_a("x"), _a("y")]}),
        cache_key("train", "code2", {"epochs": 3}, {"examples": [_a("x"), _a("y")]}),
        cache_key("train", "code1", {"epochs": 4}, {"examples": [_a("x"), _a("y")]}),
        cache_key("train", "code1", {"epochs": 3}, {"examples": [_a("y"), _a("x")]}),
        cache_key("train", "code1", {"epochs": 3}, {"other": [_a("x"), _a("y")]}),
    ]
    assert base not in changed and len(set(changed)) == len(changed)


@pytest.mark.unit
def test_path_parameters_are_hashed_by_content(tmp_path: Path) -> None:
    f = tmp_path / "data.csv"
    f.write_text("a,b\n1,2\n")
    first = param_fingerprint(f)
    os.utime(f, (0, 0))
    assert param_fingerprint(f) == first  # touching is not changing
    f.write_text("a,b\n1,3\n")
    assert param_fingerprint(f) != first
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "x").write_text("1")
    d1 = param_fingerprint(tmp_path / "dir")
    (tmp_path / "dir" / "y").write_text("2")
    assert param_fingerprint(tmp_path / "dir") != d1
    assert param_fingerprint(tmp_path / "missing")["content"] is None


@pytest.mark.unit
def test_lookup_uses_the_property_index_on_sqlite(tmp_path: Path) -> None:
    store = MetadataStore(f"sqlite:///{tmp_path / 's.sqlite'}", create=True)
    stmt = lookup_statement("k" * 64, 3600.0, 10**12)
    sql = str(stmt.compile(store.engine, compile_kwargs={"literal_binds": True}))
    with store.engine.connect() as conn:
        plan = " ".join(str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
    store.close()
    assert "idx_execution_property_string" in plan, plan
    assert "SCAN executionproperty" not in plan and "SCAN execution " not in plan + " "


@pytest.mark.postgres
def test_lookup_uses_the_property_index_on_postgresql(pg_url: str) -> None:
    store = MetadataStore(pg_url, create=True)
    stmt = lookup_statement("k" * 64, None, 0)
    sql = str(stmt.compile(store.engine, compile_kwargs={"literal_binds": True}))
    with store.engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))
        plan = " ".join(str(r[0]) for r in conn.execute(text("EXPLAIN " + sql)))
    store.close()
    assert "idx_execution_property_string" in plan, plan


def test_missing_payload_or_abandoned_output_is_a_miss(
    lite_store: MetadataStore, tmp_path: Path
) -> None:
    store = lite_store
    pipeline = chain(tmp_path)
    first = Runner(store, pipeline, blobs=str(tmp_path / "blobs")).run(2)
    [stats_out] = first.outcomes["stats"].outputs["statistics"]
    Path(str(stats_out.uri)).unlink()  # the payload was garbage-collected
    again = Runner(store, pipeline, blobs=str(tmp_path / "blobs")).run(2)
    got = states(store, again.run_id)
    assert got["ingest"] == "CACHED" and got["stats"] == "COMPLETE"
    assert Path(str(stats_out.uri)).exists()  # recomputed, same bytes
