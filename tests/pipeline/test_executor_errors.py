"""An unreachable Dask scheduler is one line (it was 83 lines of traceback), after a short
connect timeout, from the API and from ``graphlets run``."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from graphlets.errors import ExecutorError
from graphlets.pipeline import make_executor
from tests.cli.helpers import BIN, run

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "churn_pipeline.py"


def test_unreachable_scheduler_is_one_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPHLETS_DASK_TIMEOUT", "1")
    started = time.monotonic()
    with pytest.raises(ExecutorError) as err:
        make_executor("dask://127.0.0.1:1")
    msg = str(err.value)
    assert "\n" not in msg and "dask://127.0.0.1:1" in msg and "--executor process" in msg
    assert time.monotonic() - started < 30


def test_graphlets_run_with_unreachable_scheduler_prints_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    assert run("store", "init", "--store", url).exit_code == 0
    env = {**os.environ, "GRAPHLETS_DASK_TIMEOUT": "1"}
    proc = subprocess.run(
        [str(BIN), "run", str(EXAMPLE), "--executor", "dask://127.0.0.1:1", "--store", url],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: Dask scheduler"), proc.stderr
