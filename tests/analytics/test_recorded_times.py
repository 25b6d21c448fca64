"""The report reads the times steps recorded, not when MLMD wrote its rows."""

from __future__ import annotations

import pytest

from graphlets.analytics import compute_report
from graphlets.demo import record_history
from graphlets.demo.history import START_MS
from graphlets.lineage import GraphletConfig
from graphlets.model import (
    Artifact,
    ArtifactType,
    Context,
    ContextType,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
)
from graphlets.pipeline.clock import DAY_MS
from graphlets.store import MetadataStore


@pytest.fixture(scope="module")
def history() -> MetadataStore:
    store = MetadataStore("sqlite://", create=True)
    record_history(store, days=30, pipelines=1)  # written in a second, stamped over 30 days
    return store


def test_days_frequency_and_weeks_follow_the_recorded_times(history: MetadataStore) -> None:
    doc = compute_report(history)
    assert 28.5 <= doc["headline"]["days"] <= 30.5
    [pipe] = doc["pipelines"]
    assert pipe["frequency"] == "daily" and 20 <= pipe["gap_hours"] <= 28
    assert 28.5 <= pipe["lifespan_days"] <= 30.5
    weeks = doc["outcomes"]["by_week"]
    assert (
        len(weeks) >= 5
        and sum(sum(w.values()) for w in weeks.values()) == doc["graphlets"]["graphlets"]
    )


def test_time_properties_are_configurable_and_fall_back_to_mlmd_times(
    history: MetadataStore,
) -> None:
    absent = GraphletConfig(start_property="started_at", end_property="ended_at")
    doc = compute_report(history, absent)  # no such properties: MLMD's create/update times
    assert doc["headline"]["days"] < 0.01
    assert doc["pipelines"][0]["frequency"] == "hourly"
    swapped = GraphletConfig(start_property="end_time_ms", end_property="end_time_ms")
    assert 28.5 <= compute_report(history, swapped)["headline"]["days"] <= 30.5


def test_without_time_properties_the_first_event_time_is_the_start() -> None:
    """A trace copied from another tool: no start property, MLMD row times all 'now', but its
    events keep the times the work happened."""
    store = MetadataStore("sqlite://", create=True)
    ingest = store.put_execution_type(ExecutionType("ExampleGen"))
    examples = store.put_artifact_type(ArtifactType("Examples"))
    pipeline = Context(store.put_context_type(ContextType("pipeline")), name="copied")
    for day in range(6):
        event = Event(type=EventType.OUTPUT, milliseconds_since_epoch=START_MS + day * DAY_MS)
        art = Artifact(examples, uri=f"x://{day}")
        ex = Execution(ingest, last_known_state=ExecutionState.COMPLETE)
        store.put_execution(ex, [(art, event)], [pipeline], reuse_context_if_already_exist=True)
    [pipe] = compute_report(store)["pipelines"]
    assert pipe["runs"] == 6 and pipe["frequency"] == "daily" and pipe["gap_hours"] == 24.0
