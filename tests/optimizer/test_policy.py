"""Thresholds for a budget, chosen from the past, and the freshness / cadence guards."""

from __future__ import annotations

import numpy as np
import pytest

from graphlets.errors import InvalidArgumentError
from graphlets.optimizer.features import HOUR_MS
from graphlets.optimizer.policy import (
    Guards,
    apply_guards,
    budget_threshold,
    check_mode,
    score,
    skip_mask,
    step_thresholds,
)

pytestmark = pytest.mark.unit


def test_budget_threshold_leaves_the_budget_below_it() -> None:
    pushed = np.array([0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6, 1.0])
    assert budget_threshold(pushed, 0.2) == 0.3  # 0.1 and 0.2 fall below: 2 of 10
    assert (pushed < budget_threshold(pushed, 0.25)).mean() <= 0.25
    assert budget_threshold(pushed, 0.0) == float("-inf")
    assert budget_threshold(np.array([]), 0.5) == float("-inf")
    assert budget_threshold(np.array([np.nan, 0.4]), 0.6) == 0.4


def test_step_thresholds_use_only_pushes_known_at_the_step_start() -> None:
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.05])
    label = np.array([1, 1, 1, 1, 1])
    known = np.array([1.0, 2.0, 3.0, 10.0, 11.0])
    step = np.array([0, 0, 0, 1, 1])
    thr = step_thresholds(scores, label, known, step, np.array([0, 5]), budget=0.34)
    # step 0 starts at 0: nothing known yet; step 1 at 5: three pushes known, one may be missed.
    assert thr[0] == float("-inf") and thr[1] == 0.2
    mask = skip_mask(np.array([0.15, 0.25, 0.1, 0.1]), np.array([1, 1, 0, -1]), thr)
    assert mask.tolist() == [True, False, False, False]


def test_cost_aware_score_ranks_expensive_long_shots_first() -> None:
    p = np.array([0.2, 0.2, 0.6, np.nan])
    cost = np.array([100.0, 1.0, 100.0, 5.0])
    s = score(p, cost, "cost", fallback_cost=10.0)
    assert s[0] < s[2] < s[1] and np.isnan(s[3])
    assert score(p, np.full(4, np.nan), "cost", 10.0)[0] == pytest.approx(0.2 / (0.8 * 10))
    np.testing.assert_array_equal(score(p, cost, "probability", 1.0), p)
    with pytest.raises(InvalidArgumentError, match="gate mode"):
        check_mode("greedy")


def _history() -> dict[str, np.ndarray]:
    """One series, a training every 10 hours; rows 0 and 3 pushed (verdict 1 hour later)."""
    t = np.arange(6) * 10 * HOUR_MS
    return {
        "series": np.array(["a"] * 6, dtype=object),
        "t": t.astype(np.float64),
        "known": (t + HOUR_MS).astype(np.float64),
        "label": np.array([1, 0, 0, 1, 0, 0]),
    }


def test_guards_off_change_nothing() -> None:
    h = _history()
    skip = np.array([False, True, True, True, True, True])
    out = apply_guards(skip, h["series"], h["t"], h["known"], h["label"], Guards())
    assert out.tolist() == skip.tolist()


def test_freshness_guard_runs_when_the_production_model_is_too_old() -> None:
    h = _history()
    skip = np.array([False, True, True, True, True, True])
    out = apply_guards(skip, h["series"], h["t"], h["known"], h["label"], Guards(15.0, None))
    # Row 1 comes 9h after the push of row 0: skipped. Row 2 at 19h: too old, runs (but does
    # not push); row 3 runs for the same reason and pushes; row 4 is 9h after it: skipped.
    assert out.tolist() == [False, True, False, False, True, False]


def test_cadence_guard_runs_after_too_many_trainings_without_a_push() -> None:
    h = _history()
    skip = np.array([False, True, True, True, True, True])
    out = apply_guards(skip, h["series"], h["t"], h["known"], h["label"], Guards(None, 2))
    # After row 0's push: row 1 skipped (1 since), row 2 skipped (2 since) -> row 3 must run and
    # pushes; rows 4, 5 skipped again.
    assert out.tolist() == [False, True, True, False, True, True]
    tight = apply_guards(skip, h["series"], h["t"], h["known"], h["label"], Guards(None, 1))
    assert tight.tolist() == [False, True, False, False, True, False]
