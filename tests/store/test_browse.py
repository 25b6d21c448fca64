"""Bounded neighbourhoods and paged events (:mod:`graphlets.store.browse`), on every backend."""

from __future__ import annotations

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
)
from graphlets.store import Direction, MetadataStore
from graphlets.store.browse import associations, events_page, neighbourhood

CONSUMERS = 25


def hub(store: MetadataStore) -> tuple[int, list[int], int]:
    """A schema produced by one execution and read by CONSUMERS executions that each output a
    model; returns (schema id, consumer execution ids, context id)."""
    at = store.put_artifact_type(ArtifactType("Schema"))
    mt = store.put_artifact_type(ArtifactType("Model"))
    et = store.put_execution_type(ExecutionType("Trainer"))
    ct = store.put_context_type(ContextType("pipeline"))
    gen, _, [ctx] = store.put_execution(
        Execution(et), [(Artifact(at, uri="s"), Event(type=EventType.OUTPUT))], [Context(ct, "p")]
    )
    [schema] = [e.artifact_id for e in store.get_events_by_execution_ids([gen])]
    consumers = []
    for i in range(CONSUMERS):
        [s_art] = store.get_artifacts_by_id([int(schema or 0)])
        ex, _, _ = store.put_execution(
            Execution(et),
            [
                (s_art, Event(type=EventType.INPUT)),
                (Artifact(mt, uri=f"m{i}"), Event(type=EventType.OUTPUT)),
            ],
            [Context(ct, "p", id=ctx)],
        )
        consumers.append(ex)
    return int(schema or 0), consumers, ctx


def test_each_node_contributes_its_newest_edges_and_says_how_many_more(
    store: MetadataStore,
) -> None:
    schema, consumers, _ = hub(store)
    hood = neighbourhood(store, [schema], max_hops=1, per_node=5)
    shown = {e.id for e in hood.executions}
    assert shown == set(consumers[-5:]), "the newest consumers"
    assert hood.degree[("artifact", schema)] == CONSUMERS + 1
    assert len(hood.events) == 5
    assert not hood.truncated


def test_the_node_budget_stops_the_walk(store: MetadataStore) -> None:
    schema, _, _ = hub(store)
    hood = neighbourhood(store, [schema], max_hops=3, per_node=100, max_nodes=7)
    assert len(hood.artifacts) + len(hood.executions) == 7
    assert hood.truncated
    ids = {("artifact", a.id) for a in hood.artifacts}
    ids |= {("execution", e.id) for e in hood.executions}
    for ev in hood.events:
        assert ("artifact", ev.artifact_id) in ids and ("execution", ev.execution_id) in ids


def test_directions_and_zero_hops(store: MetadataStore) -> None:
    schema, consumers, _ = hub(store)
    up = neighbourhood(store, [schema], max_hops=1, direction=Direction.UPSTREAM)
    assert [e.id for e in up.executions] and consumers[0] not in {e.id for e in up.executions}
    down = neighbourhood(store, execution_ids=[consumers[0]], direction=Direction.DOWNSTREAM)
    assert {a.uri for a in down.artifacts} == {"m0"}
    assert neighbourhood(store, [schema], max_hops=0).executions == ()
    assert neighbourhood(store, [10**6], [10**6]).artifacts == ()


@pytest.mark.parametrize(
    "kwargs", [{"max_hops": -1}, {"max_hops": 99}, {"per_node": 0}, {"max_nodes": 10**7}]
)
@pytest.mark.unit
def test_budgets_are_checked(kwargs: dict[str, int]) -> None:
    with MetadataStore("sqlite://") as st, pytest.raises(InvalidArgumentError, match="between"):
        neighbourhood(st, [1], **kwargs)


def test_events_come_a_page_at_a_time(store: MetadataStore) -> None:
    schema, consumers, ctx = hub(store)
    seen: list[int] = []
    after = None
    while True:
        page, after = events_page(store, "artifact_id", schema, limit=7, after_id=after)
        assert len(page) <= 7
        seen += [int(e.execution_id or 0) for e in page]
        if after is None:
            break
    assert sorted(seen) == sorted([*consumers, min(consumers) - 1])
    with pytest.raises(InvalidArgumentError):
        events_page(store, "type", 1, limit=1)
    links = associations(store, [*consumers[:3], 10**6], [ctx])
    assert sorted(links) == [(c, ctx) for c in consumers[:3]]
