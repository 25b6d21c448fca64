"""Concurrent events of many runs, in shuffled order, through a live receiver: every run ends
COMPLETE with both times, no update is lost, no request fails (PostgreSQL and SQLite)."""

from __future__ import annotations

import os
import random
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from graphlets.model import ArtifactState, EventType, ExecutionState
from graphlets.store import MetadataStore
from graphlets.web import create_app
from tests.interop.events import dataset, event
from tests.web.live import live_server

TOKEN = "race-token"
BOUNDED_RUNS = int(os.environ.get("GRAPHLETS_OL_RACE_RUNS", "30"))
START, END = "2026-03-01T10:00:00Z", "2026-03-01T10:07:00Z"


def _run_events(i: int, parent: str) -> list[dict[str, Any]]:
    run = str(uuid.uuid4())
    common: dict[str, Any] = {
        "run_id": run,
        "job": f"dag.task{i % 4}",
        "parent": ("dag", parent),
        "inputs": [dataset("shared/raw")],
    }
    out = [dataset(f"out/{i}")]
    return [
        event("START", time=START, **common),
        event("RUNNING", time="2026-03-01T10:03:00Z", **common),
        event("COMPLETE", time=END, outputs=out, run_facets={"cost": {"cpuSeconds": i}}, **common),
    ]


def _race(url: str, runs: int, threads: int = 16) -> Counter[int]:
    parents = [str(uuid.uuid4()) for _ in range(3)]
    rng = random.Random(7)
    docs = []
    for i in range(runs):  # a run's events side by side, so they race each other
        mine = _run_events(i, parents[i % 3])
        rng.shuffle(mine)  # COMPLETE often arrives before START
        docs += mine
    head = {"Authorization": f"Bearer {TOKEN}"}

    def post(doc: dict[str, Any]) -> int:
        return requests.post(
            f"{url}/api/v1/lineage", json=doc, headers=head, timeout=120
        ).status_code

    with ThreadPoolExecutor(threads) as pool:
        return Counter(pool.map(post, docs))


def _check(store_url: str, runs: int) -> None:
    with MetadataStore(store_url) as st:
        execs = st.get_executions()
        assert len(execs) == runs, "one execution per run, none duplicated"
        states = Counter(e.last_known_state for e in execs)
        assert states == {ExecutionState.COMPLETE: runs}, f"stuck: {states}"
        for e in execs:
            p = e.custom_properties
            assert p["end_time_ms"] - p["start_time_ms"] == 420_000, "both times kept"
            assert p["cpu_seconds"] == int(p["openlineage.run.cost"]["cpuSeconds"])
        outputs = [a for a in st.get_artifacts() if a.uri and "/out/" in a.uri]
        assert len(outputs) == runs and {a.state for a in outputs} == {ArtifactState.LIVE}
        events = st.get_events_by_execution_ids([e.id or 0 for e in execs])
        kinds = Counter(ev.type for ev in events)
        assert kinds[EventType.OUTPUT] == runs and kinds[EventType.INPUT] == runs
        assert len(st.get_contexts_by_type("pipeline")) == 1
        assert len(st.get_contexts_by_type("pipeline_run")) == 3
        assert len(st.get_contexts_by_type("node")) == 4
        assert len(st.get_artifacts_by_uri("postgres://db:5432/shared/raw")) == 1


def test_concurrent_events_of_many_runs_lose_nothing(served_store_url: str) -> None:
    with live_server(create_app(served_store_url, TOKEN)) as url:
        statuses = _race(url, BOUNDED_RUNS)
    assert statuses == {201: 3 * BOUNDED_RUNS}, statuses
    _check(served_store_url, BOUNDED_RUNS)


@pytest.mark.slow
def test_hundreds_of_runs_racing_lose_nothing(served_store_url: str) -> None:
    runs = 10 * BOUNDED_RUNS
    with live_server(create_app(served_store_url, TOKEN)) as url:
        statuses = _race(url, runs, threads=32)
    assert statuses == {201: 3 * runs}, statuses
    _check(served_store_url, runs)
