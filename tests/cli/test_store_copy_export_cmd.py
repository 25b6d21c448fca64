"""``graphlets store copy`` and ``store export`` through the CLI: round trips between backends,
clean failures, and stdout purity while a progress bar draws on stderr."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import build_graph, run, run_json, shell


# copy / export -------------------------------------------------------------------------------
def _comparable(url: str, node: str) -> dict[str, Any]:
    doc = run_json("store", "show", node, "--store", url)
    for ev in doc.get("events", []):
        ev.pop("milliseconds_since_epoch")
    return doc


@pytest.mark.postgres
def test_copy_sqlite_to_postgresql_and_back(tmp_path: Path, pg_url: str) -> None:
    src = f"sqlite:///{tmp_path / 'src.sqlite'}"
    back = f"sqlite:///{tmp_path / 'back.sqlite'}"
    run("store", "init", "--store", src)
    ids = build_graph(src)
    doc = run_json("store", "copy", src, pg_url)
    assert doc["rows"]["Artifact"] == 3 and doc["rows"]["Event"] == 5
    assert doc["total_rows"] == sum(doc["rows"].values())
    res = run("store", "copy", back, "--store", pg_url, "--json")  # one URL: --store is the source
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["dst"] == back
    counted = ("artifacts", "executions", "events", "contexts", "by_type", "executions_by_state")
    stats = [run_json("store", "stats", "--store", u) for u in (src, pg_url, back)]
    assert all({k: s[k] for k in counted} == {k: stats[0][k] for k in counted} for s in stats)
    node = f"execution:{ids['train']}"
    assert _comparable(src, node) == _comparable(back, node)


@pytest.mark.unit
def test_copy_into_a_non_empty_store_fails_cleanly(tmp_path: Path, sqlite_url: str) -> None:
    build_graph(sqlite_url)
    res = run("store", "copy", sqlite_url, sqlite_url.replace("store.sqlite", "x.sqlite"))
    assert res.exit_code == 0, res.stderr
    res = run("store", "copy", sqlite_url, sqlite_url.replace("store.sqlite", "x.sqlite"), "--json")
    assert res.exit_code == 1 and res.stdout == ""
    assert res.stderr.count("\n") == 1 and "is not empty" in res.stderr


@pytest.mark.unit
def test_export_parquet_writes_one_file_per_table(tmp_path: Path, sqlite_url: str) -> None:
    import pyarrow.parquet as pq

    build_graph(sqlite_url)
    doc = run_json("store", "export", "--parquet", str(tmp_path / "pq"), "--store", sqlite_url)
    files = {k: Path(v) for k, v in doc["files"].items()}
    assert {"Artifact", "Execution", "Event", "Context", "Type"} <= set(files)
    assert all(p.parent == tmp_path / "pq" and p.exists() for p in files.values())
    assert pq.read_table(files["Event"]).num_rows == 5
    assert pq.read_table(files["Artifact"]).num_rows == 3


@pytest.mark.unit
def test_console_script_json_stays_pure_while_a_progress_bar_draws(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    assert shell("store", "init", "--store", url).returncode == 0
    build_graph(url)
    # Rich draws live bars only on terminals; these variables make it draw on our pipe too.
    tty = {"TTY_INTERACTIVE": "1", "TTY_COMPATIBLE": "1", "FORCE_COLOR": "1"}
    out_dir = tmp_path / "pq"
    proc = shell("store", "export", "--parquet", str(out_dir), "--store", url, "--json", env=tty)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert Path(doc["files"]["Artifact"]).exists()
    assert "\x1b[" in proc.stderr and "Artifact" in proc.stderr  # the bar went to stderr
    copy = shell("store", "copy", url, f"sqlite:///{tmp_path / 'c.sqlite'}", "--json", env=tty)
    assert copy.returncode == 0, copy.stderr
    assert json.loads(copy.stdout)["rows"]["Execution"] == 3
