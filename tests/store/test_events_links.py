"""Events, attributions, associations, parent contexts and the atomic ``put_execution``."""

from __future__ import annotations

import dataclasses
import time

import pytest

from graphlets.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    NotFoundError,
    TypeMismatchError,
)
from graphlets.model import (
    Artifact,
    ArtifactType,
    Association,
    Attribution,
    Context,
    ContextType,
    Event,
    EventStep,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    ParentContext,
    PropertyType,
)
from graphlets.store import MetadataStore
from graphlets.store import schema as s

TABLES = [t.name for t in s.MLMD_TABLES]


@pytest.fixture
def ids(store: MetadataStore) -> dict[str, int]:
    at = store.put_artifact_type(ArtifactType("Examples", {"span": PropertyType.INT}))
    et = store.put_execution_type(ExecutionType("Trainer"))
    ct = store.put_context_type(ContextType("pipeline"))
    return {"at": at, "et": et, "ct": ct}


def _counts(store: MetadataStore) -> dict[str, int]:
    return {t: store.count(t) for t in TABLES}


def test_events_with_paths_round_trip(store: MetadataStore, ids: dict[str, int]) -> None:
    a1, a2 = store.put_artifacts([Artifact(ids["at"]), Artifact(ids["at"])])
    [e1] = store.put_executions([Execution(ids["et"])])
    path = (
        EventStep(key="examples"),
        EventStep(index=0),
        EventStep(key="split"),
        EventStep(index=7),
    )
    store.put_events(
        [
            Event(
                artifact_id=a1,
                execution_id=e1,
                type=EventType.INPUT,
                path=path,
                milliseconds_since_epoch=1_700_000_000_123,
            ),
            Event(artifact_id=a2, execution_id=e1, type=EventType.OUTPUT),
        ]
    )
    events = store.get_events_by_execution_ids([e1])
    assert [(e.artifact_id, e.type) for e in events] == [
        (a1, EventType.INPUT),
        (a2, EventType.OUTPUT),
    ]
    assert events[0].path == path
    assert events[0].key == "examples"
    assert events[0].milliseconds_since_epoch == 1_700_000_000_123
    assert events[1].path == () and events[1].key is None
    assert events[1].milliseconds_since_epoch is not None
    assert events[1].milliseconds_since_epoch > 1_600_000_000_000
    assert store.count("eventpath") == 4


def test_events_by_artifact_and_execution_ids(store: MetadataStore, ids: dict[str, int]) -> None:
    a = store.put_artifacts([Artifact(ids["at"]) for _ in range(3)])
    e = store.put_executions([Execution(ids["et"]) for _ in range(2)])
    store.put_events(
        [
            Event(a[0], e[0], EventType.OUTPUT),
            Event(a[0], e[1], EventType.INPUT),
            Event(a[1], e[1], EventType.OUTPUT),
        ]
    )
    by_art = store.get_events_by_artifact_ids([a[0], a[2]])
    assert {(x.artifact_id, x.execution_id, x.type) for x in by_art} == {
        (a[0], e[0], EventType.OUTPUT),
        (a[0], e[1], EventType.INPUT),
    }
    by_exec = store.get_events_by_execution_ids([e[1]])
    assert {(x.artifact_id, x.type) for x in by_exec} == {
        (a[0], EventType.INPUT),
        (a[1], EventType.OUTPUT),
    }
    assert store.get_events_by_artifact_ids([a[2]]) == []
    assert store.get_events_by_execution_ids([]) == []


def test_event_for_unknown_ids_is_not_found(store: MetadataStore, ids: dict[str, int]) -> None:
    [a] = store.put_artifacts([Artifact(ids["at"])])
    [e] = store.put_executions([Execution(ids["et"])])
    with pytest.raises(NotFoundError) as err:
        store.put_events([Event(a, e, EventType.INPUT), Event(404, e, EventType.INPUT)])
    assert "artifact:404" in str(err.value)
    with pytest.raises(NotFoundError) as err:
        store.put_events([Event(a, 405, EventType.INPUT)])
    assert "execution:405" in str(err.value)
    assert store.count("event") == 0


def test_event_without_ends_is_invalid(store: MetadataStore, ids: dict[str, int]) -> None:
    with pytest.raises(InvalidArgumentError):
        store.put_events([Event(execution_id=1, type=EventType.INPUT)])


def test_duplicate_event_is_already_exists(store: MetadataStore, ids: dict[str, int]) -> None:
    [a] = store.put_artifacts([Artifact(ids["at"])])
    [e] = store.put_executions([Execution(ids["et"])])
    store.put_events([Event(a, e, EventType.INPUT, path=(EventStep(key="x"),))])
    with pytest.raises(AlreadyExistsError):
        store.put_events([Event(a, e, EventType.OUTPUT), Event(a, e, EventType.INPUT)])
    assert store.count("event") == 1 and store.count("eventpath") == 1
    store.put_events([Event(a, e, EventType.OUTPUT)])  # another type is another event
    assert store.count("event") == 2


def test_attributions_and_associations_are_idempotent(
    store: MetadataStore, ids: dict[str, int]
) -> None:
    [c1, c2] = store.put_contexts([Context(ids["ct"], name="p1"), Context(ids["ct"], name="p2")])
    arts = store.put_artifacts([Artifact(ids["at"]) for _ in range(2)])
    [e] = store.put_executions([Execution(ids["et"])])
    attrs = [Attribution(c1, arts[0]), Attribution(c1, arts[1]), Attribution(c2, arts[0])]
    assocs = [Association(c1, e), Association(c2, e)]
    for _ in range(2):
        store.put_attributions_and_associations(attrs, assocs)
    store.put_attributions_and_associations(attrs + attrs, [])  # repeats inside one batch too
    assert store.count("attribution") == 3 and store.count("association") == 2
    assert [a.id for a in store.get_artifacts_by_context(c1)] == arts
    assert [a.id for a in store.get_artifacts_by_context(c2)] == [arts[0]]
    assert [x.id for x in store.get_executions_by_context(c2)] == [e]
    assert [c.id for c in store.get_contexts_by_artifact(arts[0])] == [c1, c2]
    assert [c.id for c in store.get_contexts_by_artifact(arts[1])] == [c1]
    assert [c.id for c in store.get_contexts_by_execution(e)] == [c1, c2]


def test_links_to_unknown_nodes(store: MetadataStore, ids: dict[str, int]) -> None:
    [c] = store.put_contexts([Context(ids["ct"], name="p")])
    [a] = store.put_artifacts([Artifact(ids["at"])])
    with pytest.raises(NotFoundError):
        store.put_attributions_and_associations([Attribution(c, 77)], [])
    with pytest.raises(NotFoundError):
        store.put_attributions_and_associations([Attribution(78, a)], [])
    with pytest.raises(NotFoundError):
        store.put_attributions_and_associations([], [Association(c, 79)])
    with pytest.raises(NotFoundError):
        store.put_attributions_and_associations([Attribution(c, a)], [Association(c, 79)])
    assert store.count("attribution") == 0 and store.count("association") == 0


def test_parent_contexts(store: MetadataStore, ids: dict[str, int]) -> None:
    run_t = store.put_context_type(ContextType("pipeline_run"))
    [p] = store.put_contexts([Context(ids["ct"], name="pipe")])
    runs = store.put_contexts([Context(run_t, name=f"run{i}") for i in range(2)])
    links = [ParentContext(child_id=r, parent_id=p) for r in runs]
    store.put_parent_contexts(links)
    store.put_parent_contexts(links)  # idempotent
    assert store.count("parentcontext") == 2
    assert [c.id for c in store.get_children_contexts_by_context(p)] == runs
    assert [c.id for c in store.get_parent_contexts_by_context(runs[1])] == [p]
    assert store.get_parent_contexts_by_context(p) == []
    with pytest.raises(InvalidArgumentError):
        store.put_parent_contexts([ParentContext(p, p)])
    with pytest.raises(NotFoundError):
        store.put_parent_contexts([ParentContext(p, 999)])


def _step(ids: dict[str, int], name: str) -> tuple[Execution, list[tuple[Artifact, Event | None]]]:
    ex = Execution(ids["et"], name=name, last_known_state=ExecutionState.COMPLETE)
    outs: list[tuple[Artifact, Event | None]] = [
        (
            Artifact(ids["at"], uri=f"/{name}/{k}", properties={"span": k}),
            Event(type=EventType.OUTPUT, path=(EventStep(key="out"), EventStep(index=k))),
        )
        for k in range(2)
    ]
    return ex, outs


def test_put_execution_writes_everything(store: MetadataStore, ids: dict[str, int]) -> None:
    [inp] = store.put_artifacts([Artifact(ids["at"], uri="/in")])
    ex, outs = _step(ids, "train")
    in_pair: tuple[Artifact, Event | None] = (
        store.get_artifacts_by_id([inp])[0],
        Event(type=EventType.INPUT),
    )
    no_event: tuple[Artifact, Event | None] = (Artifact(ids["at"], uri="/side"), None)
    ctxs = [Context(ids["ct"], name="p"), Context(ids["ct"], name="r")]
    eid, aids, cids = store.put_execution(ex, [in_pair, *outs, no_event], ctxs)
    assert aids[0] == inp and len(set(aids)) == 4
    assert [a.uri for a in store.get_artifacts_by_id(aids)] == [
        "/in",
        "/train/0",
        "/train/1",
        "/side",
    ]
    events = store.get_events_by_execution_ids([eid])
    assert [(e.artifact_id, e.type) for e in events] == [
        (inp, EventType.INPUT),
        (aids[1], EventType.OUTPUT),
        (aids[2], EventType.OUTPUT),
    ]
    assert events[2].path == (EventStep(key="out"), EventStep(index=1))
    assert [c.name for c in store.get_contexts_by_id(cids)] == ["p", "r"]
    for cid in cids:
        assert [x.id for x in store.get_executions_by_context(cid)] == [eid]
        assert [a.id for a in store.get_artifacts_by_context(cid)] == aids
    assert store.get_executions_by_id([eid])[0].last_known_state == ExecutionState.COMPLETE


def test_put_execution_updates_existing_execution(
    store: MetadataStore, ids: dict[str, int]
) -> None:
    [eid] = store.put_executions([Execution(ids["et"], last_known_state=ExecutionState.RUNNING)])
    running = store.get_executions_by_id([eid])[0]
    done = dataclasses.replace(running, last_known_state=ExecutionState.COMPLETE)
    got_eid, aids, _ = store.put_execution(
        done, [(Artifact(ids["at"]), Event(type=EventType.OUTPUT))]
    )
    assert got_eid == eid
    assert store.get_executions_by_id([eid])[0].last_known_state == ExecutionState.COMPLETE
    assert store.count("execution") == 1 and len(aids) == 1


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        ("duplicate_event", AlreadyExistsError),
        ("duplicate_artifact_name", AlreadyExistsError),
        ("duplicate_context", AlreadyExistsError),
        ("unknown_artifact_id", NotFoundError),
        ("type_mismatch", TypeMismatchError),
    ],
)
def test_put_execution_is_atomic(
    store: MetadataStore, ids: dict[str, int], failure: str, error: type[Exception]
) -> None:
    [old_art] = store.put_artifacts([Artifact(ids["at"], name="taken")])
    store.put_contexts([Context(ids["ct"], name="p")])
    old = store.get_artifacts_by_id([old_art])[0]
    ex, outs = _step(ids, "train")
    ctxs = [Context(ids["ct"], name="fresh")]
    if failure == "duplicate_event":  # the same artifact twice with the same event type
        outs += [(old, Event(type=EventType.INPUT)), (old, Event(type=EventType.INPUT))]
    elif failure == "duplicate_artifact_name":
        outs.append((Artifact(ids["at"], name="taken"), Event(type=EventType.OUTPUT)))
    elif failure == "duplicate_context":
        ctxs.append(Context(ids["ct"], name="p"))
    elif failure == "unknown_artifact_id":
        outs.append((Artifact(ids["at"], id=999), Event(type=EventType.INPUT)))
    else:
        outs.append((Artifact(ids["at"], properties={"span": "x"}), Event(type=EventType.OUTPUT)))
    before = _counts(store)
    with pytest.raises(error):
        store.put_execution(ex, outs, ctxs)
    assert _counts(store) == before
    if failure != "duplicate_context":  # the retry path of reuse_context_if_already_exist too
        with pytest.raises(error):
            store.put_execution(ex, outs, ctxs, reuse_context_if_already_exist=True)
        assert _counts(store) == before


def test_reuse_context_if_already_exist(store: MetadataStore, ids: dict[str, int]) -> None:
    [p] = store.put_contexts([Context(ids["ct"], name="p", custom_properties={"k": 1})])
    ex, outs = _step(ids, "a")
    e1, _, [c1, r1] = store.put_execution(
        ex,
        outs,
        [Context(ids["ct"], name="p"), Context(ids["ct"], name="run1")],
        reuse_context_if_already_exist=True,
    )
    ex2, outs2 = _step(ids, "b")
    e2, _, [c2, r2] = store.put_execution(
        ex2,
        outs2,
        [Context(ids["ct"], name="p"), Context(ids["ct"], name="run1")],
        reuse_context_if_already_exist=True,
    )
    assert c1 == c2 == p and r1 == r2
    assert store.count("context") == 2
    # Reusing does not overwrite the existing context's properties.
    assert dict(store.get_contexts_by_id([p])[0].custom_properties) == {"k": 1}
    assert [x.id for x in store.get_executions_by_context(p)] == [e1, e2]
    assert store.count("association") == 4


def test_without_reuse_an_existing_context_fails(store: MetadataStore, ids: dict[str, int]) -> None:
    store.put_contexts([Context(ids["ct"], name="p")])
    ex, outs = _step(ids, "a")
    before = _counts(store)
    with pytest.raises(AlreadyExistsError):
        store.put_execution(ex, outs, [Context(ids["ct"], name="p")])
    assert _counts(store) == before


def test_put_execution_with_context_ids(store: MetadataStore, ids: dict[str, int]) -> None:
    [p] = store.put_contexts([Context(ids["ct"], name="p")])
    existing = store.get_contexts_by_id([p])[0]
    ex, outs = _step(ids, "a")
    eid, _, cids = store.put_execution(ex, outs, [existing])
    assert cids == [p]
    assert [x.id for x in store.get_executions_by_context(p)] == [eid]


def test_inputs_are_not_touched(store: MetadataStore, ids: dict[str, int]) -> None:
    """Passing an artifact as an input leaves its row (and last update time) as it was."""
    [inp] = store.put_artifacts([Artifact(ids["at"], uri="/in", properties={"span": 3})])
    [before] = store.get_artifacts_by_id([inp])
    time.sleep(0.005)
    ex, outs = _step(ids, "reader")
    store.put_execution(ex, [(before, Event(type=EventType.INPUT)), *outs])
    assert store.get_artifacts_by_id([inp]) == [before]
