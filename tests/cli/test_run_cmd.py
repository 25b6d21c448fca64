"""``graphlets run|resume|runs ls|show|diff`` through the CLI (in process, and one real kill -9)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from graphlets.cli import run_cmd
from graphlets.store import MetadataStore
from tests.pipeline.helpers import CHAIN, write_source

app = typer.Typer()
app.registered_commands.extend(run_cmd.app.registered_commands)
app.add_typer(run_cmd.runs_app, name="runs")
cli = CliRunner()

FILES = """
from pathlib import Path
from graphlets.pipeline import Examples, Output, Pipeline, component


@component
def ingest(span: int, span_path: Path | None, examples: Output[Examples]) -> None:
    examples.write_bytes(span_path.read_bytes() if span_path else b"none")


pipeline = Pipeline("files", [ingest], spans="data/day-{span}.csv")
"""


def invoke(*args: str) -> Result:
    return cli.invoke(app, [str(a) for a in args])


def as_json(res: Result) -> Any:
    return json.loads(res.stdout)


@pytest.fixture
def url(tmp_path: Path) -> str:
    u = f"sqlite:///{tmp_path / 'store.sqlite'}"
    MetadataStore(u, create=True).close()
    return u


def _chain_file(tmp_path: Path, **constants: Any) -> Path:
    source = CHAIN
    for key, value in constants.items():
        source = source.replace(f"{key} = -1", f"{key} = {value!r}")
    return write_source(tmp_path, source)


def test_backfill_json(tmp_path: Path, url: str) -> None:
    res = invoke("run", _chain_file(tmp_path), "--spans", "1..3", "--store", url, "--json")
    assert res.exit_code == 0, res.stderr
    doc = as_json(res)
    assert [r["span"] for r in doc["runs"]] == ["1", "2", "3"]
    assert {r["state"] for r in doc["runs"]} == {"COMPLETE"}
    assert doc["runs"][1]["nodes"]["push"]["state"] == "COMPLETE"
    assert doc["runs"][0]["nodes"]["push"]["skip_reason"].startswith("condition not met")


def test_failure_exits_1_with_a_headline_then_resume(tmp_path: Path, url: str) -> None:
    path = _chain_file(tmp_path, FAIL_ON=2)
    res = invoke(
        "run", path, "--spans", "1..3", "--param", "train.epochs=7", "--store", url, "--json"
    )
    assert res.exit_code == 1
    doc = as_json(res)
    assert [r["state"] for r in doc["runs"]] == ["COMPLETE", "FAILED"]  # stops at the failure
    failed = doc["runs"][1]["run"]
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1
    assert "train failed: ValueError: bad span 2" in errors[0]
    assert f"graphlets resume {failed}" in errors[0]
    assert "Traceback" not in res.stderr
    path.write_text(CHAIN)  # fix the bug
    res = invoke("resume", failed, "--store", url, "--json")
    assert res.exit_code == 0, res.stderr
    nodes = as_json(res)["runs"][0]["nodes"]
    assert nodes["train"]["state"] == "COMPLETE" and nodes["ingest"]["state"] == "COMPLETE"
    with MetadataStore(url) as store:  # the resumed step ran with the run's --param, as an int
        [train] = store.get_executions_by_id([int(nodes["train"]["execution"].split(":")[1])])
        assert train.custom_properties["param.epochs"] == 7
    res = invoke("resume", failed, "--store", url)
    assert res.exit_code == 1 and "already COMPLETE" in res.stderr


def test_runs_ls_show_diff(tmp_path: Path, url: str) -> None:
    path = _chain_file(tmp_path)
    assert invoke("run", path, "--spans", "2", "--store", url).exit_code == 0
    res = invoke("run", path, "--spans", "2", "--param", "train.epochs=7", "--store", url)
    assert res.exit_code == 0, res.stderr
    runs = as_json(invoke("runs", "ls", "--store", url, "--json"))["runs"]
    assert len(runs) == 2 and runs[0]["pipeline"] == "chain"
    newest, oldest = runs[0]["run"], runs[1]["run"]
    shown = as_json(invoke("runs", "show", newest, "--store", url, "--json"))
    assert {e["node"]: e["state"] for e in shown["executions"]}["train"] == "COMPLETE"
    diff = as_json(invoke("runs", "diff", oldest, newest, "--store", url, "--json"))
    assert diff["nodes"]["train"]["params"] == {"epochs": [3, 7]}
    text = invoke("runs", "diff", oldest, newest, "--store", url).stdout
    assert "train params: epochs: 3 -> 7" in text
    table = invoke("runs", "ls", "--store", url).stdout
    assert newest in table and "COMPLETE" in table
    show = invoke("runs", "show", newest, "--store", url).stdout
    assert "condition not met" in show or "push" in show
    bad = invoke("runs", "show", "run:999", "--store", url)
    assert bad.exit_code == 1 and "graphlets runs ls" in bad.stderr


def test_follow_and_every_are_bounded(tmp_path: Path, url: str) -> None:
    path = write_source(tmp_path, FILES)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for n in (1, 2, 3):
        (inbox / f"day-{n}.csv").write_text(str(n))
    res = invoke(
        "run",
        path,
        "--follow",
        inbox,
        "--poll",
        "0.1s",
        "--max-runs",
        "2",
        "--store",
        url,
        "--json",
    )
    assert res.exit_code == 0, res.stderr
    assert [r["span"] for r in as_json(res)["runs"]] == ["1", "2"]
    res = invoke(
        "run", path, "--every", "0.1s", "--max-runs", "2", "--data", inbox, "--store", url, "--json"
    )
    assert res.exit_code == 0, res.stderr
    assert [r["span"] for r in as_json(res)["runs"]] == ["3", "3"]


def test_usage_errors(tmp_path: Path, url: str) -> None:
    path = _chain_file(tmp_path)
    res = invoke("run", path, "--spans", "1", "--every", "1s", "--store", url)
    assert res.exit_code == 1 and "one of --spans, --follow and --every" in res.stderr
    res = invoke("run", path, "--no-cache-for", "nope", "--store", url)
    assert res.exit_code == 1 and "no such component" in res.stderr
    res = invoke("run", path, "--param", "epochs", "--store", url)
    assert res.exit_code == 1 and "NAME=VALUE" in res.stderr
    res = invoke("run", path, "--store", f"sqlite:///{tmp_path / 'none.sqlite'}")
    assert res.exit_code == 1 and "store init" in res.stderr
    res = invoke("run", tmp_path / "missing.py", "--store", url)
    assert res.exit_code == 1 and "does not exist" in res.stderr


def test_no_cache_flags(tmp_path: Path, url: str) -> None:
    path = _chain_file(tmp_path)
    assert invoke("run", path, "--spans", "2", "--store", url).exit_code == 0
    res = invoke("run", path, "--spans", "2", "--no-cache-for", "train", "--store", url, "--json")
    nodes = as_json(res)["runs"][0]["nodes"]
    assert nodes["ingest"]["state"] == "CACHED" and nodes["train"]["state"] == "COMPLETE"
    res = invoke("run", path, "--spans", "2", "--no-cache", "--store", url, "--json")
    assert as_json(res)["runs"][0]["counts"] == {"COMPLETE": 5}


@pytest.mark.integration
def test_kill_9_the_cli_then_resume(tmp_path: Path, url: str) -> None:
    path = _chain_file(tmp_path, SLEEP=0.3)
    path.write_text(path.read_text().replace("SLEEP = 0.0", "SLEEP = 0.3"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [
        sys.executable,
        "-m",
        "graphlets.cli.run_cmd",
        "run",
        str(path),
        "--spans",
        "1..3",
        "--store",
        url,
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    with MetadataStore(url) as store:  # kill once the second step is running
        while time.monotonic() < deadline and store.count("execution") < 2:
            time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    runs = as_json(invoke("runs", "ls", "--store", url, "--json"))["runs"]
    assert runs[0]["state"] == "STALE"
    res = invoke("resume", runs[0]["run"], "--store", url, "--json")
    assert res.exit_code == 0, res.stderr
    doc = as_json(res)["runs"][0]
    assert doc["state"] == "COMPLETE" and doc["nodes"]["ingest"]["state"] == "COMPLETE"
    runs = as_json(invoke("runs", "ls", "--store", url, "--json"))["runs"]
    assert runs[0]["state"] == "COMPLETE"
    shown = as_json(invoke("runs", "show", runs[0]["run"], "--store", url, "--json"))
    failed = [e for e in shown["executions"] if e["state"] == "FAILED"]
    assert failed and "stopped before this finished" in failed[0]["error"]


HELD = """
import time
from pathlib import Path
from graphlets.pipeline import Examples, Output, Pipeline, component


@component
def ingest(span: int, span_path: Path | None, examples: Output[Examples]) -> dict:
    if span_path is None:
        raise FileNotFoundError(f"no file for span {span}")
    while (span_path.parent / "hold").exists():  # the test holds ingest here, then kills it
        time.sleep(0.05)
    examples.write_bytes(span_path.read_bytes())
    return {"size": len(span_path.read_bytes())}


pipeline = Pipeline("held", [ingest], spans="default-data/day-{span}.csv")
"""


def _data(folder: Path, span: int, size: int, hold: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"day-{span}.csv").write_bytes(b"x" * size)
    if hold:
        (folder / "hold").touch()
    return folder


def _ingest_size(url: str, run: str) -> Any:
    shown = as_json(invoke("runs", "show", run, "--store", url, "--json"))
    [done] = [e for e in shown["executions"] if e["state"] == "COMPLETE"]
    return done["metrics"]["size"]


def test_resume_a_run_with_data_killed_during_ingest(tmp_path: Path, url: str) -> None:
    path = write_source(tmp_path, HELD)
    data = _data(tmp_path / "elsewhere", 1, 17, hold=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, "-m", "graphlets.cli.run_cmd", "run", str(path), "--spans", "1"]
    cmd += ["--data", str(data), "--store", url]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    with MetadataStore(url) as store:  # ingest is RUNNING (held): kill the runner
        while time.monotonic() < deadline and store.count("execution") < 1:
            time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    [run] = as_json(invoke("runs", "ls", "--store", url, "--json"))["runs"]
    assert run["state"] == "STALE" and run["data_folder"] == str(data.resolve())
    (data / "hold").unlink()
    res = invoke("resume", run["run"], "--store", url, "--json")  # the recorded folder
    assert res.exit_code == 0, res.stderr
    assert as_json(res)["runs"][0]["state"] == "COMPLETE"
    assert _ingest_size(url, run["run"]) == 17
    shown = as_json(invoke("runs", "show", run["run"], "--store", url, "--json"))
    assert shown["state"] == "COMPLETE" and shown["error"] is None
    assert "stopped before this finished" in shown["previous_error"] and shown["resumes"] == 1
    text = invoke("runs", "show", run["run"], "--store", url).stdout
    assert "previous attempt failed: runner" in text and "  error:" not in text


def test_resume_takes_data_to_override_the_recorded_folder(tmp_path: Path, url: str) -> None:
    path = write_source(tmp_path, HELD)
    first = _data(tmp_path / "first", 1, 5)  # no file for span 2 here: ingest fails
    res = invoke("run", path, "--spans", "2", "--data", first, "--store", url, "--json")
    assert res.exit_code == 1 and "no file for span 2" in res.stdout
    run = as_json(res)["runs"][0]["run"]
    shown = as_json(invoke("runs", "show", run, "--store", url, "--json"))
    assert shown["data_folder"] == str(first.resolve()) and shown["previous_error"] is None
    moved = _data(tmp_path / "moved", 2, 23)
    res = invoke("resume", run, "--data", moved, "--store", url, "--json")
    assert res.exit_code == 0, res.stderr
    assert _ingest_size(url, run) == 23
    shown = as_json(invoke("runs", "show", run, "--store", url, "--json"))
    assert shown["error"] is None and "no file for span 2" in shown["previous_error"]
