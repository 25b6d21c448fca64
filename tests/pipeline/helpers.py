"""Pipelines written to files (so tests can edit their code) and provenance checks shared by the
pipeline tests."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from graphlets.model import ArtifactState, EventType, ExecutionState
from graphlets.pipeline import Pipeline, load_pipeline
from graphlets.store import MetadataStore

# A continuous-training chain: ingest -> stats -> train (window of 2 spans, warm start) ->
# evaluate -> push (only blessed models). FAIL_ON / SLEEP are module constants tests rewrite.
CHAIN = """
import time
from pathlib import Path
from graphlets.pipeline import (
    Examples, ExampleStatistics, Input, Inputs, Model, ModelBlessing, Output, Pipeline,
    PushedModel, component, log_metric, log_param, previous, prop, rolling_window,
)

SCALE = 2
FAIL_ON = -1
SLEEP = 0.0


def scaled(x: int) -> int:
    return x * SCALE


@component
def ingest(span: int, examples: Output[Examples], rows: int = 4) -> None:
    time.sleep(SLEEP)
    examples.write_json({"span": span, "rows": [scaled(span + i) for i in range(rows)]})


@component
def stats(examples: Input[Examples], statistics: Output[ExampleStatistics]) -> None:
    time.sleep(SLEEP)
    rows = examples.read_json()["rows"]
    statistics.write_json({"n": len(rows), "total": sum(rows)})


@component(inputs={"examples": rolling_window(2), "base_model": previous("model")})
def train(
    examples: Inputs[Examples],
    statistics: Input[ExampleStatistics],
    base_model: Input[Model] | None,
    model: Output[Model],
    epochs: int = 3,
) -> dict:
    time.sleep(SLEEP)
    spans = [e.read_json()["span"] for e in examples]
    if FAIL_ON in spans[:1]:
        raise ValueError(f"bad span {spans[0]}")
    base = base_model.read_json() if base_model is not None else None
    model.write_json({"spans": spans, "epochs": epochs,
                      "warm_from": base["spans"] if base else None})
    model.set("epochs", epochs)
    log_param("optimizer", "sgd")
    return {"loss": 1.0 / (1 + sum(spans))}


@component(when=prop("model", "epochs") != 0)
def evaluate(model: Input[Model], blessing: Output[ModelBlessing], threshold: int = 2) -> None:
    time.sleep(SLEEP)
    spans = model.read_json()["spans"]
    blessing.set("blessed", 1 if spans[0] % threshold == 0 else 0)
    log_metric("accuracy", 0.5 + 0.01 * spans[0])


@component(when=prop("blessing", "blessed") == 1)
def push(model: Input[Model], blessing: Input[ModelBlessing], pushed: Output[PushedModel]) -> None:
    pushed.write_bytes(model.read_bytes())
    pushed.set("pushed", 1)


pipeline = Pipeline("chain", [ingest, stats, train, evaluate, push])
"""


def write_source(folder: Path, source: str, name: str = "pipe.py") -> Path:
    """Write a pipeline file and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


def load_source(folder: Path, source: str, name: str = "pipe.py") -> Pipeline:
    """Write and load a pipeline file."""
    return load_pipeline(write_source(folder, source, name))


def chain(folder: Path, **constants: Any) -> Pipeline:
    """The CHAIN pipeline with some module constants replaced (``FAIL_ON=3``, ``SLEEP=0.01``)."""
    source = CHAIN
    for key, value in constants.items():
        lines = [
            f"{key} = {value!r}" if ln.startswith(f"{key} = ") else ln for ln in source.splitlines()
        ]
        source = "\n".join(lines)
    return load_source(folder, source)


def states(store: MetadataStore, run_id: int) -> dict[str, str]:
    """node -> state of the newest execution per node in a run."""
    out: dict[str, tuple[int, str]] = {}
    for ex in store.get_executions_by_context(run_id):
        node = str(ex.custom_properties["node"])
        if node not in out or int(ex.id or 0) > out[node][0]:
            out[node] = (int(ex.id or 0), ex.last_known_state.name)
    return {n: s for n, (_, s) in out.items()}


def check_no_half_written(store: MetadataStore) -> None:
    """The crash-safety invariants of the store, whatever happened to the runner.

    A COMPLETE execution has an OUTPUT event to a LIVE artifact for every PENDING_OUTPUT it
    announced; every LIVE artifact written by the runner has an OUTPUT event from a COMPLETE
    execution; PENDING artifacts belong to RUNNING executions only; FAILED executions leave no
    PENDING or LIVE artifact behind their PENDING_OUTPUT events.
    """
    execs = {int(e.id or 0): e for e in store.get_executions()}
    arts = {int(a.id or 0): a for a in store.get_artifacts()}
    events = store.get_events_by_execution_ids(list(execs))
    by_exec: dict[int, list[Any]] = {}
    for ev in events:
        by_exec.setdefault(int(ev.execution_id or 0), []).append(ev)
    producers: dict[int, list[int]] = {}
    for ex_id, evs in by_exec.items():
        state = execs[ex_id].last_known_state
        pending = {int(e.artifact_id or 0) for e in evs if e.type == EventType.PENDING_OUTPUT}
        outputs = {int(e.artifact_id or 0) for e in evs if e.type == EventType.OUTPUT}
        for a in outputs:
            producers.setdefault(a, []).append(ex_id)
        if state == ExecutionState.COMPLETE:
            assert pending <= outputs, f"execution:{ex_id} COMPLETE without all its outputs"
            assert all(arts[a].state == ArtifactState.LIVE for a in outputs)
        elif state == ExecutionState.FAILED:
            assert not outputs, f"execution:{ex_id} FAILED with OUTPUT events"
            assert all(arts[a].state == ArtifactState.ABANDONED for a in pending)
        elif state == ExecutionState.RUNNING:
            assert not outputs
            assert all(arts[a].state == ArtifactState.PENDING for a in pending)
    for a_id, a in arts.items():
        if a.state == ArtifactState.LIVE:
            origin = [
                x
                for x in producers.get(a_id, [])
                if execs[x].last_known_state == ExecutionState.COMPLETE
            ]
            assert origin, f"artifact:{a_id} LIVE without a COMPLETE producer"
            assert a.uri and a.custom_properties.get("content_sha256")
        if a.state == ArtifactState.PENDING:
            owners = [e.execution_id for e in events if e.artifact_id == a_id]
            assert all(
                execs[int(o or 0)].last_known_state == ExecutionState.RUNNING for o in owners
            )


def provenance_shape(store: MetadataStore, run_ids: Iterable[int]) -> list[Any]:
    """What the runner recorded, without ids, times or hosts: per run, per node in order, the
    state, execution type, and (key, event type, artifact type, artifact state) of each event."""
    shape: list[Any] = []
    for run_id in run_ids:
        execs = sorted(
            store.get_executions_by_context(run_id), key=lambda e: str(e.custom_properties["node"])
        )
        events = store.get_events_by_execution_ids([int(e.id or 0) for e in execs])
        arts = {
            a.id: a for a in store.get_artifacts_by_id([int(e.artifact_id or 0) for e in events])
        }
        run_shape = []
        for ex in execs:
            evs = sorted(
                (e.key, e.type.name, arts[e.artifact_id].type, arts[e.artifact_id].state.name)
                for e in events
                if e.execution_id == ex.id
            )
            run_shape.append((ex.custom_properties["node"], ex.type, ex.last_known_state.name, evs))
        shape.append(run_shape)
    return shape
