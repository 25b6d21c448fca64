"""Bulk loading: filters, property pivots, event keys, and the two read paths agreeing."""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from graphlets.errors import NotFoundError
from graphlets.lineage import LoadFilter, load_tables, segment_store
from graphlets.model import (
    Artifact,
    ArtifactType,
    Event,
    EventType,
    Execution,
    ExecutionType,
    PropertyType,
)
from graphlets.store import MetadataStore
from tests.lineage.builder import Builder, full_run


def _two_pipelines(store: MetadataStore) -> int:
    """Pipeline ``p`` (two runs), then after a pause pipeline ``q`` (one run); returns the pause."""
    b = Builder(store)
    r1 = full_run(b, 1, "p1")
    full_run(b, 2, "p2", window=[r1["examples"]], base_model=r1["model"])
    time.sleep(0.01)
    mid = int(time.time() * 1000)
    time.sleep(0.01)
    qb = Builder(store, pipeline="q")
    full_run(qb, 1, "q1", blessed=0)
    return mid


def test_pipeline_and_time_filters(store: MetadataStore) -> None:
    mid = _two_pipelines(store)
    whole = load_tables(store)
    p = load_tables(store, where=LoadFilter(pipeline="p"))
    late = load_tables(store, where=LoadFilter(since_ms=mid))
    early = load_tables(store, where=LoadFilter(until_ms=mid))
    assert whole.executions.height == 24 and p.executions.height == 16
    assert p.pipelines["name"].to_list() == ["p"]
    assert late.executions.height == 8 and early.executions.height == 16
    assert set(late.executions["id"]).isdisjoint(set(early.executions["id"]))
    # only the artifacts and events the selected executions touch
    assert p.events["execution_id"].is_in(p.executions["id"].implode()).all()
    assert p.events["artifact_id"].is_in(p.artifacts["id"].implode()).all()
    assert p.artifacts.height < whole.artifacts.height


def test_segmenting_one_pipeline_equals_its_part_of_the_whole(store: MetadataStore) -> None:
    _two_pipelines(store)
    whole = segment_store(store).graphlets.filter(pl.col("pipeline") == "q")
    part = segment_store(store, where=LoadFilter(pipeline="q")).graphlets
    assert_frame_equal(whole, part)
    assert part["outcome"].to_list() == ["unpushed"]


def test_properties_pivot_and_event_keys(store: MetadataStore) -> None:
    et = store.put_execution_type(ExecutionType("Costly", {"cost": PropertyType.DOUBLE}))
    at = store.put_artifact_type(ArtifactType("PushedModel", {"span": PropertyType.INT}))
    [e1, e2] = store.put_executions([
        Execution(et, properties={"cost": 2.0}, custom_properties={"cost": 5.0, "cpu_seconds": 7}),
        Execution(et, custom_properties={"cost": 5.0, "skip_reason": "pruned"}),
    ])  # fmt: skip
    [a1, a2] = store.put_artifacts([
        Artifact(at, properties={"span": 4}, custom_properties={"pushed": True}),
        Artifact(at, custom_properties={"pushed": 0, "blessed": 1.0}),
    ])  # fmt: skip
    store.put_events([
        Event(a1, e1, EventType.OUTPUT, path=()),
        Event(a2, e1, EventType.INPUT, path=(_step(None, 0), _step("model", None))),
    ])  # fmt: skip
    t = load_tables(store)
    ex = {r["id"]: r for r in t.executions.iter_rows(named=True)}
    assert (ex[e1]["cost"], ex[e1]["cpu_seconds"], ex[e2]["cost"]) == (2.0, 7.0, 5.0)
    assert ex[e2]["skip_reason"] == "pruned" and ex[e1]["skip_reason"] is None
    assert ex[e1]["end_time_ms"] != ex[e1]["end_time_ms"]  # NaN: not recorded
    art = {r["id"]: r for r in t.artifacts.iter_rows(named=True)}
    assert (art[a1]["span"], art[a1]["pushed"], art[a2]["pushed"], art[a2]["blessed"]) == (
        4.0, 1.0, 0.0, 1.0,
    )  # fmt: skip
    keys = dict(zip(t.events["artifact_id"], t.events["key"].cast(pl.String), strict=True))
    assert keys == {a1: "", a2: "model"}  # the first *key* step, after an index step


def _step(key: str | None, index: int | None):  # type: ignore[no-untyped-def]
    from graphlets.model import EventStep

    return EventStep(key=key, index=index)


def test_file_and_memory_stores_load_the_same(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a dir?#' / 's.sqlite'}"  # a path that needs quoting in a URI
    with MetadataStore(url, create=True) as store, MetadataStore("sqlite://") as mem:
        _two_pipelines(store)
        _two_pipelines(mem)
        stages: list[str] = []
        on_file = load_tables(store, progress=lambda s, n: stages.append(s))
        in_memory = load_tables(mem)
    for name in ("types", "pipelines", "executions", "artifacts", "events"):
        got, want = getattr(on_file, name), getattr(in_memory, name)
        assert got.height > 0
        assert_frame_equal(got.drop(_times(got)), want.drop(_times(want)))
    assert {"executions", "artifacts", "events", "event keys"} <= set(stages)


def _times(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if "time" in c or c.endswith("_ms")]


@pytest.mark.unit
def test_empty_store_and_unknown_pipeline() -> None:
    with MetadataStore("sqlite://") as store:
        res = segment_store(store)
        assert (res.summary["graphlets"], res.summary["waste_fraction"]) == (0, 0.0)
        assert res.graphlets.height == res.members.height == 0
        with pytest.raises(NotFoundError, match="pipeline 'nope' is not in"):
            segment_store(store, where=LoadFilter(pipeline="nope"))
