"""Compute cost and wall-clock times of every execution of one pipeline.

CPU seconds of a run of component ``c`` = ``costs.seconds[c] * volume * noise``, where volume is the
data the step touches: one span for ingest, statistics and evaluation, the whole window for
Transform and the Trainer (to the power 0.9 for the trainer, whose cost grows a little slower than
its data), a constant for schema, infra validation and push. A warm-started training costs
``warm_start_factor`` of a cold one; a CACHED step costs ``cached_seconds`` (the cache look-up); a
failed step burns a uniform share of what it would have cost. Wall time is CPU time over the
component's ``parallelism``; steps of a run follow each other, each trainer's chain starting when
Transform ends.
"""

from __future__ import annotations

import numpy as np

from graphlets.simulate.config import FleetConfig
from graphlets.simulate.timeline import (
    CACHED,
    COMPLETE,
    FAILED,
    NONE,
    PER_TRAINER,
    TRAIN,
    UPSTREAM,
    Timeline,
    col,
    columns,
)

MIN_WALL_MS = 1_000


def execution_costs(cfg: FleetConfig, tl: Timeline) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(cpu_seconds, start_ms, end_ms)`` grids shaped like ``tl.state``."""
    plan, d, state = tl.plan, tl.draws, tl.state
    rng = np.random.default_rng([cfg.seed, 2, plan.index])
    names = columns(plan.trainers)
    unit = np.array([cfg.costs.seconds[c] for c in names])
    span = plan.span_units
    window = span * (d.win_hi - d.win_lo + 1).astype(float)
    volume = np.empty(state.shape)
    for c, name in enumerate(names):
        volume[:, c] = _volume(name, span, window)
    for j in range(plan.trainers):
        c = col(j, TRAIN)
        volume[:, c] *= plan.trainer_scale[j]
        if plan.warm_start:
            done = state[:, c] == COMPLETE
            warm = (np.cumsum(done) - done) > 0
            volume[:, c] *= np.where(warm, cfg.costs.warm_start_factor, 1.0)
    cpu = unit * volume * rng.lognormal(0.0, cfg.costs.noise_sigma, state.shape)
    cpu = np.where(state == FAILED, cpu * rng.uniform(0.05, 1.0, state.shape), cpu)
    cpu = np.where(state == CACHED, cfg.costs.cached_seconds, cpu)
    cpu = np.where(state == NONE, 0.0, cpu)
    start, end = _times(cfg, tl, cpu, rng)
    return cpu, start, end


def _volume(name: str, span: float, window: np.ndarray) -> np.ndarray | float:
    if name in ("ExampleGen", "StatisticsGen", "Evaluator"):
        return span
    if name == "ExampleValidator":
        return float(np.sqrt(span))
    if name == "Transform":
        return window
    if name == "Trainer":
        out: np.ndarray = np.power(window, 0.9)
        return out
    return 1.0


def _times(
    cfg: FleetConfig, tl: Timeline, cpu: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Start and end of each execution: a chain per run, one branch per trainer."""
    names = columns(tl.plan.trainers)
    par = np.array([cfg.costs.parallelism.get(c, 1.0) for c in names])
    ran = tl.state != NONE
    wall = np.where(ran, np.maximum(cpu / par * 1000, MIN_WALL_MS), 0).astype(np.int64)
    gap = np.where(ran, rng.integers(2_000, 30_000, tl.state.shape), 0)
    step = wall + gap
    start = np.empty(tl.state.shape, dtype=np.int64)
    up = len(UPSTREAM)
    before = np.cumsum(step[:, :up], axis=1) - step[:, :up]
    start[:, :up] = tl.draws.t[:, None] + before
    branch = tl.draws.t + step[:, :up].sum(axis=1)
    per = len(PER_TRAINER)
    for j in range(tl.plan.trainers):
        cols = slice(up + per * j, up + per * (j + 1))
        start[:, cols] = branch[:, None] + np.cumsum(step[:, cols], axis=1) - step[:, cols]
    return start, start + wall
