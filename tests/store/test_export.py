"""``export_parquet``: one file per MLMD table; counts, values and column types as in the store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graphlets.model import (
    Artifact,
    ArtifactState,
    ArtifactType,
    Event,
    EventStep,
    EventType,
    Execution,
    ExecutionType,
    PropertyType,
)
from graphlets.store import MetadataStore
from graphlets.store import export as export_mod
from graphlets.store import schema as s
from graphlets.store.export import export_parquet

EPOCH_MS = 1_795_628_277_804


def _fill(store: MetadataStore) -> tuple[list[int], int]:
    at = store.put_artifact_type(ArtifactType("Examples", {"span": PropertyType.INT}))
    et = store.put_execution_type(ExecutionType("Trainer"))
    arts = store.put_artifacts(
        [
            Artifact(
                at,
                name=f"a{i}",
                uri=f"/d/{i}",
                state=ArtifactState.LIVE,
                properties={"span": i},
                custom_properties={"ok": i % 2 == 0, "t": EPOCH_MS},
            )
            for i in range(7)
        ]
    )
    [ex] = store.put_executions([Execution(et)])
    store.put_events(
        [
            Event(a, ex, EventType.INPUT, (EventStep(key="examples"), EventStep(index=i)))
            for i, a in enumerate(arts)
        ]
    )
    return arts, ex


@pytest.fixture(params=["sqlite-file", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetadataStore]:
    """A store another connection (the exporter's) can see: a file or a PostgreSQL database."""
    if request.param == "postgresql":
        request.applymarker(pytest.mark.postgres)
        url = str(request.getfixturevalue("pg_url"))
    else:
        url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with MetadataStore(url, create=True) as st:
        yield st


def test_one_file_per_table_with_counts_values_and_types(
    store: MetadataStore, tmp_path: Path
) -> None:
    arts, ex = _fill(store)
    seen: list[tuple[str, int, int]] = []
    files = export_parquet(store.url.text, tmp_path / "out", progress=lambda *a: seen.append(a))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        f"{n}.parquet" for n in files
    )
    assert set(files) >= {"Artifact", "ArtifactProperty", "Event", "EventPath", "Type", "MLMDEnv"}
    for table in s.MLMD_TABLES:
        rows = pq.read_metadata(files[export_mod.MLMD_NAMES[table.name]]).num_rows
        assert rows == store.count(table.name), table.name
    art = pq.read_table(files["Artifact"])
    assert art.schema.field("id").type == pa.int64()
    assert art.schema.field("create_time_since_epoch").type == pa.int64()
    assert art.column("id").to_pylist() == arts
    assert art.column("uri").to_pylist()[3] == "/d/3"
    assert art.column("state").to_pylist() == [int(ArtifactState.LIVE)] * 7
    props = pq.read_table(files["ArtifactProperty"]).to_pylist()
    assert props[0].keys() >= {"artifact_id", "is_custom_property", "int_value", "bool_value"}
    assert pq.read_table(files["ArtifactProperty"]).schema.field("bool_value").type == pa.bool_()
    ok = {r["artifact_id"]: r["bool_value"] for r in props if r["name"] == "ok"}
    assert ok == {a: i % 2 == 0 for i, a in enumerate(arts)}
    big = {r["int_value"] for r in props if r["name"] == "t"}
    assert big == {EPOCH_MS}
    path = pq.read_table(files["EventPath"]).to_pylist()
    assert [r["is_index_step"] for r in path[:2]] == [False, True]
    assert [r["step_index"] for r in path if r["is_index_step"]] == list(range(7))
    assert pq.read_table(files["Event"]).column("execution_id").to_pylist() == [ex] * 7
    assert pq.read_table(files["MLMDEnv"]).to_pylist() == [{"schema_version": 10}]
    assert ("Artifact", 0, 7) in seen and ("Artifact", 7, 7) in seen


def test_empty_tables_still_get_a_file_with_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    MetadataStore(url, create=True).close()
    files = export_parquet(url, tmp_path / "out")
    t = pq.read_table(files["Attribution"])
    assert t.num_rows == 0 and t.schema.names == ["id", "context_id", "artifact_id"]
    assert pq.read_table(files["Type"]).num_rows == 9  # the seeded mlmd.* system types


def test_tables_stream_in_batches(
    store: MetadataStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_mod, "BATCH_ROWS", 2)
    tid = store.put_artifact_type(ArtifactType("Examples"))
    ids = store.put_artifacts([Artifact(tid) for _ in range(9)])
    files = export_parquet(store.url.text, tmp_path / "out")
    meta = pq.read_metadata(files["Artifact"])
    assert (meta.num_rows, meta.num_row_groups) == (9, 5)  # one row group per streamed batch
    assert pq.read_table(files["Artifact"]).column("id").to_pylist() == ids
