"""Profiles: loading, validation, and the errors that name the key to fix."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from graphlets.errors import InvalidArgumentError, NotFoundError
from graphlets.simulate import load_profile, profile_names
from graphlets.simulate.config import COMPONENTS

pytestmark = pytest.mark.unit


def test_shipped_profiles_load() -> None:
    assert profile_names() == ["google-2021", "google-2021-tenth", "small"]
    full, tenth = load_profile("google-2021"), load_profile("google-2021-tenth")
    assert (full.pipelines, full.days, full.expect.models) == (3000, 120, 450_000)
    assert (tenth.pipelines, tenth.expect.models) == (300, 45_000)
    # The tenth is the full fleet's first 300 pipelines: same mechanics, same seed.
    assert tenth.with_(name=full.name, description=full.description, pipelines=3000,
                       expect=full.expect) == full  # fmt: skip
    assert set(full.costs.seconds) == set(COMPONENTS)
    assert full.start_ms == 1_609_718_400_000  # 2021-01-04T00:00Z
    assert full.end_ms - full.start_ms == 120 * 86_400_000


def test_profile_pickles_for_worker_processes() -> None:
    cfg = load_profile("small")
    assert pickle.loads(pickle.dumps(cfg)) == cfg


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.toml"
    path.write_text(text)
    return path


def _small_text() -> str:
    from importlib import resources

    return (resources.files("graphlets.simulate") / "profiles" / "small.toml").read_text()


def test_profile_by_path(tmp_path: Path) -> None:
    path = _write(tmp_path, _small_text().replace("pipelines = 24", "pipelines = 5"))
    assert load_profile(path).pipelines == 5


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("pipelines = 24", "pipelines = 24\npipelnes = 3", "unknown keys ['pipelnes']"),
        ("pipelines = 24\n", "", "missing key 'pipelines'"),
        ("days = 14", 'days = "two weeks"', "expected float"),
        ("share = 0.05", "share = 0.5", "frequency shares sum to"),
        ("trainers = [0.62, 0.25, 0.13]", "trainers = [0.5, 0.25]", "topology.trainers"),
        ("Pusher = 0.004 }", "Pusher = 0.004, Deployer = 0.1 }", "unknown components ['Deployer']"),
        ("magnitude = [0.3, 1.0]", "magnitude = [0.3]", "expected 2 values"),
    ],
)
def test_bad_profiles_name_the_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    text = _small_text()
    assert old in text
    with pytest.raises(InvalidArgumentError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_profile(_write(tmp_path, text.replace(old, new, 1)))


def test_unknown_profile_lists_the_shipped_ones(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="use one of google-2021, google-2021-tenth, small"):
        load_profile("google-2022")
    with pytest.raises(NotFoundError, match="does not exist"):
        load_profile(tmp_path / "missing.toml")
    with pytest.raises(InvalidArgumentError, match="not valid TOML"):
        load_profile(_write(tmp_path, "name = "))
