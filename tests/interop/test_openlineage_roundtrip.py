"""The churn example run with the OpenLineage emitter into a receiving ``graphlets ui`` (a real
uvicorn subprocess) gives the same graphlets, outcomes and waste as the runs recorded directly.

Both stores are analysed by the same segmentation code, so the test holds whatever the graphlet
rules are; what it checks is that the trip through OpenLineage loses nothing the analysis reads.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from graphlets.interop.openlineage_emit import OpenLineageEmitter
from graphlets.lineage import segment_store
from graphlets.pipeline import Runner, load_pipeline
from graphlets.plugins import get_plugin_manager
from graphlets.store import MetadataStore

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "churn_pipeline.py"
TOKEN = "round-trip-token"
SPANS = int(os.environ.get("GRAPHLETS_ROUNDTRIP_SPANS", "7"))
# A strict evaluator, so some models are not pushed and there is waste to compare.
PARAMS = {"train.epochs": 3, "evaluate.min_accuracy": 0.85}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def ui_receiver(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``graphlets ui`` over a fresh SQLite store, as a subprocess with a token: (url, store)."""
    store = f"sqlite:///{tmp_path / 'received.sqlite'}"
    MetadataStore(store, create=True).close()
    env = {**os.environ, "GRAPHLETS_TOKEN": TOKEN, "GRAPHLETS_HOME": str(tmp_path / "home")}
    for _ in range(3):  # a free port may be taken by another process before uvicorn binds it
        port = _free_port()
        cmd = [sys.executable, "-m", "graphlets", "ui", "--store", store, "--port", str(port)]
        log = (tmp_path / f"ui-{port}.log").open("wb")
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            if _wait_until_up(url, proc):
                yield url, store
                return
        finally:
            _stop(proc)
            log.close()
    raise RuntimeError(f"graphlets ui did not start: {log.name}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _wait_until_up(url: str, proc: subprocess.Popen[bytes]) -> bool:
    """True once the server answers; False if it exited (e.g. the port was taken)."""
    deadline = time.monotonic() + 180  # a loaded CI machine imports slowly
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if requests.get(f"{url}/api/pipelines", timeout=5).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.2)
    return False


def _headline(summary: dict[str, Any]) -> dict[str, Any]:
    keys = ("graphlets", "pushed", "unpushed", "failed", "pending")
    return {k: summary[k] for k in keys}


def test_churn_runs_keep_graphlets_outcomes_and_waste_through_openlineage(
    ui_receiver: tuple[str, str], tmp_path: Path
) -> None:
    url, received = ui_receiver
    data = tmp_path / "data"
    subprocess.run(
        [
            sys.executable,
            str(EXAMPLE),
            "make-data",
            str(data),
            "--days",
            str(SPANS),
            "--rows",
            "60",
        ],
        check=True,
        capture_output=True,
    )
    pipeline = load_pipeline(EXAMPLE)
    assert pipeline.spans is not None
    pipeline.spans = pipeline.spans.in_folder(data)
    emitter = OpenLineageEmitter(url, api_key=TOKEN, namespace="roundtrip")
    hooks = get_plugin_manager([emitter], entry_points=False)
    direct = f"sqlite:///{tmp_path / 'direct.sqlite'}"
    with MetadataStore(direct, create=True) as st:
        runner = Runner(st, pipeline.with_params(PARAMS), blobs=str(tmp_path / "b"), hooks=hooks)
        with runner:
            results = [runner.run(span) for span in (*range(1, SPANS + 1), SPANS)]
        assert all(r.ok for r in results), [r.error for r in results]
        executions = st.count("execution")
        cached = [e for e in st.get_executions() if e.last_known_state.name == "CACHED"]
    assert cached, "the repeated span is served from the cache"
    assert emitter.failed == 0 and emitter.sent >= executions
    with MetadataStore(direct) as st:
        want = segment_store(st).summary
        want_states = Counter(e.last_known_state.name for e in st.get_executions())
    with MetadataStore(received) as st:
        got = segment_store(st).summary
        got_states = Counter(e.last_known_state.name for e in st.get_executions())
    assert got_states == want_states, "CACHED and CANCELED (skipped pushes) arrive as such"
    assert want["pushed"] > 0 and want["unpushed"] > 0 and want["waste_cost"] > 0, want
    assert _headline(got) == _headline(want)
    assert got["waste_cost"] == pytest.approx(want["waste_cost"], rel=0.01)
    assert got["total_cost"] == pytest.approx(want["total_cost"], rel=0.01)
    assert got["cost_source"] == want["cost_source"]
