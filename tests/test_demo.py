"""The demo main job, shortened: a real pipeline run whose report matches what the store holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graphlets.cli.main import app
from graphlets.demo import MODEL, run_demo
from graphlets.lineage import segment_store
from graphlets.registry import ModelRegistry
from graphlets.store import MetadataStore

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[type-arg]
    return run_demo(tmp_path_factory.mktemp("demo"), spans=24, rows=600, replay=False)


def test_report_matches_the_store(report: dict) -> None:  # type: ignore[type-arg]
    with MetadataStore(str(report["store"])) as store:
        assert report["runs"] == len(store.get_contexts_by_type("pipeline_run")) == 24
        assert report["executions"] == store.count("execution")
        trainers = store.get_executions_by_type("Trainer")
        assert report["models_trained"] + report["trainings_skipped"] == len(trainers)
        pushed = [
            a
            for a in store.get_artifacts_by_type("PushedModel")
            if a.custom_properties.get("pushed") == 1
        ]
        assert report["pushed"] == len(pushed) == report["registry"]["versions"]
        assert len(ModelRegistry(store).versions(MODEL)) == report["pushed"]
        summary = segment_store(store).summary
    assert report["waste"]["waste_fraction"] == summary["waste_fraction"]
    assert report["waste"]["graphlets"] == report["models_trained"]


def test_incidents_are_caught_on_their_spans(report: dict) -> None:  # type: ignore[type-arg]
    rows = {r["incident"]: r for r in report["incidents"]}
    for name in ("schema break", "missing-value spike", "concept drift"):
        assert rows[name]["detected"] == rows[name]["injected"], rows[name]
    code = rows["code change"]
    assert code["detected"] is not None and code["detected"] >= code["injected"]
    assert report["blocked_spans"] == [
        rows["schema break"]["injected"],
        rows["missing-value spike"]["injected"],
    ]
    assert report["registry"]["production"] is not None


def test_cli_json_is_one_document(tmp_path: Path) -> None:
    args = [
        "demo",
        "--dir",
        str(tmp_path / "d"),
        "--spans",
        "12",
        "--rows",
        "300",
        "--json",
        "--no-replay",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["runs"] == 12 and doc["store"].endswith("store.sqlite")
