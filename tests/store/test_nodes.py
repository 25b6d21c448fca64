"""Artifacts, executions and contexts on every backend: batch puts, updates, property values."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from graphlets.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    NotFoundError,
    TypeMismatchError,
)
from graphlets.model import (
    Artifact,
    ArtifactState,
    ArtifactType,
    Context,
    ContextType,
    Execution,
    ExecutionState,
    ExecutionType,
    PropertyType,
)
from graphlets.store import MetadataStore

EPOCH_MS = 1_795_628_277_804  # does not fit in 32 bits: MLMD's int64
PROPS = {
    "i": PropertyType.INT,
    "d": PropertyType.DOUBLE,
    "s": PropertyType.STRING,
    "st": PropertyType.STRUCT,
    "b": PropertyType.BOOLEAN,
}


@pytest.fixture
def types(store: MetadataStore) -> dict[str, int]:
    return {
        "artifact": store.put_artifact_type(ArtifactType("Examples", PROPS)),
        "execution": store.put_execution_type(ExecutionType("Trainer", PROPS)),
        "context": store.put_context_type(ContextType("pipeline", PROPS)),
    }


def _make(kind: str, type_id: int, **kw: Any) -> Artifact | Execution | Context:
    if kind == "artifact":
        return Artifact(type_id, **kw)
    if kind == "execution":
        return Execution(type_id, **kw)
    return Context(type_id, **{"name": "ctx", **kw})


def _put(store: MetadataStore, kind: str, nodes: list[Any]) -> list[int]:
    return {
        "artifact": store.put_artifacts,
        "execution": store.put_executions,
        "context": store.put_contexts,
    }[kind](nodes)


def _get(store: MetadataStore, kind: str, ids: list[int]) -> list[Any]:
    return {
        "artifact": store.get_artifacts_by_id,
        "execution": store.get_executions_by_id,
        "context": store.get_contexts_by_id,
    }[kind](ids)


KINDS = ["artifact", "execution", "context"]


@pytest.mark.parametrize("kind", KINDS)
def test_batch_ids_are_index_aligned(
    store: MetadataStore, types: dict[str, int], kind: str
) -> None:
    nodes = [_make(kind, types[kind], name=f"n{i}") for i in range(5)]
    ids = _put(store, kind, nodes)
    assert len(ids) == 5 and len(set(ids)) == 5
    got = _get(store, kind, ids)
    assert [n.name for n in got] == [f"n{i}" for i in range(5)]
    assert [n.id for n in got] == ids


@pytest.mark.parametrize("kind", KINDS)
def test_mixed_new_and_update_batch(store: MetadataStore, types: dict[str, int], kind: str) -> None:
    [a, b] = _put(
        store, kind, [_make(kind, types[kind], name="a"), _make(kind, types[kind], name="b")]
    )
    batch = [
        _make(kind, types[kind], name="new1"),
        _make(kind, types[kind], name="b2", id=b),
        _make(kind, types[kind], name="new2"),
        _make(kind, types[kind], name="a2", id=a),
    ]
    ids = _put(store, kind, batch)
    assert ids[1] == b and ids[3] == a
    assert len(set(ids)) == 4
    got = _get(store, kind, ids)
    assert [n.name for n in got] == ["new1", "b2", "new2", "a2"]
    assert store.count(kind) == 4


@pytest.mark.parametrize("kind", KINDS)
def test_update_replaces_properties(store: MetadataStore, types: dict[str, int], kind: str) -> None:
    [nid] = _put(
        store,
        kind,
        [
            _make(
                kind,
                types[kind],
                properties={"i": 1, "s": "x"},
                custom_properties={"old": 1, "keep": "v"},
            )
        ],
    )
    [before] = _get(store, kind, [nid])
    upd = dataclasses.replace(before, properties={"d": 2.5}, custom_properties={"keep": "w"})
    assert _put(store, kind, [upd]) == [nid]
    [after] = _get(store, kind, [nid])
    assert dict(after.properties) == {"d": 2.5}
    assert dict(after.custom_properties) == {"keep": "w"}
    assert after.create_time_since_epoch == before.create_time_since_epoch
    assert after.last_update_time_since_epoch >= before.last_update_time_since_epoch


@pytest.mark.parametrize("kind", KINDS)
def test_values_round_trip(store: MetadataStore, types: dict[str, int], kind: str) -> None:
    struct = {"a": 1.5, "nested": {"list": [1.0, "two", True, None]}, "flag": False, "t": "x"}
    props = {"i": EPOCH_MS, "d": -3.25, "s": "ünïcode ✓", "st": struct, "b": True}
    custom = {
        "i": -(2**62),
        "zero": 0,
        "d": 1e300,
        "s": "",
        "st": {},
        "b": False,
        "weird key. with `quotes`": "ok",
    }
    [nid] = _put(
        store, kind, [_make(kind, types[kind], properties=props, custom_properties=custom)]
    )
    [got] = _get(store, kind, [nid])
    assert dict(got.properties) == props
    assert dict(got.custom_properties) == custom
    for key, value in {**props, **custom}.items():
        stored = got.properties.get(key, got.custom_properties.get(key))
        assert type(stored) is type(value), key


def test_struct_numbers_come_back_as_doubles(store: MetadataStore, types: dict[str, int]) -> None:
    # protobuf's Struct (MLMD's struct_value) has one number type: double.
    [aid] = store.put_artifacts([Artifact(types["artifact"], custom_properties={"s": {"n": 3}})])
    [got] = store.get_artifacts_by_id([aid])
    value = got.custom_properties["s"]
    assert value == {"n": 3.0} and isinstance(value, dict) and isinstance(value["n"], float)


def test_int_into_declared_double_is_widened(store: MetadataStore, types: dict[str, int]) -> None:
    [aid] = store.put_artifacts([Artifact(types["artifact"], properties={"d": 4})])
    [got] = store.get_artifacts_by_id([aid])
    assert got.properties["d"] == 4.0 and isinstance(got.properties["d"], float)


@pytest.mark.parametrize(
    ("prop", "value"),
    [("i", "text"), ("i", 1.5), ("i", True), ("s", 3), ("b", 1), ("d", "1.0"), ("st", "x")],
)
def test_declared_type_mismatch(
    store: MetadataStore, types: dict[str, int], prop: str, value: Any
) -> None:
    ok = Artifact(types["artifact"], name="ok")
    bad = Artifact(types["artifact"], name="bad", properties={prop: value})
    with pytest.raises(TypeMismatchError) as err:
        store.put_artifacts([ok, bad])
    assert repr(prop) in str(err.value) and "\n" not in str(err.value)
    assert store.count("artifact") == 0
    assert store.count("artifactproperty") == 0


def test_unsupported_value_type(store: MetadataStore, types: dict[str, int]) -> None:
    for value in ([1, 2], None, b"bytes"):
        with pytest.raises(TypeMismatchError):
            store.put_executions([Execution(types["execution"], custom_properties={"x": value})])
    assert store.count("execution") == 0


@pytest.mark.parametrize("kind", KINDS)
def test_undeclared_property(store: MetadataStore, types: dict[str, int], kind: str) -> None:
    node = _make(kind, types[kind], properties={"nope": 1})
    with pytest.raises(InvalidArgumentError) as err:
        _put(store, kind, [node])
    assert "'nope'" in str(err.value) and "custom_properties" in str(err.value)
    assert store.count(kind) == 0


@pytest.mark.parametrize("kind", KINDS)
def test_duplicate_type_and_name(store: MetadataStore, types: dict[str, int], kind: str) -> None:
    _put(store, kind, [_make(kind, types[kind], name="same")])
    with pytest.raises(AlreadyExistsError) as err:
        _put(
            store,
            kind,
            [_make(kind, types[kind], name="other"), _make(kind, types[kind], name="same")],
        )
    assert "\n" not in str(err.value)
    assert store.count(kind) == 1
    with pytest.raises(AlreadyExistsError):
        _put(store, kind, [_make(kind, types[kind], name="x"), _make(kind, types[kind], name="x")])
    assert store.count(kind) == 1


def test_same_name_in_another_type_is_fine(store: MetadataStore, types: dict[str, int]) -> None:
    other = store.put_artifact_type(ArtifactType("Model"))
    ids = store.put_artifacts([Artifact(types["artifact"], name="n"), Artifact(other, name="n")])
    assert len(set(ids)) == 2


def test_unnamed_artifacts_and_executions_may_repeat(
    store: MetadataStore, types: dict[str, int]
) -> None:
    assert len(set(store.put_artifacts([Artifact(types["artifact"])] * 3))) == 3
    assert len(set(store.put_executions([Execution(types["execution"])] * 3))) == 3


def test_duplicate_external_id(store: MetadataStore, types: dict[str, int]) -> None:
    [aid] = store.put_artifacts([Artifact(types["artifact"], external_id="ext-1")])
    assert store.get_artifacts_by_id([aid])[0].external_id == "ext-1"
    with pytest.raises(AlreadyExistsError):
        store.put_artifacts([Artifact(types["artifact"], external_id="ext-1")])


def test_context_needs_a_name(store: MetadataStore, types: dict[str, int]) -> None:
    with pytest.raises(InvalidArgumentError):
        store.put_contexts([Context(types["context"])])
    assert store.count("context") == 0


@pytest.mark.parametrize("kind", KINDS)
def test_update_of_unknown_id(store: MetadataStore, types: dict[str, int], kind: str) -> None:
    with pytest.raises(NotFoundError) as err:
        _put(store, kind, [_make(kind, types[kind], name="new"), _make(kind, types[kind], id=999)])
    assert f"{kind}:999" in str(err.value)
    assert store.count(kind) == 0


def test_wrong_kind_of_type_id(store: MetadataStore, types: dict[str, int]) -> None:
    with pytest.raises(InvalidArgumentError):
        store.put_artifacts([Artifact(types["execution"])])
    with pytest.raises(InvalidArgumentError):
        store.put_executions([Execution(types["context"])])
    with pytest.raises(NotFoundError):
        store.put_contexts([Context(12345, name="x")])


def test_states_and_uri_round_trip(store: MetadataStore, types: dict[str, int]) -> None:
    arts = [Artifact(types["artifact"], uri=f"/data/{s.name}", state=s) for s in ArtifactState]
    got = store.get_artifacts_by_id(store.put_artifacts(arts))
    assert [(a.uri, a.state) for a in got] == [(a.uri, a.state) for a in arts]
    execs = [Execution(types["execution"], last_known_state=s) for s in ExecutionState]
    got_e = store.get_executions_by_id(store.put_executions(execs))
    assert [e.last_known_state for e in got_e] == list(ExecutionState)


def test_read_back_fills_type_name_and_times(store: MetadataStore, types: dict[str, int]) -> None:
    [aid] = store.put_artifacts([Artifact(types["artifact"])])
    [got] = store.get_artifacts_by_id([aid])
    assert got.type == "Examples" and got.type_id == types["artifact"]
    assert got.create_time_since_epoch > 1_600_000_000_000
    assert got.create_time_since_epoch == got.last_update_time_since_epoch


def test_get_by_id_keeps_order_and_skips_unknown(
    store: MetadataStore, types: dict[str, int]
) -> None:
    ids = store.put_executions([Execution(types["execution"], name=f"e{i}") for i in range(3)])
    got = store.get_executions_by_id([ids[2], 999, ids[0], ids[2]])
    assert [e.id for e in got] == [ids[2], ids[0], ids[2]]
    assert store.get_executions_by_id([]) == []


def test_empty_batches(store: MetadataStore, types: dict[str, int]) -> None:
    assert store.put_artifacts([]) == []
    assert store.put_executions([]) == []
    assert store.put_contexts([]) == []


def test_count_rejects_unknown_table(store: MetadataStore) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        store.count("nope")
    assert "'nope'" in str(err.value) and "artifact" in str(err.value)


@pytest.mark.parametrize("kind", KINDS)
def test_count_counts_rows(store: MetadataStore, types: dict[str, int], kind: str) -> None:
    assert store.count(kind) == 0
    _put(store, kind, [_make(kind, types[kind], name=f"c{i}") for i in range(3)])
    assert store.count(kind) == 3
    assert store.count("type") == 9 + 3


@pytest.mark.parametrize("kind", KINDS)
def test_unchanged_put_keeps_update_time(
    store: MetadataStore, types: dict[str, int], kind: str
) -> None:
    """As in ml-metadata: a put that changes nothing leaves the row alone."""
    struct = {"n": 3, "flag": True}
    [nid] = _put(
        store,
        kind,
        [_make(kind, types[kind], properties={"d": 4, "st": struct}, custom_properties={"b": 1})],
    )
    [before] = _get(store, kind, [nid])
    time.sleep(0.005)
    assert _put(store, kind, [before]) == [nid]
    # The values as written (an int into a DOUBLE, ints inside a struct) count as unchanged too.
    same = dataclasses.replace(before, properties={"d": 4, "st": struct})
    assert _put(store, kind, [same]) == [nid]
    [after] = _get(store, kind, [nid])
    assert after == before
    time.sleep(0.005)
    for changed in (
        dataclasses.replace(before, custom_properties={"b": True}),  # 1 -> True is a change
        dataclasses.replace(before, custom_properties={"b": 1.0}),
        dataclasses.replace(before, name="renamed"),
    ):
        _put(store, kind, [changed])
        [now] = _get(store, kind, [nid])
        assert now.last_update_time_since_epoch > before.last_update_time_since_epoch
        assert now.custom_properties == changed.custom_properties
        assert type(now.custom_properties["b"]) is type(changed.custom_properties["b"])
        before = now
        time.sleep(0.005)
