"""One pipeline's life: the rules of the simulated runs and the causal model behind outcomes."""

from __future__ import annotations

import numpy as np
import pytest

from graphlets.simulate import load_profile, plan_fleet
from graphlets.simulate.causal import CAUSE, OUTCOME, TERMS, explain, score_terms
from graphlets.simulate.timeline import (
    CACHED,
    COMPLETE,
    EG,
    EVAL,
    FAILED,
    INFRA,
    NONE,
    PUSH,
    TRAIN,
    Timeline,
    col,
    simulate_pipeline,
)

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def timelines() -> list[Timeline]:
    cfg = load_profile("google-2021").with_(pipelines=120)
    return [simulate_pipeline(cfg, p) for p in plan_fleet(cfg)]


def test_same_seed_same_timeline() -> None:
    cfg = load_profile("small")
    plan = plan_fleet(cfg)[3]
    a, b = simulate_pipeline(cfg, plan), simulate_pipeline(cfg, plan)
    assert np.array_equal(a.state, b.state) and np.array_equal(a.pushed, b.pushed)
    other = simulate_pipeline(cfg.with_(seed=cfg.seed + 1), plan)
    assert not np.array_equal(a.draws.t, other.draws.t)


def test_runs_stop_at_the_first_failure(timelines: list[Timeline]) -> None:
    for tl in timelines:
        up = tl.state[:, : col(0, TRAIN)]
        failed = up == FAILED
        first = np.where(failed.any(axis=1), failed.argmax(axis=1), tl.state.shape[1])
        after = np.arange(tl.state.shape[1])[None, :] > first[:, None]
        assert (tl.state[after] == NONE).all()


def test_trainer_chains(timelines: list[Timeline]) -> None:
    for tl in timelines:
        for j in range(tl.plan.trainers):
            tr, ev, infra, push = (tl.state[:, col(j, s)] for s in (TRAIN, EVAL, INFRA, PUSH))
            assert ((ev != NONE) <= (tr == COMPLETE)).all()
            assert ((push != NONE) <= (ev == COMPLETE)).all()
            if not tl.plan.has_infra:
                assert (infra == NONE).all()
            # a cache hit only when no new span arrived
            assert not (tl.draws.new_span & (tr == CACHED)).any()
            pushed = tl.pushed[:, j] == 1
            assert (tl.blessed[pushed, j] == 1).all() and (push[pushed] == COMPLETE).all()
            out = tl.outcome[:, j]
            assert (
                (out == OUTCOME["unblessed"]) == ((tl.blessed[:, j] == 0) & (push == COMPLETE))
            ).all()
            assert ((out == OUTCOME["pushed"]) == pushed).all()
            pending = np.flatnonzero(out == OUTCOME["pending"])
            assert all(r == tl.runs - 1 and tl.plan.alive_at_end for r in pending)


def test_examplegen_makes_spans_in_order(timelines: list[Timeline]) -> None:
    for tl in timelines:
        d = tl.draws
        assert ((tl.state[:, EG] == COMPLETE) == d.new_span).all()
        assert (np.diff(d.ex_span) > 0).all()
        assert (d.win_hi - d.win_lo + 1 <= tl.plan.window).all()


def test_score_terms_and_causes() -> None:
    c = load_profile("google-2021").causal
    fresh = score_terms(c, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, False, 0.0)
    stale = score_terms(c, 0.0, 1 / 24, 0.0, 0.0, 0.0, 0.0, False, 0.0)
    assert sum(fresh) > 0 > sum(stale)
    assert TERMS[explain(stale, False) - 1] == "new_data"
    early = score_terms(c, 0.0, 0.5, 0.9, 0.1, 0.0, 0.0, False, 0.0)
    late = score_terms(c, 0.0, 0.5, 0.9, 0.9, 0.0, 0.0, False, 0.0)
    assert sum(early) < 0 < sum(late)  # drift hurts, then the adapted model beats production
    assert explain(early, False) == CAUSE["drift"] and explain(late, True) == CAUSE["drift"]
    broke = score_terms(c, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0, True, 0.0)
    assert explain(broke, False) == CAUSE["structure_change"]


def test_causes_explain_outcomes(timelines: list[Timeline]) -> None:
    """The latent causes move blessing the documented way, over many trainings."""
    within: list[float] = []  # new data helps, compared inside one trainer (pipelines differ)
    for tl in timelines:
        assert ((tl.score > 0) == (tl.blessed == 1))[tl.blessed >= 0].all()
        for j in range(tl.plan.trainers):
            m = tl.blessed[:, j] >= 0
            f, b = tl.new_fraction[m, j], tl.blessed[m, j]
            fresh, stale = b[f >= 0.5], b[f < 0.2]
            if len(fresh) >= 5 and len(stale) >= 5:
                within.append(fresh.mean() - stale.mean())
    assert len(within) > 20 and np.mean(within) > 0.1
    drifting = np.concatenate(
        [tl.blessed[(tl.draws.drift > 0)[:, None] & (tl.blessed >= 0)] for tl in timelines]
    )
    assert 0.0 < drifting.mean() < 1.0
