"""``graphlets simulate``: JSON purity, the summary, and one-line errors."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from graphlets.cli import simulate_cmd

pytestmark = pytest.mark.unit
runner = CliRunner()


def _app() -> typer.Typer:
    """The command as ``graphlets`` registers it (one line in cli/main.py)."""
    app = typer.Typer()
    app.registered_commands.extend(simulate_cmd.app.registered_commands)

    @app.callback()
    def _root() -> None:
        """graphlets."""

    return app


def run(*args: str) -> Result:
    return runner.invoke(_app(), list(args))


def test_json_is_one_document(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fleet.sqlite'}"
    res = run("simulate", "--profile", "small", "--pipelines", "4", "--seed", "3",
              "--store", url, "--json")  # fmt: skip
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert (doc["profile"], doc["seed"], doc["pipelines"]) == ("small", 3, 4)
    with sqlite3.connect(tmp_path / "fleet.sqlite") as db:
        n = db.execute("SELECT COUNT(*) FROM Execution").fetchone()[0]
    assert doc["tables"]["execution"] == n and doc["models"] > 0


def test_summary_and_next_step(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fleet.sqlite'}"
    res = run("simulate", "--pipelines", "3", "--store", url)
    assert res.exit_code == 0, res.stderr
    assert "simulated small" in res.stdout and "models trained" in res.stdout
    assert "graphlets report --store" in res.stderr
    again = run("simulate", "--pipelines", "3", "--store", url)
    assert again.exit_code == 1
    assert again.stderr.startswith("error: store") and "already holds" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1


def test_unknown_profile(tmp_path: Path) -> None:
    res = run("simulate", "--profile", "nope", "--store", f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert res.exit_code == 1
    assert "profile 'nope' is unknown: use one of google-2021" in res.stderr
    assert run("simulate", "--pipelines", "0").exit_code == 2
