"""kill -9 at random points, then resume: the store never holds half-written executions.

Each trial forks a child that runs the CHAIN pipeline for one span and SIGKILLs it after a random
delay within the run's duration (so kills land in component code, in blob writes and inside store
transactions). The parent then checks the crash invariants, resumes the killed run (the dead
runner's lease is taken over at once: same host, dead pid) and checks again.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from graphlets.model import ArtifactState, ExecutionState
from graphlets.pipeline import Pipeline, Runner
from graphlets.pipeline.environment import environment_sha256
from graphlets.pipeline.runs import find_run
from graphlets.store import MetadataStore
from tests.pipeline.helpers import chain, check_no_half_written, states

pytestmark = pytest.mark.integration
FORK = multiprocessing.get_context("fork")


def _child(url: str, pipeline: Pipeline, blobs: str, span: int) -> None:
    store = MetadataStore(url)
    Runner(store, pipeline, blobs=blobs).run(span)
    os._exit(0)


def _run_child(
    url: str, pipeline: Pipeline, blobs: str, span: int, kill_after: float | None
) -> float:
    t0 = time.perf_counter()
    proc = FORK.Process(target=_child, args=(url, pipeline, blobs, span))
    proc.start()
    if kill_after is None:
        proc.join(60)
    else:
        time.sleep(kill_after)
        os.kill(int(proc.pid or 0), signal.SIGKILL)
        proc.join(10)
    return time.perf_counter() - t0


def _latest_run(store: MetadataStore, span: int) -> Any:
    runs = [
        c
        for c in store.get_contexts_by_type("pipeline_run")
        if c.custom_properties.get("span") == span
    ]
    return runs[-1] if runs else None


def _trials(url: str, folder: Path, n: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    blobs = str(folder / "blobs")
    fast, slow = chain(folder / "fast"), chain(folder / "slow", SLEEP=0.05)
    environment_sha256()  # computed once here, inherited by every forked child
    budgets = {}
    for i, p in enumerate((fast, slow)):  # a warm, uninterrupted run of each sets the kill window
        _run_child(url, p, blobs, 10_000 + i, None)
        budgets[id(p)] = _run_child(url, p, blobs, 20_000 + i, None)
    outcomes: dict[str, int] = {}
    for trial in range(n):
        pipeline = fast if trial % 2 else slow
        delay = rng.uniform(0.0, budgets[id(pipeline)])
        try:
            _trial(url, pipeline, blobs, trial + 1, delay, outcomes)
        except AssertionError as exc:
            raise AssertionError(f"trial {trial} (kill after {delay:.3f}s): {exc}") from exc
    return outcomes


def _trial(
    url: str, pipeline: Pipeline, blobs: str, span: int, delay: float, outcomes: dict[str, int]
) -> None:
    _run_child(url, pipeline, blobs, span, delay)
    with MetadataStore(url) as store:
        check_no_half_written(store)
        run = _latest_run(store, span)
        state = "NONE" if run is None else str(run.custom_properties.get("state"))
        outcomes[state] = outcomes.get(state, 0) + 1
        runner = Runner(store, pipeline, blobs=blobs)
        if run is None:
            result = runner.run(span)
        elif state != "COMPLETE":
            result = runner.resume(find_run(store, f"run:{run.id}"))
        else:
            return
        assert result.ok, result.error
        final = set(states(store, result.run_id).values())
        assert final <= {"COMPLETE", "CACHED", "CANCELED"}, final
        check_no_half_written(store)
        assert not [
            e
            for e in store.get_executions()
            if e.last_known_state in (ExecutionState.RUNNING, ExecutionState.NEW)
        ]
        assert not [a for a in store.get_artifacts() if a.state == ArtifactState.PENDING]


def test_kill_at_random_points_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    MetadataStore(url, create=True).close()
    outcomes = _trials(url, tmp_path, n=24, seed=20260105)
    assert sum(outcomes.values()) == 24
    # Slow-chain kills land inside the run even on a loaded machine; keep a margin for noise.
    assert outcomes.get("RUNNING", 0) >= 3, outcomes


@pytest.mark.postgres
def test_kill_at_random_points_postgresql(pg_url: str, tmp_path: Path) -> None:
    MetadataStore(pg_url, create=True).close()
    outcomes = _trials(pg_url, tmp_path, n=6, seed=7)
    assert sum(outcomes.values()) == 6


def test_stale_executions_are_failed_with_a_reason(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    MetadataStore(url, create=True).close()
    pipeline = chain(tmp_path, SLEEP=2.0)
    proc = FORK.Process(target=_child, args=(url, pipeline, str(tmp_path / "blobs"), 1))
    proc.start()
    with MetadataStore(url) as store:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _running(store):
            time.sleep(0.02)
        os.kill(int(proc.pid or 0), signal.SIGKILL)  # inside ingest's sleep
        proc.join(10)
        [running] = _running(store)
        with Runner(store, pipeline, blobs=str(tmp_path / "blobs")) as runner:
            assert runner.stale_executions == [running.id]
        [failed] = store.get_executions_by_id([int(running.id or 0)])
        assert failed.last_known_state == ExecutionState.FAILED
        assert "stopped before this finished" in str(failed.custom_properties["error"])
        run = _latest_run(store, 1)
        assert run.custom_properties["state"] == "FAILED"
        check_no_half_written(store)


def _running(store: MetadataStore) -> list[Any]:
    return [e for e in store.get_executions() if e.last_known_state == ExecutionState.RUNNING]
