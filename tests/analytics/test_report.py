"""The report of a simulated fleet: its files, and numbers that agree with store and simulator."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from graphlets.analytics import Report, build_report, compute_report
from graphlets.errors import InvalidArgumentError
from graphlets.simulate import SimulationResult
from graphlets.store import MetadataStore

pytestmark = pytest.mark.unit


def test_files(report: Report) -> None:
    assert report.html.name == "report.html" and report.json.name == "report.json"
    pngs = sorted(p.name for p in report.folder.glob("*.png"))
    assert len(pngs) >= 6 and pngs == sorted(report.figures)
    for name in pngs:
        assert (report.folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f'src="{name}"' in report.html.read_text()
    assert json.loads(report.json.read_text())["headline"] == report.data["headline"]


def test_numbers_agree_with_the_simulator(
    report: Report, fleet: tuple[Path, SimulationResult]
) -> None:
    _, sim = fleet
    d, o = report.data, sim.outcomes
    assert d["headline"]["pipelines"] == sim.pipelines == d["fleet"]["pipelines"]
    assert d["headline"]["models"] == sim.models
    assert d["outcomes"]["by_outcome"] == {
        "pushed": o["pushed"],
        "unpushed": o["unblessed"] + o["blocked"],
        "failed": o["failed"],
        "pending": o["pending"],
    }
    causes = d["outcomes"]["waste_by_cause"]
    assert causes["unblessed"]["graphlets"] == o["unblessed"]
    assert causes["blocked"]["graphlets"] == o["blocked"]
    assert causes["failed"]["graphlets"] == o["failed"]
    waste = sum(c["cost"] for c in causes.values())
    assert waste == pytest.approx(d["outcomes"]["waste_cost"], rel=1e-6)
    decided = o["pushed"] + o["unblessed"] + o["blocked"] + o["failed"]
    assert d["outcomes"]["push_rate"] == pytest.approx(o["pushed"] / decided, abs=1e-6)


def test_numbers_agree_with_the_store(report: Report, fleet: tuple[Path, SimulationResult]) -> None:
    path, sim = fleet
    d = report.data
    with sqlite3.connect(path) as db:
        n_exec = db.execute("SELECT COUNT(*) FROM Execution").fetchone()[0]
        trainers = db.execute(
            "SELECT COUNT(*) FROM Execution e JOIN Type t ON t.id = e.type_id "
            "WHERE t.name LIKE '%.Trainer'"
        ).fetchone()[0]
    assert d["components"]["executions"] == n_exec
    assert d["components"]["by_type"]["Trainer"]["executions"] == trainers
    assert sum(d["fleet"]["run_frequency"].values()) == sim.pipelines
    assert sum(d["fleet"]["lifespan_histogram"]["counts"]) == sim.pipelines
    assert sum(p["models"] for p in d["pipelines"]) == sim.models
    assert sum(d["graphlets"]["executions_histogram"]["counts"]) == sim.models
    total = d["compute"]["total"]
    assert sum(d["compute"]["by_category"].values()) == pytest.approx(total, rel=1e-6)
    assert d["compute"]["in_graphlets"] + d["compute"]["outside_graphlets"] == pytest.approx(
        total, rel=1e-6
    )
    weeks = d["outcomes"]["by_week"]
    assert sum(sum(w.values()) for w in weeks.values()) == sim.models


def test_fleet_shape_is_visible(report: Report) -> None:
    """The simulated mechanisms show in the numbers a real-store analysis would compute."""
    d = report.data
    freq = d["fleet"]["run_frequency"]
    assert freq["hourly"] >= 1 and freq["daily"] >= 1 and freq["weekly"] >= 1
    assert d["graphlets"]["trainers_per_pipeline"]["describe"]["max"] >= 2
    assert 0 < d["graphlets"]["share_warm_started"] < 1
    assert 0 < d["graphlets"]["share_with_category"]["transform"] < 1
    assert 0 < d["components"]["share_of_pipelines_with_component"]["ExampleValidator"] < 1
    assert d["components"]["by_type"]["SchemaGen"]["cache_hit_rate"] > 0.5
    assert 0 < d["components"]["by_type"]["Trainer"]["failure_rate"] < 0.2
    assert 0.3 < d["overlap"]["jaccard"]["median"] < 1
    assert d["compute"]["share_by_category"]["training"] > 0.3


def test_empty_store_reports_zeros(tmp_path: Path) -> None:
    with MetadataStore(f"sqlite:///{tmp_path / 'empty.sqlite'}", create=True) as store:
        r = build_report(store, tmp_path / "out")
    assert r.data["headline"]["models"] == 0 and r.data["fleet"]["pipelines"] == 0
    assert len(r.figures) >= 6 and r.html.exists()


def test_out_must_be_a_folder(tmp_path: Path, fleet: tuple[Path, SimulationResult]) -> None:
    path, _ = fleet
    (tmp_path / "file").write_text("x")
    with (
        MetadataStore(f"sqlite:///{path}") as store,
        pytest.raises(InvalidArgumentError, match="is a file"),
    ):
        build_report(store, tmp_path / "file")


def test_compute_report_reports_progress(fleet: tuple[Path, SimulationResult]) -> None:
    path, _ = fleet
    stages: list[str] = []
    with MetadataStore(f"sqlite:///{path}") as store:
        compute_report(store, progress=lambda stage, _n: stages.append(stage))
    assert any(s.startswith("load") for s in stages) and "outcomes" in stages


def test_report_on_the_demo_store(tmp_path: Path) -> None:
    from graphlets.demo import record_history
    from graphlets.lineage import segment_store

    with MetadataStore(f"sqlite:///{tmp_path / 'demo.sqlite'}", create=True) as store:
        record_history(store, days=6, pipelines=2)
        r = build_report(store, tmp_path / "out")
        graphlets = segment_store(store).summary["graphlets"]
    d = r.data
    assert d["headline"]["pipelines"] == 2 and d["headline"]["models"] == graphlets > 0
    assert sum(d["outcomes"]["by_outcome"].values()) == graphlets
    assert len(r.figures) >= 6 and r.html.exists()
