"""A small simulated fleet, written once per module (about a second)."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphlets.simulate import SimulationResult, load_profile, simulate


@pytest.fixture(scope="module")
def small_fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SimulationResult]:
    """The ``small`` profile written to a SQLite file."""
    path = tmp_path_factory.mktemp("fleet") / "small.sqlite"
    return path, simulate(load_profile("small"), f"sqlite:///{path}")
