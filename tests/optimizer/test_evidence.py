"""When the gate may act: the evidence rules on hand-made scores, then on replays of simulated
traces (it abstains on a short history, acts on a long one, and holds its budget)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy.stats import binom

from graphlets.optimizer.evidence import (
    Evidence,
    adjusted_level,
    binomial_tail,
    conformal_threshold,
    gate_steps,
    needed_pushes,
    over_budget,
)
from graphlets.optimizer.replay import ReplayConfig, evaluate_history
from graphlets.optimizer.trace import History, load_history
from graphlets.simulate import load_profile, simulate
from graphlets.store import MetadataStore

pytestmark = pytest.mark.unit
QUICK = {"baselines": False, "oracle": False}


def test_a_threshold_needs_enough_pushes_for_its_level() -> None:
    scores = np.arange(1.0, 49.0)  # 48 pushes: 1/49 > 2%, no rank qualifies
    assert needed_pushes(0.02) == 49
    assert conformal_threshold(scores, 0.02) is None
    assert conformal_threshold(np.arange(1.0, 50.0), 0.02) == 1.0  # skip strictly below the min
    assert conformal_threshold(np.arange(1.0, 100.0), 0.02) == 2.0  # 99 pushes: 2 / 100
    # Exchangeable scores: a new push falls under the threshold at most `level` of the time.
    rng = np.random.default_rng(0)
    hits = [
        rng.random() < (conformal_threshold(rng.random(200), 0.05) or -1.0) for _ in range(4000)
    ]
    assert np.mean(hits) <= 0.05 + 0.01


def test_backtest_statistics() -> None:
    for k, n, q in [(3, 50, 0.02), (40, 2000, 0.02), (1, 10, 0.3)]:
        assert binomial_tail(k, n, q) == pytest.approx(binom.sf(k - 1, n, q), rel=1e-9)
    assert not over_budget(2, 100, 0.02, 0.05)  # 2% of 100: as budgeted
    assert over_budget(8, 100, 0.02, 0.05)  # 8%: not chance
    assert adjusted_level(0.02, 1, 100) == 0.02
    assert adjusted_level(0.02, 4, 100) == pytest.approx(0.01)  # ran at 4%: halve the level


def _steps(n_per_step: int, steps: int, pipelines: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Rows in daily steps, every other one pushed, outcomes known an hour after the start."""
    rng = np.random.default_rng(seed)
    n = n_per_step * steps
    step = np.repeat(np.arange(steps), n_per_step)
    t = step * 24 + rng.random(n) * 20
    return {
        "ranking": rng.random(n),
        "label": (np.arange(n) // pipelines % 2).astype(np.int64),
        "known": t + 1,
        "step": step,
        "step_start": np.arange(steps) * 24.0,
        "pipeline": np.arange(n) % pipelines,
    }


def test_counts_gate_each_pipeline_and_say_why() -> None:
    a = _steps(n_per_step=40, steps=12, pipelines=2)
    gate = gate_steps(**a, budget=0.05, ev=Evidence(min_trainings=100, min_pushes=10))
    first = gate.reasons[a["step"] == 1]
    assert set(first) == {"abstained: 20 trainings, needs 100"}
    assert not gate.eligible[a["step"] < 5].any()  # 100 trainings of each known by step 5
    assert gate.eligible[a["step"] >= 8].all()
    assert np.isfinite(gate.row_thresholds[a["step"] >= 8]).all()


def test_a_pipeline_whose_backtest_runs_over_budget_abstains() -> None:
    a = _steps(n_per_step=60, steps=12, pipelines=2, seed=1)
    # Pipeline 1's pushes score lowest of all from step 4 on: its past decisions miss them.
    late = (a["pipeline"] == 1) & (a["step"] >= 4) & (a["label"] == 1)
    a["ranking"] = np.where(late, -1.0, a["ranking"])
    gate = gate_steps(**a, budget=0.05, ev=Evidence(min_trainings=0, min_pushes=0))
    last = a["step"] == 11
    reasons = set(gate.reasons[last & (a["pipeline"] == 1)])
    assert len(reasons) == 1 and "its past decisions would have missed" in reasons.pop()
    assert gate.eligible[last & (a["pipeline"] == 0)].all()


def test_a_shift_in_scores_within_a_step_stops_the_gate() -> None:
    """Step 10's trainings of pipeline 0 all score far under anything seen before: after a few
    of them (none of their outcomes known yet) the gate stops skipping for the rest of it."""
    a = _steps(n_per_step=60, steps=12, pipelines=2, seed=2)
    shifted = (a["pipeline"] == 0) & (a["step"] == 10)
    a["ranking"] = np.where(shifted, -1.0, a["ranking"])
    ev = Evidence(min_trainings=0, min_pushes=0)
    gate = gate_steps(**a, budget=0.05, ev=ev)
    rows = np.flatnonzero(shifted)
    acted = int(gate.eligible[rows].sum())
    assert 1 <= acted <= 5 and not gate.eligible[rows[acted:]].any()
    assert "its scores shifted" in str(gate.reasons[rows[-1]])
    assert gate.eligible[(a["pipeline"] == 1) & (a["step"] == 10)].all()
    off = gate_steps(**a, budget=0.05, ev=Evidence(min_trainings=0, min_pushes=0, shift_alpha=0))
    assert off.eligible[rows].all()


def _shortened(h: History, n: int) -> History:
    """The first ``n`` trainings of the pipeline with the most."""
    top = h.decisions.group_by("pipeline").len().sort("len")["pipeline"][-1]
    d = h.decisions.filter(pl.col("pipeline") == top).sort("t").head(n)
    return History(d, h.executions, h.payloads)


def test_replay_abstains_on_a_30_run_history(small_history: History) -> None:
    report = evaluate_history(_shortened(small_history, 30), ReplayConfig(**QUICK))
    assert report["abstained"] is True and report["skipped"] == 0
    assert report["pushes_missed_fraction"] == 0.0 and report["waste_saved_fraction"] == 0.0
    assert report["abstention_reason"].startswith("abstained: ")
    assert report["abstention_reason"].endswith("trainings, needs 100")
    [entry] = report["abstentions"]
    assert entry["trainings"] == entry["of"] == report["period"]["graphlets"]


def test_replay_acts_on_a_long_history(small_history: History) -> None:
    """The small profile's hourly pipeline has 300 trainings: enough for the gate to act."""
    report = evaluate_history(small_history, ReplayConfig(**QUICK))
    assert report["abstained"] is False and report["abstention_reason"] is None
    assert report["skipped"] > 0 and report["avoidable_waste_saved_fraction"] > 0
    assert report["pushes_missed_fraction"] <= 0.02 + 0.005
    assert report["abstained_trainings"] < report["period"]["graphlets"]


@pytest.fixture(scope="module")
def other_traces(tmp_path_factory: pytest.TempPathFactory) -> list[History]:
    """The small profile with two other seeds (a few seconds each)."""
    out = []
    for seed in (1, 7):
        path = tmp_path_factory.mktemp("evidence") / f"small-{seed}.sqlite"
        simulate(load_profile("small").with_(seed=seed), f"sqlite:///{path}")
        with MetadataStore(f"sqlite:///{Path(path)}") as store:
            out.append(load_history(store))
    return out


def test_budget_held_on_three_traces(small_history: History, other_traces: list[History]) -> None:
    """On every trace, at the operating point and along the budget sweep, the realised share
    of pushes missed exceeds the budget by at most half a point; each trace acts somewhere."""
    for h in (small_history, *other_traces):
        report = evaluate_history(h, ReplayConfig(**QUICK))
        assert not report["abstained"]
        assert report["pushes_missed_fraction"] <= report["max_pushes_missed"] + 0.005
        for point in report["budget_sweep"]:
            assert point["pushes_missed_fraction"] <= point["budget"] + 0.005, point
