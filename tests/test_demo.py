"""The demo main job, shortened: it records, and its report matches what the store holds."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from graphlets.cli.main import app
from graphlets.demo import run_demo
from graphlets.lineage import segment_store
from graphlets.store import MetadataStore


def test_demo_report_matches_store(tmp_path: Path) -> None:
    report = run_demo(tmp_path / "demo", days=8)
    with MetadataStore(str(report["store"])) as store:
        assert report["executions"] == store.count("execution")
        assert report["events"] == store.count("event")
        trainers = store.get_executions_by_type("Trainer")
        pushed = store.get_artifacts_by_type("PushedModel")
        summary = segment_store(store).summary
    assert report["runs"] == 16
    assert len(trainers) == 16
    outcomes = report["outcomes"]
    assert isinstance(outcomes, dict)
    assert outcomes["pushed"] == len(pushed)
    assert summary["waste_fraction"] == report["waste_fraction"]
    assert 0.0 < float(report["waste_fraction"]) < 1.0  # type: ignore[arg-type]


def test_demo_cli_json_is_one_document_and_rerunnable(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["demo", "--dir", str(tmp_path / "d"), "--days", "3", "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.stderr
    again = runner.invoke(app, args)
    assert again.exit_code == 0
    a, b = json.loads(first.stdout), json.loads(again.stdout)
    assert a["executions"] == b["executions"]  # the second run replaced the first store
