"""Walk-forward scoring: every training is predicted by a model fitted only on the past.

Time is cut into steps (a day by default). At the start ``T`` of each step the predictor is refitted
on the trainings whose outcome was *known* by ``T`` (their features are as of their own start, so
earlier still), calibrated on earlier out-of-sample predictions, and used for the trainings that
start during the step. Train and test never overlap in time, and no label reaches a model before
the moment it was known. Each row also remembers its step, so a threshold can later be chosen from
what was known at the step's start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from graphlets.optimizer.features import DAY_MS
from graphlets.optimizer.predictor import Predictor, apply_calibration, calibrator

# (step start ms, steps done, steps in all)
StepProgress = Callable[[int, int, int], None]


def _no_progress(_t: int, _i: int, _n: int) -> None:
    return None


@dataclass(frozen=True)
class Schedule:
    """When the replay starts predicting, starts counting, and how often it refits.

    Attributes:
        start: first prediction (ms); rows before it only train.
        evaluate_from: first row that counts in the figures; rows in ``[start, evaluate_from)``
            give the first steps out-of-sample history to choose thresholds from.
        end: last row's start (ms).
        step_ms: time between refits.
    """

    start: int
    evaluate_from: int
    end: int
    step_ms: int

    @property
    def boundaries(self) -> np.ndarray:
        """Start of every step, then the end (exclusive)."""
        n = int(np.ceil((self.end + 1 - self.start) / self.step_ms))
        return self.start + np.arange(n + 1, dtype=np.int64) * self.step_ms


def schedule(
    t: np.ndarray,
    warmup_fraction: float = 1 / 3,
    step_days: float | None = None,
    max_steps: int = 40,
    min_steps: int = 10,
) -> Schedule:
    """Evaluate the last ``1 - warmup_fraction`` of the time span; the first half of the warm-up
    only trains, the second half is predicted out of sample but not counted.

    Steps are a day long (or ``step_days``), stretched to keep at most ``max_steps`` refits and
    shrunk to make at least ``min_steps`` when the whole history took less time than that (a
    pipeline run span after span in a few minutes)."""
    lo, hi = int(t.min()), int(t.max())
    evaluate_from = lo + int(warmup_fraction * (hi - lo))
    start = lo + int(warmup_fraction / 2 * (hi - lo))
    length = hi + 1 - start
    if step_days is not None:
        step = int(step_days * DAY_MS)
    else:
        step = min(max(int(DAY_MS), int(np.ceil(length / max_steps))), int(length // min_steps))
    return Schedule(start, evaluate_from, hi, max(step, 1))


@dataclass(frozen=True)
class Scores:
    """Out-of-sample predictions, aligned with the rows of the frame given to :func:`walk`.

    Attributes:
        raw: uncalibrated push probability (NaN for rows before ``schedule.start``).
        p: calibrated push probability (NaN likewise).
        step: index of the step that predicted the row (-1 before the start).
        step_start: start time (ms) of each step.
        calibrated: per step, True when its model was fitted on enough trainings and calibrated
            on earlier out-of-sample predictions: only then are its probabilities comparable with
            other steps' (a threshold chosen from them means the same thing).
    """

    raw: np.ndarray
    p: np.ndarray
    step: np.ndarray
    step_start: np.ndarray
    calibrated: np.ndarray | None = None


def walk(
    features: pl.DataFrame,
    label: np.ndarray,
    known: np.ndarray,
    sched: Schedule,
    make: Callable[[], Predictor],
    *,
    min_train: int = 30,
    progress: StepProgress = _no_progress,
) -> Scores:
    """Predict every row from ``sched.start`` on with models fitted on the past only.

    Args:
        features: feature rows (``t`` column = decision time), any order.
        label: 1 pushed / 0 not / -1 undecided per row.
        known: ms when each row's outcome became known (``inf`` if never).
        sched: the steps.
        make: a new untrained predictor.
        min_train: fewest decided trainings to fit on; fewer predicts the past push rate.
        progress: called after each step.
    """
    t = features["t"].to_numpy()
    n = len(t)
    raw = np.full(n, np.nan)
    p = np.full(n, np.nan)
    step = np.full(n, -1, dtype=np.int64)
    bounds = sched.boundaries
    calibrated = np.zeros(len(bounds) - 1, dtype=bool)
    for k in range(len(bounds) - 1):
        lo, hi = bounds[k], bounds[k + 1]
        test = np.flatnonzero((t >= lo) & (t < hi))
        if test.size == 0:
            progress(int(lo), k + 1, len(bounds) - 1)
            continue
        seen = (known <= lo) & (label >= 0)
        train = np.flatnonzero(seen)
        model = make()
        if train.size >= min_train:
            model.fit(features[train], label[train])
        else:
            model.fit(features[train[:0]], label[train[:0]])
            model.constant = float(label[train].mean()) if train.size else 0.5
        raw[test] = model.raw(features[test])
        past = seen & np.isfinite(raw) & (step >= 0)
        iso = calibrator(raw[past], label[past])
        p[test] = apply_calibration(iso, raw[test])
        calibrated[k] = model.model is not None and iso is not None
        step[test] = k
        progress(int(lo), k + 1, len(bounds) - 1)
    return Scores(raw, p, step, bounds[:-1], calibrated)
