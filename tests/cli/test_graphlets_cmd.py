"""``graphlets graphlets ls|show|summary``, mounted on a Typer app of the test's own (the lead wires
the group into ``graphlets.cli.main``), and once as a real process for the stdout contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import typer
from typer.testing import CliRunner, Result

from graphlets.cli import graphlets_cmd
from graphlets.store import MetadataStore
from tests.lineage.builder import Builder, full_run, ingest, train

root = typer.Typer()
root.add_typer(graphlets_cmd.app, name="graphlets")
runner = CliRunner()


def run(*args: str) -> Result:
    return runner.invoke(root, ["graphlets", *args])


def run_json(*args: str) -> Any:
    res = run(*args, "--json")
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


@pytest.fixture
def fleet(tmp_path: Path) -> tuple[str, dict[str, dict[str, int]]]:
    """Pipeline p: run 1 pushed, run 2 (window, warm start) unpushed; pipeline q: pending."""
    url = f"sqlite:///{tmp_path / 'fleet.sqlite'}"
    with MetadataStore(url, create=True) as store:
        b = Builder(store)
        r1 = full_run(b, 1, "r1")
        r2 = full_run(b, 2, "r2", window=[r1["examples"]], base_model=r1["model"], blessed=0)
        q = Builder(store, pipeline="q")
        up = ingest(q, 1, "q1")
        r3 = train(q, "q1", [up["examples"]], up["schema"])
    return url, {"r1": r1, "r2": r2, "q": r3}


@pytest.mark.unit
def test_summary_json_is_one_document_with_the_counts(fleet: tuple[str, Any]) -> None:
    url, _ = fleet
    s = run_json("summary", "--store", url)
    assert {k: s[k] for k in ("graphlets", "pushed", "unpushed", "failed", "pending")} == {
        "graphlets": 3, "pushed": 1, "unpushed": 1, "failed": 0, "pending": 1,
    }  # fmt: skip
    assert all(isinstance(s[k], int) for k in ("graphlets", "pushed", "unpushed", "pending"))
    assert s["waste_fraction"] == pytest.approx(18.5 / (19.0 + 19.0 + 15.5))
    assert s["cost_source"] == {"property:cpu_seconds": 22}
    text = run("summary", "--store", url)
    assert text.exit_code == 0 and "waste" in text.stdout and "34.6%" in text.stdout


@pytest.mark.unit
def test_ls_filters_and_writes_parquet(fleet: tuple[str, Any], tmp_path: Path) -> None:
    url, ids = fleet
    doc = run_json("ls", "--store", url)
    assert doc["count"] == 3 and [g["outcome"] for g in doc["graphlets"]] == [
        "pushed", "unpushed", "pending",
    ]  # fmt: skip
    assert doc["graphlets"][1]["id"] == f"graphlet:{ids['r2']['trainer']}"
    assert doc["graphlets"][1]["input_spans"] == [1, 2]
    only = run_json("ls", "--store", url, "--outcome", "unpushed")
    assert [g["graphlet_id"] for g in only["graphlets"]] == [ids["r2"]["trainer"]]
    q = run_json("ls", "--store", url, "--pipeline", "q")
    assert [g["pipeline"] for g in q["graphlets"]] == ["q"]
    assert run_json("ls", "--store", url, "--limit", "1")["shown"] == 1
    path = tmp_path / "g.parquet"
    res = run("ls", "--store", url, "--parquet", str(path), "--limit", "1")
    assert res.exit_code == 0 and "graphlet:" in res.stdout and "first 1" in res.stdout
    assert pl.read_parquet(path).height == 3
    assert run("ls", "--store", url, "--outcome", "lost").exit_code == 2


@pytest.mark.unit
def test_show_members_cost_and_outcome(fleet: tuple[str, Any]) -> None:
    url, ids = fleet
    tr = ids["r2"]["trainer"]
    doc = run_json("show", f"graphlet:{tr}", "--store", url)
    assert doc["graphlet"]["outcome"] == "unpushed" and doc["graphlet"]["cost"] == 18.5
    members = {m["id"]: m for m in doc["members"]}
    assert members[f"execution:{tr}"]["role"] == "anchor"
    gen1 = members[f"execution:{ids['r1']['gen']}"]
    assert (gen1["role"], gen1["share"], gen1["type"]) == ("upstream", 0.5, "CsvExampleGen")
    assert members[f"artifact:{ids['r1']['model']}"]["role"] == "input"
    full = run_json("show", f"graphlet:{tr}", "--store", url, "--sharing", "full")
    assert full["graphlet"]["cost"] == 19.0
    text = run("show", f"graphlet:{tr}", "--store", url)
    assert text.exit_code == 0 and "unpushed" in text.stdout and "anchor" in text.stdout


@pytest.mark.unit
def test_bad_ids_and_stores_are_one_line_errors(fleet: tuple[str, Any], tmp_path: Path) -> None:
    url, ids = fleet
    res = run("show", str(ids["r1"]["trainer"]), "--store", url)
    assert res.exit_code == 1 and "ambiguous" in res.stderr and res.stdout == ""
    res = run("show", f"graphlet:{ids['r1']['gen']}", "--store", url)  # not an anchor
    assert res.exit_code == 1 and "does not exist" in res.stderr
    res = run("show", "graphlet:99999", "--store", url)
    assert res.exit_code == 1 and "does not exist" in res.stderr
    res = run("summary", "--store", f"sqlite:///{tmp_path / 'missing.sqlite'}", "--json")
    assert res.exit_code == 1 and "no store at" in res.stderr and res.stdout == ""
    assert len(res.stderr.strip().splitlines()) == 1


def test_json_stdout_is_clean_in_a_real_process(fleet: tuple[str, Any]) -> None:
    url, _ = fleet
    code = "from graphlets.cli.graphlets_cmd import app; app()"
    proc = subprocess.run(
        [sys.executable, "-c", code, "summary", "--store", url, "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["graphlets"] == 3
