"""``graphlets ui``: serves the app on 127.0.0.1 by default; a bad store fails in one line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from graphlets.cli.ui_cmd import allowed_hosts, app
from graphlets.store import MetadataStore

pytestmark = pytest.mark.unit


def test_a_missing_store_is_one_line_and_exit_1(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["--store", f"sqlite:///{tmp_path / 'none.sqlite'}"])
    assert res.exit_code == 1
    assert res.output.count("\n") == 1 and "error:" in res.output


def test_loopback_binds_check_the_host_header() -> None:
    assert allowed_hosts("127.0.0.1") == ["127.0.0.1", "localhost"]
    assert allowed_hosts("127.0.0.2") == ["127.0.0.1", "localhost", "127.0.0.2"]
    assert allowed_hosts("localhost") is not None
    assert allowed_hosts("0.0.0.0") is None
    assert allowed_hosts("::1") is None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_ui_serves_pages_and_refuses_other_hosts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    MetadataStore(url, create=True).close()
    port = _free_port()
    env = {**os.environ, "GRAPHLETS_TOKEN": ""}
    code = "from graphlets.cli.ui_cmd import app; app()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "--store", url, "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(base + "/api/pipelines", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(f"ui did not start: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
                time.sleep(0.1)
        assert r.status_code == 200 and r.json()["pipelines"] == []
        assert "Pipelines" in httpx.get(base + "/", timeout=5).text
        evil = httpx.get(base + "/", headers={"Host": "evil.example"}, timeout=5)
        assert evil.status_code == 400
        assert httpx.post(base + "/api/v1/lineage", json={}, timeout=5).status_code == 403
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=15)
    assert f"http://127.0.0.1:{port}/" in err.decode()
    assert "read-only" in err.decode()
