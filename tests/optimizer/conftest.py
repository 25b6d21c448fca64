"""A small simulated fleet and its decision history, made once per test session (a few seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphlets.optimizer.trace import History, load_history
from graphlets.simulate import load_profile, simulate
from graphlets.store import MetadataStore


@pytest.fixture(scope="session")
def small_trace(tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of the ``small`` simulated profile (24 pipelines, 14 days) in a SQLite file."""
    path = tmp_path_factory.mktemp("optimizer") / "small.sqlite"
    url = f"sqlite:///{path}"
    simulate(load_profile("small"), url)
    return url


@pytest.fixture(scope="session")
def small_history(small_trace: str) -> History:
    """The decision history of :func:`small_trace`, with the simulator's latent causes."""
    with MetadataStore(small_trace) as store:
        return load_history(store, latent=True)


@pytest.fixture
def small_path(small_trace: str) -> Path:
    """The SQLite file behind :func:`small_trace`."""
    return Path(small_trace.removeprefix("sqlite:///"))
