"""Models, cost and foreign producers: what the receiver makes of facets it knows."""

from __future__ import annotations

import uuid
from typing import Any

import attr
import pytest
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    job_type_job,
    nominal_time_run,
    parent_run,
    processing_engine_run,
)
from openlineage.client.generated.base import RunFacet
from openlineage.client.serde import Serde

from graphlets.interop.openlineage_map import PATTERNS_ENV, ReceiverConfig
from graphlets.interop.openlineage_receive import receive_event
from graphlets.model import ArtifactBaseType, ExecutionState
from graphlets.store import MetadataStore
from tests.interop.events import dataset, event

AIRFLOW = "https://github.com/apache/airflow/tree/providers-openlineage/2.1.0"


def _id(typed: str) -> int:
    return int(typed.split(":")[1])


def test_the_dataset_type_facet_and_name_patterns_make_models(
    store: MetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    typed = dataset("churn/v3", namespace="s3://models", datasetType={"datasetType": "MODEL"})
    got = receive_event(store, event(outputs=[typed, dataset("scores")]))
    [model, table] = store.get_artifacts_by_id([_id(a) for a in got.artifacts])
    assert (model.type, table.type) == ("Model", "Dataset")
    assert store.get_artifact_type("Model").base_type == ArtifactBaseType.MODEL
    monkeypatch.setenv(PATTERNS_ENV, "*.onnx, registry/*")
    got = receive_event(store, event(outputs=[dataset("rank.onnx"), dataset("registry/x")]))
    assert {a.type for a in store.get_artifacts_by_id([_id(a) for a in got.artifacts])} == {"Model"}
    cfg = ReceiverConfig(model_patterns=("*/x",), model_type="Model")
    got = receive_event(store, event(outputs=[dataset("a/x")]), cfg)
    assert store.get_artifacts_by_id([_id(got.artifacts[0])])[0].type == "Model"


def test_a_cost_facet_becomes_cpu_seconds(store: MetadataStore) -> None:
    got = receive_event(store, event(run_facets={"cost": {"cpuSeconds": 12.5}}))
    [ex] = store.get_executions_by_id([_id(got.execution)])
    assert ex.custom_properties["cpu_seconds"] == 12.5


@attr.define
class AirflowRunFacet(RunFacet):
    """As apache-airflow-providers-openlineage defines it (dag, dagRun, task, taskInstance)."""

    dag: dict[str, Any]
    dagRun: dict[str, Any]
    task: dict[str, Any]
    taskInstance: dict[str, Any]
    taskUuid: str


@attr.define
class AirflowVersionRunFacet(RunFacet):
    """The provider's older ``airflow_version`` facet."""

    operator: str
    taskInfo: dict[str, Any]
    airflowVersion: str
    openlineageAirflowVersion: str


def airflow_task_event(
    state: RunState, dag_run: str, task: str, run_id: str, time: str, **io: Any
) -> dict[str, Any]:
    """A task event shaped as the Airflow provider writes it, built with openlineage-python."""
    facets: dict[str, RunFacet] = {
        "parent": parent_run.ParentRunFacet(
            run=parent_run.Run(runId=dag_run),
            job=parent_run.Job(namespace="default", name="churn_dag"),
            producer=AIRFLOW,
        ),
        "airflow": AirflowRunFacet(
            dag={"dag_id": "churn_dag", "schedule_interval": "@daily", "tags": "[]"},
            dagRun={"dag_id": "churn_dag", "run_id": "scheduled__2026-03-01", "conf": {}},
            task={"operator_class": "PythonOperator", "task_id": task, "retries": 0},
            taskInstance={"try_number": 1, "map_index": -1, "pool": "default_pool"},
            taskUuid=run_id,
            producer=AIRFLOW,
        ),
        "airflow_version": AirflowVersionRunFacet(
            operator="airflow.operators.python.PythonOperator",
            taskInfo={"task_id": task},
            airflowVersion="2.10.4",
            openlineageAirflowVersion="2.1.0",
            producer=AIRFLOW,
        ),
        "processing_engine": processing_engine_run.ProcessingEngineRunFacet(
            version="2.10.4", name="Airflow", openlineageAdapterVersion="2.1.0", producer=AIRFLOW
        ),
        "nominalTime": nominal_time_run.NominalTimeRunFacet(
            nominalStartTime="2026-03-01T00:00:00Z", producer=AIRFLOW
        ),
    }
    job_facets = {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration="AIRFLOW", jobType="TASK", producer=AIRFLOW
        )
    }
    ev = RunEvent(
        eventType=state,
        eventTime=time,
        run=Run(runId=run_id, facets=facets),
        job=Job(namespace="default", name=f"churn_dag.{task}", facets=job_facets),
        inputs=[InputDataset("s3://lake", n) for n in io.get("inputs", [])],
        outputs=[OutputDataset("s3://lake", n) for n in io.get("outputs", [])],
        producer=AIRFLOW,
    )
    doc: dict[str, Any] = Serde.to_dict(ev)
    return doc


def test_airflow_provider_events_land_as_one_pipeline_run(
    store: MetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PATTERNS_ENV, "models/*")
    dag_run = str(uuid.uuid4())
    extract, train = str(uuid.uuid4()), str(uuid.uuid4())
    t0, t1, t2 = "2026-03-01T01:00:00Z", "2026-03-01T01:02:00Z", "2026-03-01T01:09:30Z"
    docs = [
        airflow_task_event(RunState.START, dag_run, "extract", extract, t0),
        airflow_task_event(RunState.COMPLETE, dag_run, "extract", extract, t1, outputs=["raw"]),
        airflow_task_event(
            RunState.COMPLETE, dag_run, "train", train, t2, inputs=["raw"], outputs=["models/churn"]
        ),
        airflow_task_event(RunState.START, dag_run, "train", train, t1, inputs=["raw"]),
    ]
    got = [receive_event(store, d) for d in docs]
    assert [g.state for g in got] == ["RUNNING", "COMPLETE", "COMPLETE", "COMPLETE"]
    execs = {e.custom_properties["openlineage.job"]: e for e in store.get_executions()}
    assert set(execs) == {"default/churn_dag.extract", "default/churn_dag.train"}
    trained = execs["default/churn_dag.train"]
    assert trained.last_known_state == ExecutionState.COMPLETE
    props = trained.custom_properties
    assert props["end_time_ms"] - props["start_time_ms"] == 450_000
    assert props["openlineage.run.airflow"]["task"]["task_id"] == "train"
    assert props["openlineage.run.processing_engine"]["name"] == "Airflow"
    assert props["openlineage.run.airflow_version"]["airflowVersion"] == "2.10.4"
    [model] = store.get_artifacts_by_type("Model")
    assert model.uri == "s3://lake/models/churn"
    run_ctx = store.get_context_by_type_and_name("pipeline_run", dag_run)
    pipe = store.get_context_by_type_and_name("pipeline", "default/churn_dag")
    assert run_ctx is not None and pipe is not None
    assert len(store.get_executions_by_context(run_ctx.id or 0)) == 2
    g = store.get_lineage_subgraph(execution_ids=[trained.id or 0], direction="both", max_hops=4)
    assert len(g.executions) == 2, "extract -> raw -> train is connected"


def test_our_facets_cannot_name_mlmd_system_types(store: MetadataStore) -> None:
    ours = {"graphlets": {"type": "mlmd.Model", "state": "COMPLETE"}}
    got = receive_event(
        store,
        event(run_facets=ours, outputs=[dataset("m", graphlets={"type": "mlmd.Model"})]),
    )
    [ex] = store.get_executions_by_id([_id(got.execution)])
    assert ex.type == "airflow-prod/etl.load"
    assert store.get_artifacts_by_id([_id(got.artifacts[0])])[0].type == "Dataset"
