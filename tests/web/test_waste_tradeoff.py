"""The waste page draws the trade-off curve that ``graphlets optimize evaluate --plot`` writes
into the reports folder, and says how to make it when it is missing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from graphlets.cli import optimize_cmd
from graphlets.simulate import load_profile, simulate
from graphlets.web.app import create_app

pytestmark = pytest.mark.unit


def test_waste_page_shows_what_optimize_evaluate_plot_wrote(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    simulate(load_profile("small").with_(pipelines=3), url)
    reports = tmp_path / "reports"
    client = TestClient(create_app(url, "token", reports_dir=reports))
    empty = client.get("/waste").text
    assert "No tradeoff curve yet" in empty and "graphlets optimize evaluate --store" in empty
    assert f"--plot {reports / 'tradeoff.png'}" in empty  # the exact command, this folder
    app = typer.Typer()
    app.add_typer(optimize_cmd.app, name="optimize")
    args = ["optimize", "evaluate", "--store", url, "--json", "--no-baselines", "--no-oracle",
            "--plot", str(reports / "tradeoff.png")]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["curve_json"] == str(reports / "tradeoff.json")
    doc = client.get("/api/waste").json()["tradeoff"]
    assert doc["available"] is True and doc["png"] == "/api/waste/tradeoff.png"
    assert doc["gate"]["pushes_missed_fraction"] == report["pushes_missed_fraction"]
    assert [p for p in doc["points"] if p["label"] == "gate"] == [
        {
            "x": report["pushes_missed_fraction"],
            "y": report["waste_saved_fraction"],
            "label": "gate",
        }
    ]
    assert len(doc["points"]) > 10  # the predictor's curve, thinned
    html = client.get("/waste").text
    assert "<polyline" in html and 'id="gate-result"' in html and "the paper" in html.lower()
    assert client.get("/api/waste/tradeoff.png").headers["content-type"] == "image/png"
