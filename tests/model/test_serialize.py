"""The one JSON shape of records (:mod:`graphlets.model.serialize`), shared by CLI and web."""

from __future__ import annotations

import json

import pytest

from graphlets.model import (
    Artifact,
    ArtifactState,
    Context,
    Event,
    EventStep,
    EventType,
    Execution,
    ExecutionState,
    LineageGraph,
)
from graphlets.model import serialize as s

pytestmark = pytest.mark.unit


def test_records_have_typed_ids_and_enum_names() -> None:
    a = Artifact(
        1,
        id=3,
        uri="u",
        state=ArtifactState.LIVE,
        type="Model",
        custom_properties={"loss": float("nan"), "cfg": {"x": float("inf")}},
    )
    d = s.artifact_to_dict(a)
    assert (d["id"], d["kind"], d["state"], d["uri"]) == ("artifact:3", "artifact", "LIVE", "u")
    assert d["custom_properties"] == {"loss": "NaN", "cfg": {"x": "Infinity"}}
    json.dumps(d, allow_nan=False)
    e = Execution(2, id=4, last_known_state=ExecutionState.CACHED, type="Trainer")
    assert s.execution_to_dict(e)["last_known_state"] == "CACHED"
    assert s.node_summary(e) == {
        "id": "execution:4",
        "type": "Trainer",
        "name": None,
        "state": "CACHED",
    }
    assert s.node_summary(Context(1, "p", id=9))["state"] is None


def test_events_point_the_way_data_flowed() -> None:
    out = s.event_to_dict(Event(3, 4, EventType.OUTPUT, (EventStep(key="model"),)))
    assert (out["source"], out["target"], out["key"]) == ("execution:4", "artifact:3", "model")
    inp = s.event_to_dict(Event(3, 4, EventType.INPUT, (EventStep(key="x"), EventStep(index=0))))
    assert (inp["source"], inp["target"]) == ("artifact:3", "execution:4")
    assert inp["path"] == [{"key": "x"}, {"index": 0}]


def test_lineage_document() -> None:
    g = LineageGraph(
        artifacts=(Artifact(1, id=1),),
        executions=(Execution(2, id=1),),
        contexts=(Context(3, "c", id=1),),
        events=(Event(1, 1, EventType.OUTPUT),),
    )
    doc = s.lineage_to_dict(g)
    assert [n["id"] for n in doc["nodes"]] == ["artifact:1", "execution:1"]
    assert doc["contexts"][0]["id"] == "context:1" and len(doc["edges"]) == 1
