"""BulkWriter on every backend: same encoding as the normal API, ids that never collide, one
transaction that commits or rolls back whole."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from graphlets.errors import AlreadyExistsError, InvalidArgumentError
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
    ExecutionState,
    ExecutionType,
    ParentContext,
    PropertyType,
)
from graphlets.store import MetadataStore
from graphlets.store import schema as s
from graphlets.store.bulk import BulkWriter

EPOCH_MS = 1_795_628_277_804
PROPS = {"span": PropertyType.INT, "split": PropertyType.STRING, "w": PropertyType.DOUBLE}
CUSTOM: dict[str, Any] = {"b": True, "st": {"k": [1, "x"]}, "big": EPOCH_MS, "f": 0.5}


@pytest.fixture
def types(store: MetadataStore) -> dict[str, int]:
    return {
        "artifact": store.put_artifact_type(ArtifactType("Examples", PROPS)),
        "execution": store.put_execution_type(ExecutionType("Trainer", PROPS)),
        "context": store.put_context_type(ContextType("pipeline")),
    }


def _artifact(type_id: int, name: str, **kw: Any) -> Artifact:
    return Artifact(
        type_id,
        name=name,
        uri=f"/data/{name}",
        state=ArtifactState.LIVE,
        properties={"span": 3, "split": "train", "w": 2},
        custom_properties=CUSTOM,
        **kw,
    )


def _strip(node: Any) -> Any:
    return dataclasses.replace(
        node,
        id=None,
        name=None,
        uri=None,
        create_time_since_epoch=0,
        last_update_time_since_epoch=0,
    )


def test_records_encode_like_the_normal_api(store: MetadataStore, types: dict[str, int]) -> None:
    [normal_id] = store.put_artifacts([_artifact(types["artifact"], "normal")])
    with BulkWriter(store) as w:
        [bulk_id] = w.put_artifacts([_artifact(types["artifact"], "bulk")])
    normal, bulk = store.get_artifacts_by_id([normal_id, bulk_id])
    assert bulk.id == bulk_id > normal_id
    assert (bulk.name, bulk.uri, bulk.state) == ("bulk", "/data/bulk", ArtifactState.LIVE)
    assert _strip(bulk) == _strip(normal)
    assert bulk.properties == {"span": 3, "split": "train", "w": 2.0}
    assert bulk.custom_properties == CUSTOM
    assert bulk.create_time_since_epoch > 0


def test_graph_of_every_kind_reads_back(store: MetadataStore, types: dict[str, int]) -> None:
    with BulkWriter(store) as w:
        a_ids = w.put_artifacts([_artifact(types["artifact"], f"a{i}") for i in range(3)])
        [e_id] = w.put_executions(
            [
                Execution(
                    types["execution"],
                    name="run",
                    last_known_state=ExecutionState.COMPLETE,
                    properties={"span": 1},
                    create_time_since_epoch=EPOCH_MS,
                )
            ]
        )
        c_ids = w.put_contexts([Context(types["context"], name=n) for n in ("p", "run1")])
        ev_ids = w.put_events(
            [
                Event(
                    a_ids[0], e_id, EventType.INPUT, (EventStep(key="examples"), EventStep(index=0))
                ),
                Event(a_ids[1], e_id, EventType.OUTPUT, (EventStep(key="model"),), EPOCH_MS),
            ]
        )
        w.put_attributions([Attribution(c_ids[1], a) for a in a_ids])
        w.put_associations([Association(c_ids[1], e_id)])
        assert w.put_parent_contexts([ParentContext(c_ids[1], c_ids[0])]) == 1
    assert len(ev_ids) == 2 and ev_ids[1] == ev_ids[0] + 1
    [ex] = store.get_executions_by_id([e_id])
    assert ex.last_known_state == ExecutionState.COMPLETE
    assert ex.create_time_since_epoch == ex.last_update_time_since_epoch == EPOCH_MS
    events = store.get_events_by_execution_ids([e_id])
    assert [(e.artifact_id, e.type, e.path) for e in events] == [
        (a_ids[0], EventType.INPUT, (EventStep(key="examples"), EventStep(index=0))),
        (a_ids[1], EventType.OUTPUT, (EventStep(key="model"),)),
    ]
    assert events[1].milliseconds_since_epoch == EPOCH_MS
    assert [a.id for a in store.get_artifacts_by_context(c_ids[1])] == a_ids
    assert [c.id for c in store.get_contexts_by_execution(e_id)] == [c_ids[1]]
    assert [c.id for c in store.get_parent_contexts_by_context(c_ids[1])] == [c_ids[0]]


def test_reserved_ids_are_never_reused(store: MetadataStore, types: dict[str, int]) -> None:
    [before] = store.put_artifacts([Artifact(types["artifact"])])
    with BulkWriter(store) as w:
        first = w.reserve("Artifact", 100)
        second = w.reserve("artifact", 5)
        w.write("artifact", ["id", "type_id"], [(first + 10, types["artifact"])])
    assert first == before + 1 and second == first + 100
    [after] = store.put_artifacts([Artifact(types["artifact"])])
    assert after == second + 5
    assert store.count("artifact") == 3


def test_exception_rolls_everything_back(store: MetadataStore, types: dict[str, int]) -> None:
    with pytest.raises(RuntimeError), BulkWriter(store) as w:
        w.put_artifacts([_artifact(types["artifact"], f"a{i}") for i in range(10)])
        raise RuntimeError("boom")
    assert store.count("artifact") == 0 and store.count("artifactproperty") == 0
    ids = store.put_artifacts([_artifact(types["artifact"], "a0")])
    assert store.get_artifacts_by_id(ids)[0].name == "a0"


def test_errors_are_one_line_and_named(store: MetadataStore, types: dict[str, int]) -> None:
    store.put_artifacts([Artifact(types["artifact"], name="taken")])
    with pytest.raises(AlreadyExistsError, match="artifact"), BulkWriter(store) as w:
        w.put_artifacts([Artifact(types["artifact"], name="taken")])
    with pytest.raises(InvalidArgumentError, match="not an artifact type"), BulkWriter(store) as w:
        w.put_artifacts([Artifact(types["execution"])])
    with pytest.raises(InvalidArgumentError, match="not declared"), BulkWriter(store) as w:
        w.put_artifacts([Artifact(types["artifact"], properties={"nope": 1})])
    with pytest.raises(InvalidArgumentError, match="not an MLMD table"), BulkWriter(store) as w:
        w.write("artifacts", ["id"], [])
    with pytest.raises(InvalidArgumentError, match="no columns"), BulkWriter(store) as w:
        w.write("artifact", ["id", "colour"], [])
    with pytest.raises(InvalidArgumentError, match="not open"):
        BulkWriter(store).reserve("artifact", 1)
    assert store.count("artifact") == 1


@pytest.fixture(params=["sqlite-file", "postgresql"])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Backends where a second connection can look in while the writer is open."""
    if request.param == "postgresql":
        request.applymarker(pytest.mark.postgres)
        url = str(request.getfixturevalue("pg_url"))
    else:
        url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    MetadataStore(url, create=True).close()
    yield url


def test_readers_see_nothing_before_commit(shared_url: str) -> None:
    with MetadataStore(shared_url) as store, MetadataStore(shared_url) as reader:
        tid = store.put_artifact_type(ArtifactType("Examples"))
        with BulkWriter(store) as w:
            w.put_artifacts([Artifact(tid, name=f"a{i}") for i in range(50)])
            assert reader.count("artifact") == 0
            assert w.connection.execute(select(s.artifact.c.id)).all()  # its own rows it sees
        assert reader.count("artifact") == 50


def test_a_concurrent_normal_write_waits_then_lands_after_the_block(shared_url: str) -> None:
    with MetadataStore(shared_url) as store, MetadataStore(shared_url) as other:
        tid = store.put_artifact_type(ArtifactType("Examples"))
        got: dict[str, list[int]] = {}
        writer = threading.Thread(
            target=lambda: got.update(ids=other.put_artifacts([Artifact(tid, name="late")]))
        )
        with BulkWriter(store) as w:
            first = w.reserve("artifact", 1000)
            writer.start()
            time.sleep(0.3)
            assert writer.is_alive()  # held off by the bulk writer's lock
            w.write("artifact", ["id", "type_id", "name"], [(first, tid, "bulk")])
        writer.join(30)
        assert got["ids"] == [first + 1000]
        assert store.count("artifact") == 2


@pytest.mark.integration
def test_100k_rows_then_normal_writes_do_not_collide(shared_url: str) -> None:
    n = 100_000
    with MetadataStore(shared_url) as store:
        at = store.put_artifact_type(ArtifactType("Examples", PROPS))
        et = store.put_execution_type(ExecutionType("Trainer"))
        [seed_a] = store.put_artifacts([Artifact(at, name="seed")])
        with BulkWriter(store) as w:
            first = w.reserve("artifact", n)
            w.write(
                "artifact",
                ["id", "type_id", "uri", "state", "name"],
                ((first + i, at, f"/d/{i}", 2, f"a{i}") for i in range(n)),
            )
            w.write(
                "artifactproperty",
                ["artifact_id", "name", "is_custom_property", "int_value"],
                ((first + i, "span", False, i) for i in range(n)),
            )
            e_ids = w.put_executions([Execution(et) for _ in range(1000)])
            w.put_events([Event(first + i, e_ids[i % 1000], EventType.INPUT) for i in range(n)])
        assert first == seed_a + 1
        assert store.count("artifact") == n + 1 and store.count("event") == n
        new_a = store.put_artifacts([Artifact(at, name="after")])
        new_e = store.put_executions([Execution(et)])
        store.put_events([Event(new_a[0], new_e[0], EventType.OUTPUT)])
        assert new_a == [first + n] and new_e == [e_ids[-1] + 1]
        got = store.get_artifacts_by_id([first + n - 1])[0]
        assert (got.name, got.properties) == (f"a{n - 1}", {"span": n - 1})
