"""Which trainings to skip: a score, a threshold chosen from the past, and two guards.

Two scores rank trainings from "skip first" to "run first":

* ``probability``: the calibrated push probability ``p``; skip when ``p < threshold``.
* ``cost``: expected pushes missed per unit of compute saved, ``p / ((1 - p) * cost)``, with
  ``cost`` the series' recent cost per training (known before it runs). At the same number of
  missed pushes this skips expensive long shots before cheap ones, which is what a compute budget
  wants: a cheap training is worth running at lower odds.

The threshold for a budget of missed pushes ``b`` is chosen at the start of each step from the
trainings *already known to have pushed*: the score below which a fraction ``b`` of their
out-of-sample scores fell. The guards override a skip: freshness (the production model is older
than ``max_staleness_hours``) and cadence (``max_trainings_without_push`` trainings since the last
push, skipped ones included).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Literal

import numpy as np

from graphlets.errors import InvalidArgumentError
from graphlets.optimizer.features import HOUR_MS

Mode = Literal["probability", "cost"]
MODES: tuple[Mode, ...] = ("probability", "cost")


@dataclass(frozen=True)
class Guards:
    """Reasons to run a training the predictor would skip (None: guard off)."""

    max_staleness_hours: float | None = None
    max_trainings_without_push: int | None = None

    @property
    def active(self) -> bool:
        """True when at least one guard is on."""
        return self.max_staleness_hours is not None or self.max_trainings_without_push is not None


def check_mode(mode: str) -> Mode:
    """``mode`` if it is one of :data:`MODES`."""
    if mode not in MODES:
        raise InvalidArgumentError(f"gate mode {mode!r} is unknown: use one of {', '.join(MODES)}")
    return mode  # type: ignore[return-value,unused-ignore]


def score(p: np.ndarray, cost_est: np.ndarray, mode: Mode, fallback_cost: float) -> np.ndarray:
    """The ranking score (lower = skip first) of each row."""
    if mode == "probability":
        return p
    cost = np.where(np.isfinite(cost_est) & (cost_est > 0), cost_est, fallback_cost)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = p / np.maximum((1.0 - p) * np.maximum(cost, 1e-9), 1e-300)
    result: np.ndarray = np.where(np.isfinite(p), out, np.nan)
    return result


def budget_threshold(pushed_scores: np.ndarray, budget: float) -> float:
    """The score under which at most a fraction ``budget`` of ``pushed_scores`` lies
    (``-inf``, skip nothing, without any)."""
    s = np.sort(pushed_scores[np.isfinite(pushed_scores)])
    if s.size == 0 or budget <= 0:
        return float("-inf")
    m = int(np.floor(budget * s.size))
    return float(s[min(m, s.size - 1)]) if m < s.size else float("inf")


def step_thresholds(
    scores: np.ndarray,
    label: np.ndarray,
    known: np.ndarray,
    step: np.ndarray,
    step_start: np.ndarray,
    budget: float,
    window_ms: float | None = None,
) -> np.ndarray:
    """Threshold in force during each step, from the out-of-sample scores of the pushes known
    at the step's start (only the last ``window_ms`` of them when given)."""
    pushed = (label == 1) & (step >= 0) & np.isfinite(scores)
    out = np.full(len(step_start), float("-inf"))
    for k, t0 in enumerate(step_start):
        seen = pushed & (known <= t0)
        if window_ms is not None:
            seen &= known > t0 - window_ms
        out[k] = budget_threshold(scores[seen], budget)
    return out


def skip_mask(scores: np.ndarray, step: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Rows the gate skips: scored rows below their step's threshold."""
    ok = step >= 0
    thr = np.where(ok, thresholds[np.maximum(step, 0)], -np.inf)
    mask: np.ndarray = ok & np.isfinite(scores) & (scores < thr)
    return mask


def apply_guards(
    skip: np.ndarray,
    series: np.ndarray,
    t: np.ndarray,
    known: np.ndarray,
    label: np.ndarray,
    guards: Guards,
) -> np.ndarray:
    """``skip`` with the guards applied, replaying each series in time order (a skipped push
    leaves the older model in production, so later guards see the gated history)."""
    if not guards.active:
        return skip
    out: np.ndarray = skip.copy()
    order = np.lexsort((t, series))
    state: dict[object, tuple[list[float], int]] = {}
    for i in order:
        pushes, since = state.get(series[i], ([], 0))
        at = bisect.bisect_right(pushes, float(t[i]))
        last = pushes[at - 1] if at else None
        stale = guards.max_staleness_hours is not None and (
            last is None or (t[i] - last) / HOUR_MS > guards.max_staleness_hours
        )
        cadence = (
            guards.max_trainings_without_push is not None
            and since >= guards.max_trainings_without_push
        )
        if out[i] and (stale or cadence):
            out[i] = False
        ran_push = (not out[i]) and label[i] == 1
        if ran_push:
            bisect.insort(pushes, float(known[i]))
        state[series[i]] = (pushes, 0 if ran_push else since + 1)
    return out
