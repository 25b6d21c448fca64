"""The simulated store: deterministic, TFX-shaped, readable by lineage, refused when unsafe."""

from __future__ import annotations

import hashlib
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from graphlets.errors import InvalidArgumentError, StoreError
from graphlets.lineage import segment_store
from graphlets.simulate import SimulationResult, load_profile, simulate
from graphlets.simulate import writer as writer_mod
from graphlets.store import MetadataStore
from tests.mlmd_proc import in_child

TABLES = ("Type", "TypeProperty", "Artifact", "ArtifactProperty", "Execution",
          "ExecutionProperty", "Event", "EventPath", "Context", "ParentContext", "Association",
          "Attribution")  # fmt: skip


def table_hashes(path: Path) -> dict[str, str]:
    """sha256 of every MLMD table's rows, sorted."""
    out = {}
    with sqlite3.connect(path) as db:
        for t in TABLES:
            rows = sorted(db.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
            out[t] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return out


def _sim(path: Path, **changes: Any) -> SimulationResult:
    cfg = load_profile("small").with_(**changes)
    return simulate(cfg, f"sqlite:///{path}")


@pytest.mark.unit
def test_same_seed_same_store(tmp_path: Path, small_fleet: tuple[Path, SimulationResult],
                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    path, result = small_fleet
    # Many small chunks and commits give the same rows as one chunk in one transaction.
    monkeypatch.setattr(writer_mod, "CHUNK_ROWS", 20_000)
    monkeypatch.setattr(writer_mod, "COMMIT_ROWS", 50_000)
    again = _sim(tmp_path / "again.sqlite")
    assert again.rows == result.rows
    assert table_hashes(tmp_path / "again.sqlite") == table_hashes(path)
    _sim(tmp_path / "other.sqlite", seed=1)
    assert table_hashes(tmp_path / "other.sqlite")["Execution"] != table_hashes(path)["Execution"]


@pytest.mark.integration
def test_worker_processes_write_the_same_store(tmp_path: Path) -> None:
    cfg = load_profile("small").with_(pipelines=6)
    simulate(cfg, f"sqlite:///{tmp_path / 'inline.sqlite'}", workers=0)
    simulate(cfg, f"sqlite:///{tmp_path / 'workers.sqlite'}", workers=1)
    assert table_hashes(tmp_path / "inline.sqlite") == table_hashes(tmp_path / "workers.sqlite")


@pytest.mark.unit
def test_store_has_the_tfx_shape(small_fleet: tuple[Path, SimulationResult]) -> None:
    path, result = small_fleet
    with sqlite3.connect(path) as db:
        types = {n: k for n, k in db.execute("SELECT name, type_kind FROM Type")}
        keys = {k for (k,) in db.execute("SELECT DISTINCT step_key FROM EventPath")}
        props = Counter(n for (n,) in db.execute("SELECT name FROM ExecutionProperty"))
        art_props = {n for (n,) in db.execute("SELECT DISTINCT name FROM ArtifactProperty")}
        ctx = Counter(t for (t,) in db.execute(
            "SELECT t.name FROM Context c JOIN Type t ON t.id = c.type_id"))  # fmt: skip
        pushed = db.execute(
            "SELECT COUNT(*) FROM ArtifactProperty WHERE name = 'pushed' AND int_value = 1"
        ).fetchone()[0]
        counts = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
    assert "tfx.components.trainer.component.Trainer" in types
    assert {"Examples", "ExampleStatistics", "Schema", "ExampleAnomalies", "TransformGraph",
            "Model", "ModelEvaluation", "ModelBlessing", "PushedModel"} <= set(types)  # fmt: skip
    assert {"base_model", "baseline_model", "examples", "model", "model_blessing"} <= keys
    assert props["cpu_seconds"] == counts["Execution"]
    assert props["start_time_ms"] == counts["Execution"]  # the small profile writes them
    assert {"sim_drift", "sim_new_data", "sim_score", "sim_cause", "sim_outcome"} <= set(props)
    assert {"span", "blessed", "pushed"} <= art_props
    assert ctx["pipeline"] == result.pipelines and ctx["pipeline_run"] == result.runs
    assert pushed == result.outcomes["pushed"]
    assert sum(result.tables.values()) == result.rows
    assert {t.lower(): counts[t] for t in TABLES if t.lower() in result.tables} == result.tables


@pytest.mark.unit
def test_lineage_finds_the_simulated_outcomes(small_fleet: tuple[Path, SimulationResult]) -> None:
    """What the store says (no sim_ property used) matches the simulator's latent outcomes."""
    path, result = small_fleet
    with MetadataStore(f"sqlite:///{path}") as store:
        s = segment_store(store).summary
    o = result.outcomes
    assert s["graphlets"] == result.models
    assert s["pushed"] == o["pushed"]
    assert s["unpushed"] == o["unblessed"] + o["blocked"]
    assert s["failed"] == o["failed"] and s["pending"] == o["pending"]
    assert s["abandoned_models"] == o["trainer_failed"]
    assert s["cost_source"] == {"property:cpu_seconds": result.tables["execution"]}


@pytest.mark.unit
def test_refuses_a_store_with_data(small_fleet: tuple[Path, SimulationResult]) -> None:
    path, _ = small_fleet
    with pytest.raises(InvalidArgumentError, match=r"already holds \d+ executions"):
        _sim(path)


@pytest.mark.unit
def test_refuses_when_the_disk_is_short(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Usage:
        free = 10**9

    monkeypatch.setattr(writer_mod.shutil, "disk_usage", lambda _p: Usage())
    with pytest.raises(StoreError, match=r"not enough disk for profile 'google-2021'.*GB"):
        simulate(load_profile("google-2021"), f"sqlite:///{tmp_path / 'big.sqlite'}")
    assert not (tmp_path / "big.sqlite").exists()
    _sim(tmp_path / "fits.sqlite", pipelines=2)  # the small profile needs far less


@pytest.mark.postgres
def test_postgresql_store(pg_url: str) -> None:
    cfg = load_profile("small").with_(pipelines=5)
    result = simulate(cfg, pg_url)
    assert result.store_bytes is None and result.pipelines == 5
    with MetadataStore(pg_url) as store:
        assert store.count("execution") == result.tables["execution"]
        assert segment_store(store).summary["graphlets"] == result.models


@pytest.mark.mlmd
def test_ml_metadata_reads_the_simulated_store(
    small_fleet: tuple[Path, SimulationResult],
) -> None:
    pytest.importorskip("ml_metadata")
    path, result = small_fleet
    executions, keys, pipelines = in_child(mlmd_view, path)
    assert executions == result.tables["execution"]
    assert keys >= {"model"}
    assert pipelines == result.pipelines


def mlmd_view(path: Path) -> tuple[int, set[str], int]:
    """ml-metadata's view of a store (in a child process: see mlmd_proc): executions, the event
    keys of a model, pipeline contexts."""
    from tests.lineage.tfx_mlmd import open_mlmd

    mlmd = open_mlmd(path)
    models = mlmd.get_artifacts_by_type("Model")
    trainer = mlmd.get_events_by_artifact_ids([models[1].id])
    keys = {e.path.steps[0].key for e in trainer}
    return len(mlmd.get_executions()), keys, len(mlmd.get_contexts_by_type("pipeline"))
