"""The frozen records of MLMD's nodes and edges."""

from __future__ import annotations

import dataclasses

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

pytestmark = pytest.mark.unit


def test_defaults() -> None:
    a = Artifact(type_id=3)
    assert (a.id, a.name, a.uri, a.state, a.type) == (None, None, None, ArtifactState.UNKNOWN, None)
    assert dict(a.properties) == {} and dict(a.custom_properties) == {}
    assert a.create_time_since_epoch == 0 and a.last_update_time_since_epoch == 0
    assert Execution(type_id=1).last_known_state == ExecutionState.UNKNOWN
    assert Context(type_id=1, name="p").name == "p"


def test_records_are_frozen() -> None:
    a = Artifact(type_id=3, uri="/x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.uri = "/y"  # type: ignore[misc]
    with pytest.raises(TypeError):
        a.properties["span"] = 1  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Event().type = EventType.INPUT  # type: ignore[misc]


def test_properties_are_copied() -> None:
    props = {"span": 1}
    e = Execution(type_id=1, properties=props, custom_properties={"k": "v"})
    props["span"] = 2
    assert e.properties == {"span": 1}


def test_replace_sets_an_id_and_keeps_the_rest() -> None:
    a = Artifact(type_id=3, uri="/x", custom_properties={"k": {"nested": [1, 2]}})
    b = dataclasses.replace(a, id=7)
    assert (b.id, b.uri, dict(b.custom_properties)) == (7, "/x", {"k": {"nested": [1, 2]}})
    assert a.id is None
    with pytest.raises(TypeError):
        b.custom_properties["x"] = 1  # type: ignore[index]


def test_equality_is_by_value() -> None:
    assert Artifact(1, properties={"a": 1}) == Artifact(1, properties={"a": 1})
    assert Artifact(1, properties={"a": 1}) != Artifact(1, properties={"a": 1.5})
    assert Artifact(1) != Execution(1)


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ((), None),
        ((EventStep(index=0),), None),
        ((EventStep(key="examples"), EventStep(index=3)), "examples"),
        ((EventStep(index=0), EventStep(key="second"), EventStep(key="third")), "second"),
    ],
)
def test_event_key_is_the_first_string_step(path: tuple[EventStep, ...], key: str | None) -> None:
    assert Event(artifact_id=1, execution_id=2, type=EventType.INPUT, path=path).key == key


def test_lineage_graph_defaults_to_empty() -> None:
    g = LineageGraph()
    assert g.artifacts == g.executions == g.contexts == g.events == ()
    assert g == LineageGraph()
