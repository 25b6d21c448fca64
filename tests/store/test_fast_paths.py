"""The store's fast paths give the same answers as the plain ones, on every backend.

Writes allocate ids client side and insert with executemany / multi-row INSERT / COPY; reads use
driver tuples, BETWEEN ranges for dense id sets, padded IN lists, and build records without their
keyword constructors. These tests pin the cases where a shortcut could differ.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import text

from graphlets.errors import AlreadyExistsError
from graphlets.model import (
    Artifact,
    ArtifactState,
    ArtifactType,
    Association,
    Attribution,
    Context,
    ContextType,
    Event,
    EventStep,
    EventType,
    Execution,
    ExecutionType,
    PropertyType,
)
from graphlets.store import MetadataStore, lineage_ops, read_ops, sqlutil


@pytest.fixture
def types(store: MetadataStore) -> dict[str, int]:
    return {
        "art": store.put_artifact_type(ArtifactType("Data", {"span": PropertyType.INT})),
        "exec": store.put_execution_type(ExecutionType("Step")),
        "ctx": store.put_context_type(ContextType("run")),
    }


def _arts(type_id: int, n: int, tag: str = "") -> list[Artifact]:
    return [
        Artifact(
            type_id,
            uri=f"/d/{tag}{i}",
            state=ArtifactState.LIVE,
            properties={"span": i},
            custom_properties={"tag": tag, "w": 0.5, "ok": i % 2 == 0},
        )
        for i in range(n)
    ]


def test_ids_are_not_reused_after_the_newest_rows_are_deleted(
    store: MetadataStore, types: dict[str, int]
) -> None:
    """AUTOINCREMENT / sequences never hand out an id twice; client-side ids must not either."""
    first = store.put_artifacts(_arts(types["art"], 5))
    with store.engine.begin() as conn:
        conn.execute(text(f"DELETE FROM artifact WHERE id >= {first[2]}"))
    again = store.put_artifacts(_arts(types["art"], 3, "b"))
    assert again == sorted(again)
    assert min(again) > max(first)


@pytest.mark.parametrize("n", [1, 7, 300])  # one row, a multi-row INSERT, COPY on PostgreSQL
def test_batches_of_any_size_round_trip(
    store: MetadataStore, types: dict[str, int], n: int
) -> None:
    arts = _arts(types["art"], n)
    ids = store.put_artifacts(arts)
    back = store.get_artifacts_by_id(ids)
    assert [a.uri for a in back] == [a.uri for a in arts]
    assert [dict(a.properties) for a in back] == [{"span": i} for i in range(n)]
    assert [dict(a.custom_properties) for a in back] == [dict(a.custom_properties) for a in arts]
    assert [type(a.custom_properties["ok"]) for a in back] == [bool] * n


def test_by_id_with_gaps_duplicates_and_unknown_ids(
    store: MetadataStore, types: dict[str, int]
) -> None:
    """A dense id set is read as one BETWEEN range and filtered; the answer must not change."""
    ids = store.put_artifacts(_arts(types["art"], 80))
    dense_with_gaps = [i for i in ids if i % 3 != 0]
    assert [a.id for a in store.get_artifacts_by_id(dense_with_gaps)] == dense_with_gaps
    wanted = [ids[5], 10**9, ids[5], ids[70], ids[1]]
    assert [a.id for a in store.get_artifacts_by_id(wanted)] == [ids[5], ids[5], ids[70], ids[1]]
    sparse = ids[::20]
    assert [a.id for a in store.get_artifacts_by_id(sparse[::-1])] == sparse[::-1]


def test_in_lists_bigger_than_a_chunk(
    store: MetadataStore, types: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlutil, "CHUNK", 4)
    monkeypatch.setattr(sqlutil, "DENSE_MIN", 10**9)  # never a range read
    ids = store.put_artifacts(_arts(types["art"], 30))
    wanted = ids[::3]
    assert [a.id for a in store.get_artifacts_by_id(wanted)] == wanted


@pytest.mark.unit
def test_padded_in_lists_are_reused_and_match_exactly() -> None:
    class Conn:  # only the dialect is looked at
        class dialect:
            name = "sqlite"
            paramstyle = "qmark"

    cond, params = sqlutil.in_clause(Conn(), "id", [3, 5, 9])  # type: ignore[arg-type]
    assert cond == "id IN (?, ?, ?, ?)"
    assert params == [3, 5, 9, 9]
    assert sqlutil.in_clause(Conn(), "id", [1, 2, 3, 4, 5])[0].count("?") == 8  # type: ignore[arg-type]
    assert sqlutil.in_clause(Conn(), "id", [])[1] == [None]  # type: ignore[arg-type]
    big = list(range(1500))
    assert len(sqlutil.in_clause(Conn(), "id", big)[1]) == 2048  # type: ignore[arg-type]
    assert len(sqlutil.in_clause(Conn(), "id", big + big[:700])[1]) == 3072  # type: ignore[arg-type]


def test_event_paths_keep_their_order_and_equal_paths_are_shared(
    store: MetadataStore, types: dict[str, int]
) -> None:
    a = store.put_artifacts(_arts(types["art"], 3))
    [e] = store.put_executions([Execution(types["exec"])])
    paths = [
        (EventStep(index=2), EventStep(key="z"), EventStep(key="a")),
        (EventStep(key="examples"), EventStep(index=0)),
        (EventStep(key="examples"), EventStep(index=0)),
    ]
    store.put_events(
        [Event(x, e, EventType.INPUT, p) for x, p in zip(a, paths, strict=True)]
        + [Event(a[0], e, EventType.OUTPUT)]
    )
    got = store.get_events_by_execution_ids([e])
    assert [ev.path for ev in got] == [*paths, ()]
    assert got[1].path is got[2].path
    assert got[3].path == () and got[3].type is EventType.OUTPUT


def test_duplicate_events_in_a_big_batch_are_already_exists(
    store: MetadataStore, types: dict[str, int]
) -> None:
    a = store.put_artifacts(_arts(types["art"], 200))
    [e] = store.put_executions([Execution(types["exec"])])
    events = [Event(x, e, EventType.INPUT, (EventStep(key="k"),)) for x in a]
    with pytest.raises(AlreadyExistsError):
        store.put_events([*events, events[-1]])
    assert store.count("event") == 0
    assert store.count("eventpath") == 0


def test_links_in_bulk_are_idempotent(store: MetadataStore, types: dict[str, int]) -> None:
    a = store.put_artifacts(_arts(types["art"], 50))
    e = store.put_executions([Execution(types["exec"]) for _ in range(50)])
    [c] = store.put_contexts([Context(types["ctx"], name="r")])
    attributions = [Attribution(c, x) for x in a]
    associations = [Association(c, x) for x in e]
    store.put_attributions_and_associations(attributions, associations)
    store.put_attributions_and_associations(attributions + attributions[:3], associations)
    assert store.count("attribution") == 50
    assert store.count("association") == 50
    assert [x.id for x in store.get_artifacts_by_context(c)] == a


def test_lineage_in_steps_equals_the_batched_reads(
    store: MetadataStore, types: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Results too big for one IN list take another code path; both must agree."""
    a = store.put_artifacts(_arts(types["art"], 12))
    e = store.put_executions([Execution(types["exec"]) for _ in range(4)])
    [c] = store.put_contexts([Context(types["ctx"], name="r", properties={})])
    store.put_events(
        [Event(a[i], e[i % 4], EventType.OUTPUT if i < 4 else EventType.INPUT) for i in range(12)]
    )
    store.put_attributions_and_associations([Attribution(c, a[0])], [Association(c, e[1])])
    batched = store.get_lineage_subgraph([a[5]], max_hops=3)
    monkeypatch.setattr(lineage_ops, "CHUNK", 1)
    stepped = store.get_lineage_subgraph([a[5]], max_hops=3)
    assert stepped == batched
    assert {x.id for x in batched.contexts} == {c}
    assert len(batched.artifacts) > 1 and len(batched.events) > 1


@dataclass(frozen=True)
class _Plain:
    a: int
    b: str = "x"
    c: dict[str, Any] = field(default_factory=dict)


@pytest.mark.unit
def test_record_maker_matches_the_constructor() -> None:
    make = read_ops.maker(_Plain, ("a", "b", "c"))
    assert make((1, "y", {"k": 1})) == _Plain(1, "y", {"k": 1})
    with pytest.raises(AttributeError):
        make((1, "y", {})).a = 2


@pytest.mark.unit
def test_record_maker_falls_back_when_the_fields_differ() -> None:
    make = read_ops.maker(_Plain, ("a", "b"))  # "c" missing: the constructor fills its default
    assert make((1, "y")) == _Plain(1, "y")


@pytest.mark.unit
@pytest.mark.parametrize("enabled", [True, False])
def test_gc_pause_restores_the_collector(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        with read_ops.gc_paused():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
        with pytest.raises(RuntimeError), read_ops.gc_paused():
            raise RuntimeError("boom")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
