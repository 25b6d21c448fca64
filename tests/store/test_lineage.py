"""``get_lineage_subgraph`` on every backend: directions, hop counting, events and contexts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graphlets.errors import InvalidArgumentError
from graphlets.model import (
    Artifact,
    ArtifactType,
    Context,
    ContextType,
    Event,
    EventType,
    Execution,
    ExecutionType,
    LineageGraph,
)
from graphlets.store import Direction, MetadataStore
from tests.store.backends import BACKENDS, module_store

IN, OUT = EventType.INPUT, EventType.OUTPUT


@pytest.fixture(scope="module", params=BACKENDS)
def ro_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MetadataStore]:
    """One store per backend for the tests that only read the chain below."""
    with module_store(request.param, tmp_path_factory.mktemp("lineage")) as st:
        yield st


@pytest.fixture(scope="module")
def g(ro_store: MetadataStore) -> dict[str, int]:
    """A TFX-like chain::

    ingest -> examples -> stats_gen -> stats -> schema_gen -> schema
    trainer(examples, schema) -> model; evaluator(model) -> blessing
    pusher(model, blessing) -> pushed; a second ingest -> examples2 (unrelated)
    """
    store = ro_store
    at = store.put_artifact_type(ArtifactType("A"))
    et = store.put_execution_type(ExecutionType("E"))
    ct = store.put_context_type(ContextType("pipeline"))
    ids: dict[str, int] = {}

    def step(name: str, inputs: list[str], outputs: list[str], ctx: str = "p") -> None:
        pairs: list[tuple[Artifact, Event | None]] = [
            (store.get_artifacts_by_id([ids[i]])[0], Event(type=IN)) for i in inputs
        ]
        pairs += [(Artifact(at, name=o), Event(type=OUT)) for o in outputs]
        eid, aids, _ = store.put_execution(
            Execution(et, name=name),
            pairs,
            [Context(ct, name=ctx)],
            reuse_context_if_already_exist=True,
        )
        ids[name] = eid
        ids.update(zip(outputs, aids[len(inputs) :], strict=True))

    step("ingest", [], ["examples"])
    step("stats_gen", ["examples"], ["stats"])
    step("schema_gen", ["stats"], ["schema"])
    step("trainer", ["examples", "schema"], ["model"])
    step("evaluator", ["model"], ["blessing"])
    step("pusher", ["model", "blessing"], ["pushed"])
    step("ingest2", [], ["examples2"], ctx="other")
    return ids


def _names(store: MetadataStore, graph: LineageGraph) -> tuple[set[str], set[str]]:
    return ({str(a.name) for a in graph.artifacts}, {str(e.name) for e in graph.executions})


def _sub(
    store: MetadataStore, g: dict[str, int], arts: list[str], execs: list[str], d: str, hops: int
) -> LineageGraph:
    return store.get_lineage_subgraph(
        [g[a] for a in arts], [g[e] for e in execs], direction=d, max_hops=hops
    )


@pytest.mark.parametrize(
    ("start", "direction", "hops", "arts", "execs"),
    [
        ("model", "up", 0, {"model"}, set()),
        ("model", "up", 1, {"model"}, {"trainer"}),
        ("model", "up", 2, {"model", "examples", "schema"}, {"trainer"}),
        ("model", "up", 3, {"model", "examples", "schema"}, {"trainer", "ingest", "schema_gen"}),
        (
            "model",
            "up",
            4,
            {"model", "examples", "schema", "stats"},
            {"trainer", "ingest", "schema_gen"},
        ),
        (
            "model",
            "up",
            99,
            {"model", "examples", "schema", "stats"},
            {"trainer", "ingest", "schema_gen", "stats_gen"},
        ),
        ("model", "down", 1, {"model"}, {"evaluator", "pusher"}),
        ("model", "down", 2, {"model", "blessing", "pushed"}, {"evaluator", "pusher"}),
        ("model", "both", 1, {"model"}, {"trainer", "evaluator", "pusher"}),
        (
            "model",
            "both",
            2,
            {"model", "examples", "schema", "blessing", "pushed"},
            {"trainer", "evaluator", "pusher"},
        ),
        ("examples", "down", 1, {"examples"}, {"stats_gen", "trainer"}),
        ("examples", "down", 2, {"examples", "stats", "model"}, {"stats_gen", "trainer"}),
        ("examples", "up", 5, {"examples"}, {"ingest"}),
        ("pushed", "down", 3, {"pushed"}, set()),
    ],
)
def test_hops_from_an_artifact(
    ro_store: MetadataStore,
    g: dict[str, int],
    start: str,
    direction: str,
    hops: int,
    arts: set[str],
    execs: set[str],
) -> None:
    graph = _sub(ro_store, g, [start], [], direction, hops)
    assert _names(ro_store, graph) == (arts, execs)


@pytest.mark.parametrize(
    ("direction", "hops", "arts", "execs"),
    [
        ("up", 1, {"examples", "schema"}, {"trainer"}),
        ("up", 2, {"examples", "schema"}, {"trainer", "ingest", "schema_gen"}),
        ("down", 1, {"model"}, {"trainer"}),
        ("down", 2, {"model"}, {"trainer", "evaluator", "pusher"}),
        ("both", 1, {"examples", "schema", "model"}, {"trainer"}),
    ],
)
def test_hops_from_an_execution(
    ro_store: MetadataStore,
    g: dict[str, int],
    direction: str,
    hops: int,
    arts: set[str],
    execs: set[str],
) -> None:
    assert _names(ro_store, _sub(ro_store, g, [], ["trainer"], direction, hops)) == (arts, execs)


def test_several_start_nodes(ro_store: MetadataStore, g: dict[str, int]) -> None:
    graph = _sub(ro_store, g, ["pushed", "examples2"], ["schema_gen"], "up", 1)
    assert _names(ro_store, graph) == (
        {"pushed", "examples2", "stats"},
        {"pusher", "ingest2", "schema_gen"},
    )


def test_events_are_the_traversed_edges(ro_store: MetadataStore, g: dict[str, int]) -> None:
    graph = _sub(ro_store, g, ["model"], [], "up", 2)
    got = {(e.execution_id, e.artifact_id, e.type) for e in graph.events}
    assert got == {
        (g["trainer"], g["model"], OUT),
        (g["trainer"], g["examples"], IN),
        (g["trainer"], g["schema"], IN),
    }
    art_ids = {a.id for a in graph.artifacts}
    exec_ids = {e.id for e in graph.executions}
    assert all(e.artifact_id in art_ids and e.execution_id in exec_ids for e in graph.events)


def test_contexts_are_included_unless_asked_not_to(
    ro_store: MetadataStore, g: dict[str, int]
) -> None:
    graph = _sub(ro_store, g, ["model", "examples2"], [], "up", 1)
    assert {c.name for c in graph.contexts} == {"p", "other"}
    bare = ro_store.get_lineage_subgraph(
        [g["model"]], direction="up", max_hops=1, include_contexts=False
    )
    assert bare.contexts == ()
    assert {a.name for a in bare.artifacts} == {"model"}


def test_nodes_are_hydrated_and_sorted(ro_store: MetadataStore, g: dict[str, int]) -> None:
    graph = _sub(ro_store, g, ["model"], [], "both", 2)
    assert [a.id for a in graph.artifacts] == sorted(a.id for a in graph.artifacts if a.id)
    assert all(a.type == "A" for a in graph.artifacts)
    assert all(e.type == "E" for e in graph.executions)


def test_direction_enum_and_default(ro_store: MetadataStore, g: dict[str, int]) -> None:
    by_enum = ro_store.get_lineage_subgraph([g["model"]], direction=Direction.UPSTREAM, max_hops=2)
    by_text = ro_store.get_lineage_subgraph([g["model"]], direction="up", max_hops=2)
    assert by_enum == by_text
    default = ro_store.get_lineage_subgraph([g["model"]])  # both directions, 2 hops
    assert default == _sub(ro_store, g, ["model"], [], "both", 2)


def test_unknown_and_empty_starts(ro_store: MetadataStore, g: dict[str, int]) -> None:
    assert ro_store.get_lineage_subgraph([9999], max_hops=3) == LineageGraph()
    assert ro_store.get_lineage_subgraph() == LineageGraph()


def test_bad_arguments(ro_store: MetadataStore, g: dict[str, int]) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        ro_store.get_lineage_subgraph([g["model"]], direction="sideways")
    assert "'sideways'" in str(err.value)
    with pytest.raises(InvalidArgumentError):
        ro_store.get_lineage_subgraph([g["model"]], max_hops=-1)


def test_wide_fan_out(store: MetadataStore) -> None:
    """A frontier larger than one IN-list chunk still comes back whole."""
    at = store.put_artifact_type(ArtifactType("A"))
    et = store.put_execution_type(ExecutionType("E"))
    [src] = store.put_artifacts([Artifact(at, name="src")])
    n = 600
    execs = store.put_executions([Execution(et) for _ in range(n)])
    outs = store.put_artifacts([Artifact(at) for _ in range(n)])
    store.put_events(
        [Event(src, e, IN) for e in execs]
        + [Event(a, e, OUT) for a, e in zip(outs, execs, strict=True)]
    )
    graph = store.get_lineage_subgraph([src], direction="down", max_hops=2)
    assert len(graph.executions) == n and len(graph.artifacts) == n + 1
    assert len(graph.events) == 2 * n
