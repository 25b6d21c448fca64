"""The web API's expected errors are 4xx/503 with a one-line ``detail``: a store damaged or
locked while serving, odd ids and filters."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from graphlets.store import engine
from graphlets.web.app import create_app
from tests.store.test_db_errors import populated, scramble


def _detail(res: object) -> str:
    detail = res.json()["detail"]  # type: ignore[attr-defined]
    assert isinstance(detail, str) and "\n" not in detail
    return detail


def test_store_damaged_while_serving_is_503(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    url = populated(path)
    app = create_app(url)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/api/executions").status_code == 200
        scramble(path)
        app.state.ctx.store.engine.dispose()  # forget pages cached by pooled connections
        for page in ("/api/executions", "/api/artifacts", "/api/executions/1"):
            res = client.get(page)
            assert res.status_code == 503, (page, res.text[:300])
            assert str(path) in _detail(res)
        assert client.get("/executions").status_code == 503  # the HTML twin too


def test_store_locked_while_serving_is_503(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 200)
    path = tmp_path / "store.sqlite"
    url = populated(path, n=100)
    app = create_app(url)
    with TestClient(app, raise_server_exceptions=False) as client:
        app.state.ctx.store.engine.dispose()
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE artifact SET uri = uri")
        try:
            res = client.get("/api/artifacts")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert res.status_code == 503 and "locked" in _detail(res)


@pytest.mark.parametrize(
    "page",
    [
        "/api/lineage?start=artifact:9223372036854775808",
        "/api/lineage?start=artifact:%EF%BC%91",
        "/api/artifacts?filter=" + "(" * 1500,
        "/api/executions?filter=" + "NOT%20" * 300 + "id%3D1",
        "/api/executions?filter=id%20%3D%2099999999999999999999",
        "/api/artifacts?filter=uri%20%3D%20%27a%00%27",
    ],
)
def test_odd_ids_and_filters_are_4xx(tmp_path: Path, page: str) -> None:
    url = populated(tmp_path / "store.sqlite", n=100)
    with TestClient(create_app(url), raise_server_exceptions=False) as client:
        res = client.get(page)
    assert 400 <= res.status_code < 500, res.text[:300]
