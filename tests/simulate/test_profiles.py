"""Each profile lands within its documented tolerances (docs/concepts/simulator.md).

The big profiles are checked without writing a store: the expected number of models follows from
the plans of all their pipelines (planning 3000 pipelines takes a fraction of a second), and the
outcome shares from simulating a prefix of the fleet in memory (pipeline ``i`` is the same in every
fleet size, so a prefix is an unbiased sample of the pipelines, not of the heavy tail).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from graphlets.simulate import SimulationResult, expected_models, load_profile, plan_fleet
from graphlets.simulate.causal import OUTCOMES
from graphlets.simulate.timeline import simulate_pipeline

pytestmark = pytest.mark.unit


def _outcomes(name: str, pipelines: int) -> tuple[Counter[str], int]:
    cfg = load_profile(name)
    cfg = cfg.with_(pipelines=min(pipelines, cfg.pipelines))
    counts: Counter[str] = Counter()
    models = 0
    for plan in plan_fleet(cfg):
        tl = simulate_pipeline(cfg, plan)
        codes, n = np.unique(tl.outcome[tl.outcome > 0], return_counts=True)
        counts.update({OUTCOMES[c]: int(k) for c, k in zip(codes, n, strict=True)})
    models = sum(counts[o] for o in ("pushed", "unblessed", "blocked", "failed", "pending"))
    return counts, models


def _unpushed(c: Counter[str]) -> float:
    decided = c["pushed"] + c["unblessed"] + c["blocked"] + c["failed"]
    return 1 - c["pushed"] / decided


@pytest.mark.parametrize("name", ["small", "google-2021-tenth", "google-2021"])
def test_expected_models_within_tolerance(name: str) -> None:
    cfg = load_profile(name)
    plans = plan_fleet(cfg)
    assert len(plans) == cfg.pipelines
    expected = expected_models(cfg, plans)
    assert abs(expected / cfg.expect.models - 1) <= cfg.expect.models_tolerance


def test_fleet_mix_follows_the_profile() -> None:
    cfg = load_profile("google-2021")
    plans = plan_fleet(cfg)
    freq = Counter(p.frequency for p in plans)
    for i, f in enumerate(cfg.frequencies):
        assert abs(freq[i] / len(plans) - f.share) < 0.025, f.name
    life = np.array([p.n_slots * p.period_days for p in plans])
    assert 0.2 < np.mean(life >= cfg.days - 1) < 0.6  # many span the window, many are short
    assert np.median(life) < cfg.days / 1.5
    trainers = Counter(p.trainers for p in plans)
    assert abs(trainers[1] / len(plans) - cfg.topology.trainers[0]) < 0.03
    assert abs(np.mean([p.has_transform for p in plans]) - cfg.topology.p_transform) < 0.03


@pytest.mark.parametrize(("name", "sample"), [("google-2021-tenth", 300), ("google-2021", 400)])
def test_big_profiles_outcomes_on_a_sample(name: str, sample: int) -> None:
    cfg = load_profile(name)
    counts, models = _outcomes(name, sample)
    lo, hi = cfg.expect.unpushed_share
    assert lo <= _unpushed(counts) <= hi
    plans = plan_fleet(cfg.with_(pipelines=sample))
    # the simulation agrees with the planning formula used for the disk check and the tolerance
    assert models == pytest.approx(expected_models(cfg, plans), rel=0.05)
    assert all(counts[o] > 0 for o in ("unblessed", "blocked", "failed", "pending"))


def test_small_profile_written_within_tolerance(
    small_fleet: tuple[Path, SimulationResult],
) -> None:
    _, result = small_fleet
    cfg = load_profile("small")
    assert result.pipelines == cfg.pipelines
    assert abs(result.models / cfg.expect.models - 1) <= cfg.expect.models_tolerance
    o = result.outcomes
    decided = o["pushed"] + o["unblessed"] + o["blocked"] + o["failed"]
    lo, hi = cfg.expect.unpushed_share
    assert lo <= 1 - o["pushed"] / decided <= hi
    # every mechanism shows up even in the small fleet
    causes = {c.split(":")[1] for c in result.causes}
    assert {"new_data", "noise", "pipeline", "drift", "rate_limit", "freeze"} <= causes
