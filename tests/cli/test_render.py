"""``graphlets.cli.render``: the JSON shape of records, shared by every command group."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from graphlets.cli import render
from graphlets.model import (
    Artifact,
    ArtifactState,
    Event,
    EventStep,
    EventType,
    Execution,
    ExecutionState,
    LineageGraph,
    TypedId,
)

pytestmark = pytest.mark.unit


def test_non_finite_floats_become_strict_json() -> None:
    value = {"a": float("nan"), "b": [float("inf"), -float("inf"), 1.5], "c": {"d": 2}}
    doc = render.json_value(value)
    assert doc == {"a": "NaN", "b": ["Infinity", "-Infinity", 1.5], "c": {"d": 2}}
    json.loads(json.dumps(doc, allow_nan=False))


def test_records_carry_typed_ids_and_enum_names() -> None:
    a = Artifact(
        3,
        id=12,
        uri="s3://m",
        state=ArtifactState.LIVE,
        type="Model",
        properties={"span": 1},
        custom_properties={"loss": float("nan")},
    )
    d = render.artifact_to_dict(a)
    assert d["id"] == "artifact:12" and d["mlmd_id"] == 12 and d["kind"] == "artifact"
    assert d["state"] == "LIVE" and d["type"] == "Model" and d["properties"] == {"span": 1}
    assert d["custom_properties"] == {"loss": "NaN"}
    e = render.execution_to_dict(Execution(4, id=7, last_known_state=ExecutionState.CACHED))
    assert e["id"] == "execution:7" and e["last_known_state"] == "CACHED"


@pytest.mark.parametrize(
    ("etype", "source", "target"),
    [
        (EventType.INPUT, "artifact:1", "execution:2"),
        (EventType.OUTPUT, "execution:2", "artifact:1"),
        (EventType.PENDING_OUTPUT, "execution:2", "artifact:1"),
        (EventType.DECLARED_INPUT, "artifact:1", "execution:2"),
    ],
)
def test_event_edges_follow_the_data(etype: EventType, source: str, target: str) -> None:
    ev = Event(artifact_id=1, execution_id=2, type=etype, path=(EventStep("x"), EventStep(index=0)))
    d = render.event_to_dict(ev)
    assert (d["source"], d["target"], d["type"]) == (source, target, etype.name)
    assert d["key"] == "x" and d["path"] == [{"key": "x"}, {"index": 0}]


def _diamond() -> LineageGraph:
    """examples(1) -> trainer(1) -> model(2); examples -> stats(2) -> statistics(3) -> trainer."""
    arts = tuple(
        Artifact(1, id=i, type=t) for i, t in ((1, "Examples"), (2, "Model"), (3, "Statistics"))
    )
    execs = (Execution(2, id=1, type="Trainer"), Execution(2, id=2, type="StatsGen"))
    ev = (
        Event(1, 1, EventType.INPUT),
        Event(2, 1, EventType.OUTPUT),
        Event(1, 2, EventType.INPUT),
        Event(3, 2, EventType.OUTPUT),
        Event(3, 1, EventType.INPUT),
    )
    return LineageGraph(artifacts=arts, executions=execs, events=ev)


def _text(tree: object) -> str:
    console = Console(width=120, no_color=True)
    with console.capture() as cap:
        console.print(tree)
    return cap.get()


def test_lineage_tree_places_nodes_at_their_hop_distance() -> None:
    tree, cut = render.lineage_tree(_diamond(), TypedId("artifact", 1), "down")
    lines = _text(tree).splitlines()
    assert not cut and lines[0].startswith("artifact:1 Examples")
    trainer = [ln for ln in lines if "execution:1 Trainer" in ln]
    # hop 1 under the root, and again (not expanded) under statistics, which feeds it too
    assert trainer[0].startswith("├── → INPUT") and "(repeated)" not in trainer[0]
    assert len(trainer) == 2 and trainer[1].endswith("(repeated)")
    assert sum("artifact:2 Model" in ln for ln in lines) == 1
    assert sum("(repeated)" in ln for ln in lines) == 1  # five events, one shown twice


def test_lineage_tree_up_and_both() -> None:
    up, _ = render.lineage_tree(_diamond(), TypedId("artifact", 2), "up")
    text = _text(up)
    assert "← OUTPUT execution:1 Trainer" in text and "← INPUT artifact:3 Statistics" in text
    both, _ = render.lineage_tree(_diamond(), TypedId("execution", 1), "both")
    lines = _text(both).splitlines()
    assert {"artifact:1", "artifact:2", "artifact:3", "execution:2"} <= {
        w for ln in lines for w in ln.split() if ":" in w
    }
    assert not any("execution:1" in ln for ln in lines[1:])  # never walks back to the root


def test_lineage_tree_is_cut_at_max_lines() -> None:
    tree, cut = render.lineage_tree(_diamond(), TypedId("artifact", 1), "down", max_lines=2)
    assert cut and len(_text(tree).splitlines()) == 2


def test_table_cells_are_not_markup() -> None:
    text = _text(render.table("t", ("id", "name"), [("artifact:1", "[red]x[/]")]))
    assert "[red]x[/]" in text
