"""The emitter: one OpenLineage event per recorded execution, sent by openlineage-python."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from openlineage.client.event_v2 import RunState

from graphlets.interop.openlineage_emit import OpenLineageEmitter, dataset_name, from_env
from graphlets.model import Artifact, Context, Execution, ExecutionState
from graphlets.pipeline import (
    Examples,
    Input,
    Model,
    Output,
    Pipeline,
    PushedModel,
    Runner,
    component,
)
from graphlets.plugins import get_plugin_manager
from graphlets.store import MetadataStore
from tests.interop.conftest import TOKEN, Receiver

pytestmark = pytest.mark.unit


class _Named:
    def __init__(self, name: str) -> None:
        self.name = name


class _Store:
    class url:
        text = "sqlite:///somewhere.sqlite"


def _records() -> dict[str, Any]:
    run = Context(3, name="chain-1", id=11)
    ex = Execution(
        5,
        id=42,
        type="Trainer",
        last_known_state=ExecutionState.COMPLETE,
        custom_properties={"cpu_seconds": 1.5, "end_time_ms": 1_767_225_600_000},
    )
    examples = Artifact(1, id=7, uri="/data/blobs/ab/abcd", type="Examples")
    model = Artifact(2, id=8, uri="s3://models/m/1", type="Model")
    return {
        "store": _Store(),
        "pipeline": _Named("chain"),
        "run_context": run,
        "node": _Named("train"),
        "execution": ex,
        "inputs": {"examples": [examples], "again": [examples]},
        "outputs": {"model": [model]},
    }


def test_event_for_an_execution_names_job_parent_and_datasets() -> None:
    emitter = OpenLineageEmitter("http://127.0.0.1:9", namespace="ns")
    ev = emitter.event_for(**_records())
    assert ev.eventType == RunState.COMPLETE
    assert ev.eventTime == "2026-01-01T00:00:00.000Z"
    assert (ev.job.namespace, ev.job.name) == ("ns", "chain.train")
    parent = ev.run.facets["parent"]
    assert (parent.job.namespace, parent.job.name) == ("ns", "chain")
    assert ev.run.facets["graphlets"].execution == "execution:42"
    assert ev.run.facets["graphlets"].properties == {
        "cpu_seconds": 1.5,
        "end_time_ms": 1_767_225_600_000,
    }
    assert [(d.namespace, d.name) for d in ev.inputs] == [("file", "/data/blobs/ab/abcd")]
    assert [(d.namespace, d.name) for d in ev.outputs] == [("s3://models", "m/1")]
    again = emitter.event_for(**_records())
    assert again.run.runId == ev.run.runId, "the same execution is the same OpenLineage run"


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (ExecutionState.CACHED, RunState.COMPLETE),
        (ExecutionState.CANCELED, RunState.ABORT),
        (ExecutionState.FAILED, RunState.FAIL),
    ],
)
def test_execution_states_map_to_event_types(state: ExecutionState, expected: RunState) -> None:
    recs = _records()
    recs["execution"] = Execution(5, id=1, last_known_state=state)
    assert OpenLineageEmitter("http://x").event_for(**recs).eventType == expected


def test_dataset_names_round_trip_what_openlineage_sent() -> None:
    a = Artifact(
        1,
        id=3,
        uri="postgres://db/t",
        custom_properties={"openlineage.namespace": "postgres://db:5432", "openlineage.name": "t"},
    )
    assert dataset_name(a) == ("postgres://db:5432", "t")
    assert dataset_name(Artifact(1, id=4, uri="demo://Trainer/3/model")) == (
        "demo://Trainer",
        "3/model",
    )
    assert dataset_name(Artifact(1, id=5)) == ("graphlets", "artifact:5")


def test_an_unreachable_endpoint_is_a_warning_not_a_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    emitter = OpenLineageEmitter("http://127.0.0.1:9", timeout=0.5)
    recs = _records()
    with caplog.at_level(logging.WARNING):
        emitter.after_execution(**recs)
    assert emitter.failed == 1 and emitter.sent == 0
    assert "was not sent" in caplog.text


def test_from_env_needs_openlineage_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENLINEAGE_URL", raising=False)
    assert from_env() is None
    monkeypatch.setenv("OPENLINEAGE_URL", "http://127.0.0.1:5000")
    monkeypatch.setenv("OPENLINEAGE_NAMESPACE", "prod")
    emitter = from_env()
    assert emitter is not None and emitter.namespace == "prod"


def test_hooks_called_through_pluggy_reach_our_receiver(receiver: Receiver) -> None:
    emitter = OpenLineageEmitter(receiver.url, api_key=TOKEN)
    pm = get_plugin_manager([emitter], entry_points=False)
    recs = _records()
    pm.hook.after_execution(**recs)
    recs["execution"] = Execution(5, id=43, type="Evaluator")
    pm.hook.on_execution_failure(
        store=recs["store"],
        pipeline=recs["pipeline"],
        run_context=recs["run_context"],
        node=_Named("evaluate"),
        execution=recs["execution"],
        error="evaluation crashed",
    )
    assert emitter.sent == 2
    with MetadataStore(receiver.store_url) as st:
        execs = {e.type: e for e in st.get_executions()}
        assert execs["Trainer"].last_known_state == ExecutionState.COMPLETE
        assert execs["Evaluator"].last_known_state == ExecutionState.FAILED
        assert execs["Evaluator"].custom_properties["error"] == "evaluation crashed"
        pipe = st.get_context_by_type_and_name("pipeline", "graphlets/chain")
        assert pipe is not None
        members = st.get_executions_by_context(pipe.id or 0)
        assert len(members) == 2


# A small continuous-training pipeline, run by the real runner with the emitter as a plugin.
@component
def ingest(span: int, examples: Output[Examples]) -> None:
    examples.write_json({"span": span, "rows": [span, span + 1]})


@component
def train(examples: Input[Examples], model: Output[Model]) -> None:
    model.write_json({"sum": sum(examples.read_json()["rows"])})


@component
def push(model: Input[Model], pushed: Output[PushedModel]) -> None:
    pushed.write_bytes(model.read_bytes())
    pushed.set("pushed", 1)


def test_a_pipeline_run_emits_one_event_per_execution_to_our_receiver(
    receiver: Receiver, tmp_path: Path
) -> None:
    emitter = OpenLineageEmitter(receiver.url, api_key=TOKEN, namespace="ct")
    hooks = get_plugin_manager([emitter], entry_points=False)
    with MetadataStore(f"sqlite:///{tmp_path / 'runner.sqlite'}", create=True) as st:
        pipeline = Pipeline("emitted", [ingest, train, push])
        result = Runner(st, pipeline, blobs=str(tmp_path / "blobs"), hooks=hooks).run(1)
        assert result.ok, result.error
        recorded = st.count("execution")
        mine = {e.type: e for e in st.get_executions()}
        my_artifacts = sorted((a.type or "", a.state.name) for a in st.get_artifacts())
    assert emitter.sent == 2 * recorded == 6 and emitter.failed == 0, "START and COMPLETE"
    with MetadataStore(receiver.store_url) as theirs:
        execs = {e.type: e for e in theirs.get_executions()}
        assert set(execs) == set(mine), "the runner's execution types arrive as they were"
        assert {e.last_known_state for e in execs.values()} == {ExecutionState.COMPLETE}
        for name, e in execs.items():
            for key in ("start_time_ms", "end_time_ms", "cpu_seconds"):
                assert e.custom_properties[key] == mine[name].custom_properties[key], key
        got = sorted((a.type or "", a.state.name) for a in theirs.get_artifacts())
        assert got == my_artifacts, "artifact types (Model, PushedModel) and states arrive"
        trained = next(e for e in execs.values() if e.type and "rain" in e.type)
        g = theirs.get_lineage_subgraph(
            execution_ids=[trained.id or 0], direction="both", max_hops=2
        )
        assert {e.type for e in g.executions} == set(execs), "the lineage is connected"
        runs = theirs.get_contexts_by_type("pipeline_run")
        assert len(runs) == 1, "one graphlets run is one OpenLineage parent run"


def test_the_module_plugin_emits_when_openlineage_url_is_set(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRAPHLETS_PLUGINS", "graphlets.interop.openlineage_emit")
    monkeypatch.delenv("OPENLINEAGE_URL", raising=False)
    pm = get_plugin_manager(entry_points=False)
    pm.hook.after_execution(**_records())  # no URL: nothing is sent, nothing fails
    monkeypatch.setenv("OPENLINEAGE_URL", receiver.url)
    monkeypatch.setenv("OPENLINEAGE_API_KEY", TOKEN)
    monkeypatch.setenv("OPENLINEAGE_NAMESPACE", "from-env")
    pm.hook.after_execution(**_records())
    with MetadataStore(receiver.store_url) as st:
        jobs = [e.custom_properties["openlineage.job"] for e in st.get_executions()]
        assert jobs == ["from-env/chain.train"]
