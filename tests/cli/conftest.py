"""CLI fixtures: stores created through ``graphlets store init``, empty or holding a known graph."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.helpers import build_graph, run


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    assert run("store", "init", "--store", url).exit_code == 0
    return url


@pytest.fixture(
    params=[
        pytest.param("sqlite-file", marks=pytest.mark.unit),
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
def graph(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, dict[str, int]]]:
    """A populated store on SQLite and on PostgreSQL, created through ``store init``."""
    if request.param == "sqlite-file":
        url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    else:
        url = request.getfixturevalue("pg_url")
    res = run("store", "init", "--store", url)
    assert res.exit_code == 0, res.stderr
    yield url, build_graph(url)
