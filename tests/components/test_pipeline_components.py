"""The standard components run as a pipeline on small data: each records what it should, each
incident is caught on its span, and a bad span never leads to a push."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import polars as pl
import pytest
from tests.components.conftest import INCIDENTS, SPANS, SmallRun

from graphlets.components._io import SPLIT
from graphlets.model import EventType, ExecutionState
from graphlets.registry import ModelRegistry
from graphlets.store import MetadataStore

pytestmark = pytest.mark.unit


def by_span(store: MetadataStore, type_name: str) -> dict[int, object]:
    return {int(a.properties["span"]): a for a in store.get_artifacts_by_type(type_name)}  # type: ignore[arg-type]


def test_every_run_completes_and_components_record_their_outputs(small_run: SmallRun) -> None:
    assert all(r.ok for r in small_run.results.values())
    store = small_run.store
    examples = store.get_artifacts_by_type("Examples")
    assert len(examples) == SPANS
    df = pl.read_parquet(examples[0].uri)
    assert set(df[SPLIT].unique()) == {"train", "eval"} and df.height == 600
    stats = json.loads(
        Path(store.get_artifacts_by_type("ExampleStatistics")[0].uri or "").read_text()
    )
    assert stats["features"]["monthly_charges"]["count"] > 0
    assert (
        len({a.custom_properties["content_sha256"] for a in store.get_artifacts_by_type("Schema")})
        == 1
    )
    model = pickle.loads(Path(store.get_artifacts_by_type("Model")[-1].uri or "").read_bytes())
    assert model.graphlets_meta["training_statistics"]["num_rows"] > 0
    assert model.predict_proba(df.drop(SPLIT, "churned"))[:, 1].shape == (600,)
    evaluation = json.loads(
        Path(store.get_artifacts_by_type("ModelEvaluation")[-1].uri or "").read_text()
    )
    assert "baseline" in evaluation and any(k.startswith("region=") for k in evaluation["slices"])


def test_warm_start_reads_the_previous_model(small_run: SmallRun) -> None:
    models = small_run.store.get_artifacts_by_type("Model")
    assert models[0].custom_properties["warm_started"] == 0
    assert models[1].custom_properties["warm_started"] == 1


def test_each_incident_is_caught_on_its_span(small_run: SmallRun) -> None:
    anomalies = by_span(small_run.store, "ExampleAnomalies")

    def kinds(span: int) -> dict[str, int]:
        return json.loads(anomalies[span].custom_properties["anomaly_kinds"])  # type: ignore[attr-defined]

    assert "missing_column" in kinds(INCIDENTS.schema_break)
    assert "missing_rate" in kinds(INCIDENTS.missing_spike)
    assert "drift" in kinds(INCIDENTS.concept_drift)
    blocked = {s for s, a in anomalies.items() if a.custom_properties["blocking"] == 1}  # type: ignore[attr-defined]
    assert blocked == {INCIDENTS.schema_break, INCIDENTS.missing_spike}
    for span in blocked:
        outcomes = small_run.results[span].outcomes
        assert "anomalies.blocking == 0 (got 1)" in str(outcomes["transform"].skip_reason)
        for node in ("trainer", "evaluator", "pusher"):
            assert outcomes[node].state == ExecutionState.CANCELED


def test_no_push_ever_comes_from_a_blocked_span(small_run: SmallRun) -> None:
    store = small_run.store
    blocked = {INCIDENTS.schema_break, INCIDENTS.missing_spike}
    pushed = [
        a
        for a in store.get_artifacts_by_type("PushedModel")
        if a.custom_properties.get("pushed") == 1
    ]
    assert pushed
    models = {a.id: a for a in store.get_artifacts_by_type("Model")}
    for p in pushed:
        assert p.custom_properties["span"] not in blocked
        events = store.get_events_by_artifact_ids([p.id or 0])
        outs = [e.execution_id or 0 for e in events if e.type == EventType.OUTPUT]
        [pusher] = store.get_executions_by_id(outs)
        inputs = store.get_events_by_execution_ids([pusher.id or 0])
        model_ids = [e.artifact_id for e in inputs if e.artifact_id in models]
        trained_on = json.loads(str(models[model_ids[0]].custom_properties["trained_on_spans"]))
        assert not blocked & set(trained_on)


def test_pushes_are_registered_with_their_version(small_run: SmallRun) -> None:
    store = small_run.store
    registry = ModelRegistry(store)
    pushed = [
        a
        for a in store.get_artifacts_by_type("PushedModel")
        if a.custom_properties.get("pushed") == 1
    ]
    versions = registry.versions("churn")
    assert len(versions) == len(pushed)
    assert sorted(int(p.custom_properties["registry_version"]) for p in pushed) == [
        v.version for v in versions
    ]  # type: ignore[arg-type]
    assert versions[0].signature["region"] == "string" and "churned" not in versions[0].signature
