"""``copy_store``: an ml-metadata store -> PostgreSQL -> SQLite, every table equal row by row, and
ml-metadata reads (and keeps writing) the final copy."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from graphlets.errors import AlreadyExistsError, InvalidArgumentError
from graphlets.model import Artifact, ArtifactType
from graphlets.store import MetadataStore
from graphlets.store import schema as s
from graphlets.store.transfer import MLMD_NAMES, copy_store
from tests.mlmd_proc import in_child

EPOCH_MS = 1_795_628_277_804


def _mlmd(path: Path) -> Any:
    pytest.importorskip("ml_metadata", reason="ml-metadata 1.17.1 installs on Python 3.11 only")
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2 as pb

    cfg = pb.ConnectionConfig()
    cfg.sqlite.filename_uri = str(path)
    cfg.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    return metadata_store.MetadataStore(cfg)


def build_mlmd_store(path: Path, runs: int = 3) -> None:
    """A small TFX-shaped store written by ml-metadata, touching every MLMD table (call it through
    ``tests.mlmd_proc.in_child``: never in a process that opens the file through graphlets)."""
    st = _mlmd(path)
    from ml_metadata.proto import metadata_store_pb2 as pb

    ex_t = pb.ArtifactType(name="Examples", base_type=pb.ArtifactType.DATASET)
    ex_t.properties["span"] = pb.INT
    ex_t.properties["split_names"] = pb.STRING
    model_t = pb.ArtifactType(name="Model", base_type=pb.ArtifactType.MODEL)
    trainer_t = pb.ExecutionType(name="Trainer", base_type=pb.ExecutionType.TRAIN)
    trainer_t.properties["steps"] = pb.INT
    run_t = pb.ContextType(name="pipeline_run")
    run_t.properties["pipeline_name"] = pb.STRING
    pipe_t = pb.ContextType(name="pipeline")
    ids = {
        n: f(t)
        for n, f, t in [
            ("ex", st.put_artifact_type, ex_t),
            ("model", st.put_artifact_type, model_t),
            ("trainer", st.put_execution_type, trainer_t),
            ("run", st.put_context_type, run_t),
            ("pipe", st.put_context_type, pipe_t),
        ]
    }
    [pipe_id] = st.put_contexts([pb.Context(type_id=ids["pipe"], name="taxi")])
    for r in range(runs):
        ex = pb.Artifact(type_id=ids["ex"], uri=f"/ex/{r}", state=pb.Artifact.LIVE, name=f"ex{r}")
        ex.properties["span"].int_value = r
        ex.properties["split_names"].string_value = '["train","eval"]'
        ex.custom_properties["big"].int_value = EPOCH_MS
        ex.custom_properties["ratio"].double_value = 0.25
        ex.custom_properties["ok"].bool_value = r % 2 == 0
        ex.custom_properties["meta"].struct_value.update({"k": [1, "x"], "n": None})
        model = pb.Artifact(type_id=ids["model"], uri=f"/model/{r}", state=pb.Artifact.PENDING)
        tr = pb.Execution(type_id=ids["trainer"], last_known_state=pb.Execution.COMPLETE)
        tr.properties["steps"].int_value = 100 * r
        tr.custom_properties["cpu_seconds"].double_value = 12.5
        run = pb.Context(type_id=ids["run"], name=f"run{r}")
        run.properties["pipeline_name"].string_value = "taxi"
        inp = pb.Event(type=pb.Event.INPUT)
        inp.path.steps.add().key = "examples"
        inp.path.steps.add().index = 0
        out = pb.Event(type=pb.Event.OUTPUT)
        out.path.steps.add().key = "model"
        _, _, [run_id] = st.put_execution(tr, [(ex, inp), (model, out)], [run])
        st.put_parent_contexts([pb.ParentContext(child_id=run_id, parent_id=pipe_id)])


def _rows(url: str, table: str) -> list[tuple[Any, ...]]:
    """Every row of a table, normalised across backends (bools as ints, bytes as bytes)."""
    eng = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    cols = ", ".join(next(t for t in s.MLMD_TABLES if t.name == table).c.keys())
    order = "event_id, rowid" if table == "eventpath" and url.startswith("sqlite") else "1"
    with eng.connect() as conn:
        rows = conn.execute(text(f"SELECT {cols} FROM {table} ORDER BY {order}")).all()
    eng.dispose()
    norm = [tuple(int(v) if isinstance(v, bool) else v for v in r) for r in rows]
    return norm if table == "eventpath" else sorted(norm, key=repr)


@pytest.mark.mlmd
@pytest.mark.postgres
def test_mlmd_sqlite_to_postgres_to_sqlite_round_trip(tmp_path: Path, pg_url: str) -> None:
    src, final = tmp_path / "mlmd.sqlite", tmp_path / "final.sqlite"
    in_child(build_mlmd_store, src)
    seen: list[tuple[str, int, int]] = []
    counts = copy_store(f"sqlite:///{src}", pg_url, progress=lambda *a: seen.append(a))
    back = copy_store(pg_url, f"sqlite:///{final}")
    assert counts == back
    assert counts["Artifact"] == 6 and counts["Event"] == 6 and counts["EventPath"] == 9
    assert counts["Type"] == 14 and counts["ParentType"] == 3 and counts["ParentContext"] == 3
    assert ("Artifact", 0, 6) in seen and ("Artifact", 6, 6) in seen
    assert {t for t, *_ in seen} == {MLMD_NAMES[t.name] for t in s.MLMD_TABLES}
    for table in s.MLMD_TABLES:
        want = _rows(f"sqlite:///{src}", table.name)
        assert want == _rows(pg_url, table.name), table.name
        assert want == _rows(f"sqlite:///{final}", table.name), table.name
    new = in_child(mlmd_reads_and_writes, src, final)
    db = sqlite3.connect(final)
    seq = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'Artifact'").fetchone()
    db.close()
    assert seq == (new,)


def mlmd_reads_and_writes(src: Path, final: Path) -> int:
    """ml-metadata reads the copy as it reads the original, then adds an artifact to the copy;
    its id (in a child process: see mlmd_proc)."""
    from ml_metadata.proto import metadata_store_pb2 as pb

    a, b = _mlmd(src), _mlmd(final)
    assert b.get_artifacts() == a.get_artifacts()
    assert b.get_executions() == a.get_executions()
    assert b.get_contexts() == a.get_contexts()
    assert b.get_artifact_types() == a.get_artifact_types()
    ids = [x.id for x in a.get_executions()]
    assert b.get_events_by_execution_ids(ids) == a.get_events_by_execution_ids(ids)
    assert b.get_artifact_type("Examples").base_type == pb.ArtifactType.DATASET
    [new] = b.put_artifacts([pb.Artifact(type_id=b.get_artifact_type("Model").id, uri="/new")])
    assert new == max(x.id for x in a.get_artifacts()) + 1
    return int(new)


@pytest.mark.postgres
def test_sequences_continue_after_a_copy_into_postgres(tmp_path: Path, pg_url: str) -> None:
    src = f"sqlite:///{tmp_path / 'src.sqlite'}"
    with MetadataStore(src, create=True) as st:
        tid = st.put_artifact_type(ArtifactType("Examples"))
        ids = st.put_artifacts([Artifact(tid, name=f"a{i}") for i in range(5)])
    copy_store(src, pg_url)
    with MetadataStore(pg_url) as dst:
        assert dst.get_artifact_type("Examples").id == tid
        assert dst.put_artifacts([Artifact(tid, name="next")]) == [ids[-1] + 1]
        assert dst.put_artifact_type(ArtifactType("Model")) == tid + 1


def test_refuses_a_destination_with_data(tmp_path: Path) -> None:
    src, dst = f"sqlite:///{tmp_path / 'a.sqlite'}", f"sqlite:///{tmp_path / 'b.sqlite'}"
    for url in (src, dst):
        with MetadataStore(url, create=True) as st:
            st.put_artifact_type(ArtifactType("Examples"))
    with pytest.raises(AlreadyExistsError, match=r"is not empty \(it has types such as 'Examples'"):
        copy_store(src, dst)
    with pytest.raises(InvalidArgumentError, match="same store"):
        copy_store(src, src)


def test_copy_into_a_fresh_sqlite_keeps_ids(tmp_path: Path) -> None:
    src, dst = f"sqlite:///{tmp_path / 'a.sqlite'}", f"sqlite:///{tmp_path / 'new' / 'b.sqlite'}"
    with MetadataStore(src, create=True) as st:
        tid = st.put_artifact_type(ArtifactType("Examples"))
        st.put_artifacts([Artifact(tid, name=f"a{i}") for i in range(3)])
        st.put_artifacts([Artifact(tid, id=2, name="renamed")])
    counts = copy_store(src, dst)
    assert counts["Artifact"] == 3 and "MLMDEnv" not in counts
    with MetadataStore(dst) as st:
        assert [a.name for a in st.get_artifacts_by_id([1, 2, 3])] == ["a0", "renamed", "a2"]
