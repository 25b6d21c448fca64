"""OpenLineage run events -> MLMD entities (:mod:`graphlets.interop.openlineage_receive`)."""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from typing import Any

import pytest

from graphlets.errors import InvalidArgumentError
from graphlets.interop.openlineage_receive import receive_event
from graphlets.model import ArtifactState, EventType, ExecutionState
from graphlets.store import MetadataStore
from tests.interop.events import dataset, event
from tests.mlmd_proc import in_child


def _id(typed: str) -> int:
    return int(typed.split(":")[1])


def counts(st: MetadataStore) -> tuple[int, ...]:
    tables = ("artifact", "execution", "event", "context", "type", "association", "attribution")
    return tuple(st.count(t) for t in tables)


def test_a_run_from_start_to_complete_is_one_execution(store: MetadataStore) -> None:
    run = str(uuid.uuid4())
    out = [dataset("public.orders", rowCount={"rows": 10})]
    first = receive_event(
        store, event("START", run_id=run, outputs=out, time="2026-03-01T10:00:00Z")
    )
    assert first.state == "RUNNING"
    [art] = store.get_artifacts_by_id([_id(first.artifacts[0])])
    assert art.state == ArtifactState.PENDING
    done = receive_event(
        store, event("COMPLETE", run_id=run, outputs=out, time="2026-03-01T10:05:00Z")
    )
    assert done.execution == first.execution and done.artifacts == first.artifacts
    [ex] = store.get_executions_by_id([_id(done.execution)])
    assert ex.last_known_state == ExecutionState.COMPLETE
    assert ex.type == "airflow-prod/etl.load" and ex.name == run
    assert ex.custom_properties["end_time_ms"] - ex.custom_properties["start_time_ms"] == 300_000
    [art] = store.get_artifacts_by_id([_id(done.artifacts[0])])
    assert art.state == ArtifactState.LIVE
    assert art.uri == "postgres://db:5432/public.orders"
    assert art.custom_properties["openlineage.dataset.rowCount"] == {"rows": 10}
    types = sorted(e.type.name for e in store.get_events_by_execution_ids([ex.id or 0]))
    assert types == ["OUTPUT", "PENDING_OUTPUT"]
    ctx = {c.type: c.name for c in store.get_contexts_by_execution(ex.id or 0)}
    assert ctx == {"pipeline": "airflow-prod/etl.load", "pipeline_run": run, "node": ctx["node"]}


def test_inputs_link_to_the_newest_version_and_lineage_connects(store: MetadataStore) -> None:
    table = dataset("public.orders")
    a = receive_event(store, event(job="extract", outputs=[table]))
    b = receive_event(store, event(job="report", inputs=[table], outputs=[dataset("report")]))
    events = store.get_events_by_execution_ids([_id(b.execution)])
    [ev] = [e for e in events if e.type == EventType.INPUT]
    assert f"artifact:{ev.artifact_id}" == a.artifacts[0]
    g = store.get_lineage_subgraph(execution_ids=[_id(b.execution)], direction="up", max_hops=2)
    assert _id(a.execution) in {e.id for e in g.executions}


def test_an_input_nobody_produced_becomes_a_reference_artifact(store: MetadataStore) -> None:
    got = receive_event(store, event(inputs=[dataset("raw.clicks", namespace="s3://lake")]))
    [art] = store.get_artifacts_by_id([_id(got.artifacts[0])])
    assert art.state == ArtifactState.REFERENCE and art.uri == "s3://lake/raw.clicks"
    again = receive_event(store, event(inputs=[dataset("raw.clicks", namespace="s3://lake")]))
    assert again.artifacts == got.artifacts


def test_tasks_of_one_parent_run_share_pipeline_and_run_contexts(store: MetadataStore) -> None:
    parent = ("etl_dag", str(uuid.uuid4()))
    x = receive_event(store, event(job="etl_dag.extract", parent=parent))
    y = receive_event(store, event(job="etl_dag.load", parent=parent))
    assert x.contexts[:2] == y.contexts[:2] and x.contexts[2] != y.contexts[2]
    pipe = store.get_context_by_type_and_name("pipeline", "airflow-prod/etl_dag")
    assert pipe is not None
    children = {c.name for c in store.get_children_contexts_by_context(pipe.id or 0)}
    assert {parent[1], "airflow-prod/etl_dag.extract", "airflow-prod/etl_dag.load"} <= children


def test_failure_records_the_error_and_abandons_outputs(store: MetadataStore) -> None:
    run = str(uuid.uuid4())
    out = [dataset("tmp.stage")]
    receive_event(store, event("START", run_id=run, outputs=out))
    failed = receive_event(
        store,
        event(
            "FAIL",
            run_id=run,
            outputs=out,
            run_facets={"errorMessage": {"message": "boom\ntrace", "programmingLanguage": "py"}},
        ),
    )
    [ex] = store.get_executions_by_id([_id(failed.execution)])
    assert ex.last_known_state == ExecutionState.FAILED
    assert ex.custom_properties["error"] == "boom"
    assert ex.custom_properties["openlineage.run.errorMessage"]["message"] == "boom\ntrace"
    [art] = store.get_artifacts_by_id([_id(failed.artifacts[0])])
    assert art.state == ArtifactState.ABANDONED


def test_a_late_start_never_reopens_a_finished_run(store: MetadataStore) -> None:
    run = str(uuid.uuid4())
    out = [dataset("t")]
    receive_event(store, event("COMPLETE", run_id=run, outputs=out))
    late = receive_event(store, event("START", run_id=run, outputs=out))
    assert late.state == "COMPLETE"
    [art] = store.get_artifacts_by_id([_id(late.artifacts[0])])
    assert art.state == ArtifactState.LIVE


def test_facets_become_struct_properties(store: MetadataStore) -> None:
    got = receive_event(
        store,
        event(
            job_facets={"sql": {"query": "select 1"}},
            run_facets={"nominalTime": {"nominalStartTime": "2026-03-01T00:00:00Z"}},
        ),
    )
    [ex] = store.get_executions_by_id([_id(got.execution)])
    assert ex.custom_properties["openlineage.job.sql"] == {"query": "select 1"}
    assert "nominalStartTime" in ex.custom_properties["openlineage.run.nominalTime"]


BAD: list[tuple[Any, str]] = [
    ([], "expected a JSON object"),
    ({"eventTime": "2026-01-01T00:00:00Z"}, "no 'run'"),
    (event(run_id="42"), "run.runId"),
    (event(time="31/12/2025"), "eventTime"),
    (event(event_type="DONE"), "eventType"),
    (event(outputs=[{"namespace": "x", "name": ""}]), "outputs[0].name"),
    (event(inputs={"a": 1}), "inputs: expected a list"),  # type: ignore[arg-type]
    (event(run_facets={"parent": {"job": {"namespace": "n", "name": "p"}}}), "parent.run"),
    (event(job_facets={"sql": "select"}), "job.facets.sql"),
]


@pytest.mark.unit
@pytest.mark.parametrize(("doc", "words"), BAD)
def test_malformed_events_raise_and_change_nothing(tmp_path: Path, doc: Any, words: str) -> None:
    with MetadataStore(f"sqlite:///{tmp_path / 's.sqlite'}", create=True) as st:
        receive_event(st, event())
        before = counts(st)
        with pytest.raises(InvalidArgumentError, match=words.replace("[", r"\[")):
            receive_event(st, copy.deepcopy(doc))
        assert counts(st) == before


def _mlmd_config(path: Path) -> Any:
    from ml_metadata.proto import metadata_store_pb2

    cfg = metadata_store_pb2.ConnectionConfig()
    cfg.sqlite.filename_uri = str(path)
    cfg.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    return cfg


def mlmd_create(path: Path) -> None:
    """ml-metadata creates the store and a context type (in a child process: see mlmd_proc)."""
    from ml_metadata import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    theirs = metadata_store.MetadataStore(_mlmd_config(path))
    ctype = metadata_store_pb2.ContextType(name="pipeline")
    ctype.properties["owner"] = metadata_store_pb2.STRING
    theirs.put_context_type(ctype)


def mlmd_read(path: Path, eid: int, aid: int) -> tuple[Any, Any, set[str], int]:
    """What ml-metadata reads back: the execution, the artifact, context names, a property type."""
    from ml_metadata import metadata_store

    theirs = metadata_store.MetadataStore(_mlmd_config(path))
    [ex] = theirs.get_executions_by_id([eid])
    [art] = theirs.get_artifacts_by_id([aid])
    names = {c.name for c in theirs.get_contexts_by_execution(ex.id)}
    return ex, art, names, theirs.get_context_type("pipeline").properties["owner"]


@pytest.mark.mlmd
def test_events_land_in_a_store_written_by_ml_metadata(tmp_path: Path) -> None:
    pytest.importorskip("ml_metadata")
    from ml_metadata.proto import metadata_store_pb2

    path = tmp_path / "mlmd.sqlite"
    in_child(mlmd_create, path)
    run = str(uuid.uuid4())
    with MetadataStore(f"sqlite:///{path}") as st:
        got = receive_event(st, event("COMPLETE", run_id=run, outputs=[dataset("t.out")]))
    ex, art, names, owner = in_child(mlmd_read, path, _id(got.execution), _id(got.artifacts[0]))
    assert ex.name == run and ex.last_known_state == metadata_store_pb2.Execution.COMPLETE
    assert art.uri == "postgres://db:5432/t.out"
    assert art.state == metadata_store_pb2.Artifact.LIVE
    assert names >= {run}
    assert owner == metadata_store_pb2.STRING
