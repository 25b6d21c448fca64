"""A small simulated fleet and its report, built once per module."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphlets.analytics import Report, build_report
from graphlets.simulate import SimulationResult, load_profile, simulate
from graphlets.store import MetadataStore


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SimulationResult]:
    path = tmp_path_factory.mktemp("fleet") / "small.sqlite"
    return path, simulate(load_profile("small"), f"sqlite:///{path}")


@pytest.fixture(scope="module")
def report(
    fleet: tuple[Path, SimulationResult], tmp_path_factory: pytest.TempPathFactory
) -> Report:
    path, _ = fleet
    with MetadataStore(f"sqlite:///{path}") as store:
        return build_report(store, tmp_path_factory.mktemp("report") / "out")
