"""The same pipeline on the inline, process-pool and Dask LocalCluster executors records the same
provenance (executions, types, states and event shapes), on SQLite and PostgreSQL: only the
scheduler writes to the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graphlets.errors import InvalidArgumentError
from graphlets.pipeline import Runner, make_executor
from graphlets.store import MetadataStore
from tests.pipeline.helpers import check_no_half_written, load_source, provenance_shape

pytestmark = pytest.mark.integration

# A diamond with two independent branches, a window and a warm start.
DIAMOND = """
import os, time
from graphlets.pipeline import (
    Examples, ExampleStatistics, Input, Inputs, Model, Output, Pipeline, Schema, component,
    previous, rolling_window,
)


@component
def ingest(span: int, examples: Output[Examples]) -> None:
    examples.write_json({"span": span})


@component
def left(examples: Input[Examples], statistics: Output[ExampleStatistics]) -> None:
    time.sleep(0.05)
    statistics.write_json({"pid": "x", "span": examples.read_json()["span"]})


@component
def right(examples: Input[Examples], schema: Output[Schema]) -> None:
    time.sleep(0.05)
    schema.write_json({"cols": ["a"]})


@component(inputs={"examples": rolling_window(2), "base_model": previous("model")})
def train(examples: Inputs[Examples], statistics: Input[ExampleStatistics], schema: Input[Schema],
          base_model: Input[Model] | None, model: Output[Model]) -> dict:
    model.write_json({"spans": examples.spans, "warm": base_model is not None})
    return {"worker_pid": os.getpid()}


pipeline = Pipeline("diamond", [ingest, left, right, train])
"""


def _parallel(store: MetadataStore, run_id: int) -> bool:
    """Whether the two independent branches of a run overlapped in time."""
    ex = {
        e.custom_properties["node"]: e.custom_properties
        for e in store.get_executions_by_context(run_id)
    }
    left, right = ex["left"], ex["right"]
    return bool(
        left["start_time_ms"] < right["end_time_ms"]
        and right["start_time_ms"] < left["end_time_ms"]
    )


def _record(url: str, folder: Path, executor: str) -> tuple[list[Any], set[int]]:
    pipeline = load_source(folder, DIAMOND)
    with MetadataStore(url) as store:
        ex = make_executor(executor, 2)
        try:
            with Runner(store, pipeline, blobs=str(folder / "blobs"), executor=ex) as runner:
                results = [runner.run(span) for span in (1, 2, 1)]
        finally:
            ex.close()
        assert all(r.ok for r in results), [r.error for r in results]
        check_no_half_written(store)
        assert _parallel(store, results[0].run_id) == (executor != "inline"), executor
        pids = {
            int(e.custom_properties["metric.worker_pid"])
            for e in store.get_executions()
            if "metric.worker_pid" in e.custom_properties
        }
        return provenance_shape(store, [r.run_id for r in results]), pids


def _url(backend: str, folder: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'store.sqlite'}"
    else:
        url = request.getfixturevalue("pg_url")
    MetadataStore(url, create=True).close()
    return url


def test_inline_process_and_dask_record_the_same_provenance(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    shapes = {}
    pids = {}
    for executor in ("inline", "process", "dask-local"):
        folder = tmp_path / executor
        folder.mkdir()
        shapes[executor], pids[executor] = _record(
            _url("sqlite", folder, request), folder, executor
        )
    assert shapes["process"] == shapes["inline"]
    assert shapes["dask-local"] == shapes["inline"]
    import os

    assert pids["inline"] == {os.getpid()}
    assert os.getpid() not in pids["process"] and os.getpid() not in pids["dask-local"]
    states = [s for run in shapes["inline"] for (_, _, s, _) in run]
    assert states.count("CACHED") == 4  # the third run repeats span 1


@pytest.mark.postgres
def test_process_pool_on_postgresql(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    inline_dir, pool_dir = tmp_path / "inline", tmp_path / "pool"
    inline_dir.mkdir()
    pool_dir.mkdir()
    want, _ = _record(_url("sqlite", inline_dir, request), inline_dir, "inline")
    got, _ = _record(_url("pg", pool_dir, request), pool_dir, "process")
    assert got == want


def test_dask_scheduler_address(tmp_path: Path) -> None:
    from distributed import LocalCluster

    url = _url("sqlite", tmp_path, None)  # type: ignore[arg-type]
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        dashboard_address=None,
    ) as cluster:
        address = cluster.scheduler_address.replace("tcp://", "dask://")
        shape, _ = _record(url, tmp_path, address)
    assert [node for node, *_ in shape[0]] == ["ingest", "left", "right", "train"]


def test_memory_blobs_refused_for_other_processes(tmp_path: Path) -> None:
    pipeline = load_source(tmp_path, DIAMOND)
    store = MetadataStore("sqlite://")
    ex = make_executor("process", 1)
    try:
        with pytest.raises(InvalidArgumentError, match="workers cannot see"):
            Runner(store, pipeline, blobs="memory://x", executor=ex)
    finally:
        ex.close()


def test_unknown_executor() -> None:
    with pytest.raises(InvalidArgumentError, match="inline, process, dask-local"):
        make_executor("threads")


class _GoneExecutor:
    """An executor whose cluster went away: every submit fails."""

    name = "gone"
    workers = 1
    local_only = True

    def submit(self, spec: Any) -> Any:
        raise RuntimeError("cluster gone")

    def close(self) -> None:
        return None


def test_executor_errors_fail_the_step(tmp_path: Path) -> None:
    store = MetadataStore(f"sqlite:///{tmp_path / 's.sqlite'}", create=True)
    pipeline = load_source(tmp_path, DIAMOND)
    result = Runner(store, pipeline, blobs=str(tmp_path / "b"), executor=_GoneExecutor()).run(1)
    assert result.state == "FAILED"
    assert result.outcomes["ingest"].error == "executor error: RuntimeError: cluster gone"
    check_no_half_written(store)
