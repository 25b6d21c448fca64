"""``graphlets report``: files, JSON purity, headline, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from graphlets.cli import report_cmd
from graphlets.simulate import load_profile, simulate

pytestmark = pytest.mark.unit
runner = CliRunner()


def _app() -> typer.Typer:
    """The command as ``graphlets`` registers it (one line in cli/main.py)."""
    app = typer.Typer()
    app.registered_commands.extend(report_cmd.app.registered_commands)

    @app.callback()
    def _root() -> None:
        """graphlets."""

    return app


def run(*args: str) -> Result:
    return runner.invoke(_app(), list(args))


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("fleet") / "fleet.sqlite"
    simulate(load_profile("small").with_(pipelines=6), f"sqlite:///{path}")
    return f"sqlite:///{path}"


def test_json_is_the_report(url: str, tmp_path: Path) -> None:
    res = run("report", "--store", url, "--out", str(tmp_path / "r"), "--json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc == json.loads((tmp_path / "r" / "report.json").read_text())
    assert doc["headline"]["pipelines"] == 6 and len(doc["figures"]) >= 6


def test_headline(url: str, tmp_path: Path) -> None:
    res = run("report", "--store", url, "--out", str(tmp_path / "r"))
    assert res.exit_code == 0, res.stderr
    assert "push rate" in res.stdout and "report.html" in res.stdout
    assert (tmp_path / "r" / "report.html").exists()


def test_missing_store_is_one_line(tmp_path: Path) -> None:
    res = run("report", "--store", f"sqlite:///{tmp_path / 'none.sqlite'}", "--out",
              str(tmp_path / "r"))  # fmt: skip
    assert res.exit_code == 1
    assert res.stderr.startswith("error:") and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()
