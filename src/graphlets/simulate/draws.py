"""The random inputs of one pipeline's life, drawn up front as arrays.

Everything that does not depend on earlier outcomes is drawn here, vectorised: which scheduled slots
get data (single missing spans and multi-day outages), which slots run anyway on a timer, failures
of ingest, code / config / schema / topology changes, drift episodes, per-component failure draws
and the noise of each training. The training windows follow from the spans alone, so they are
computed here too (with the fraction of each window that lies after a drift onset).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graphlets.simulate.config import FleetConfig
from graphlets.simulate.plan import DAY_MS, PipelinePlan, change_probability


@dataclass
class Draws:
    """Arrays over the pipeline's runs ``R`` (and trainers ``T``, grid columns ``C``).

    Attributes:
        t: run start (ms).
        new_span: ExampleGen makes a new span (else it re-emits the last one, CACHED).
        eg_failed: ExampleGen fails (the run stops there).
        ex_span: span number of each Examples made, in creation order.
        win_lo / win_hi: ordinals of the oldest and newest Examples of the run's window.
        code / config / schema: a change lands in this run.
        code_version / config_version: trainer code and config version in force at the run.
        flip_validator / flip_transform: a topology change adds or removes that component.
        boost: failure multiplier (after changes).
        fail_u: ``[R, C]`` uniforms compared with failure probabilities.
        infra_u: ``[R, T]`` uniforms for InfraValidator verdicts.
        noise: ``[R, T]`` the causal model's noise term.
        drift / post: drift magnitude at the run, and the share of its window after the onset.
        code_effect / config_effect: effect of each code (config) version, version 0 first.
    """

    t: np.ndarray
    new_span: np.ndarray
    eg_failed: np.ndarray
    ex_span: np.ndarray
    win_lo: np.ndarray
    win_hi: np.ndarray
    code: np.ndarray
    config: np.ndarray
    code_version: np.ndarray
    config_version: np.ndarray
    schema: np.ndarray
    flip_validator: np.ndarray
    flip_transform: np.ndarray
    boost: np.ndarray
    fail_u: np.ndarray
    infra_u: np.ndarray
    noise: np.ndarray
    drift: np.ndarray
    post: np.ndarray
    code_effect: np.ndarray
    config_effect: np.ndarray


def draw(cfg: FleetConfig, plan: PipelinePlan, columns: int) -> Draws:
    """All random inputs of pipeline ``plan`` (stream ``[seed, 1, index]``)."""
    rng = np.random.default_rng([cfg.seed, 1, plan.index])
    slot_t = plan.first_ms + np.arange(plan.n_slots, dtype=np.int64) * plan.period_ms
    present = _present(cfg, rng, slot_t)
    eg_fail = rng.random(len(slot_t)) < cfg.failures.get("ExampleGen", 0.0)
    eg_fail[0] = False
    made = present & ~eg_fail
    timer = (rng.random(len(slot_t)) < cfg.data.p_run_without_data) & (np.cumsum(made) > made)
    runs = np.flatnonzero(present | timer)
    n, trainers = len(runs), plan.trainers
    jitter = rng.uniform(0, min(plan.period_ms / 10, 600_000), n).astype(np.int64)
    t = slot_t[runs] + jitter
    new_span = made[runs]
    ch = cfg.changes
    code, config, schema, topo = (
        rng.random(n) < change_probability(rate, plan.period_ms)
        for rate in (ch.code_per_month, ch.config_per_month, ch.schema_per_month,
                     ch.topology_per_month)
    )  # fmt: skip
    flip_v = topo & (rng.random(n) < 0.5)
    win_hi = np.cumsum(new_span) - 1
    win_lo = np.maximum(win_hi - plan.window + 1, 0)
    drift, onset = _drift(cfg, rng, t)
    causal = cfg.causal
    return Draws(
        t=t,
        new_span=new_span,
        eg_failed=present[runs] & eg_fail[runs],
        ex_span=plan.first_span + runs[new_span],
        win_lo=win_lo,
        win_hi=win_hi,
        code=code,
        config=config,
        code_version=np.cumsum(code),
        config_version=np.cumsum(config),
        schema=schema,
        flip_validator=flip_v,
        flip_transform=topo & ~flip_v,
        boost=_boost(code | config | schema, ch.boost_runs, ch.failure_boost),
        fail_u=rng.random((n, columns)),
        infra_u=rng.random((n, trainers)),
        noise=rng.normal(0.0, causal.noise_sd, (n, trainers)),
        drift=drift,
        post=_post(t[new_span], onset, drift, win_lo, win_hi),
        code_effect=_effects(rng, code, causal.code_mean, causal.code_sd),
        config_effect=_effects(rng, config, causal.config_mean, causal.config_sd),
    )


def _present(cfg: FleetConfig, rng: np.random.Generator, slot_t: np.ndarray) -> np.ndarray:
    """Slots whose span arrives: not missing on its own, not inside an outage."""
    present = rng.random(len(slot_t)) >= cfg.data.p_missing_span
    days = (slot_t[-1] - slot_t[0]) / DAY_MS + 1
    for _ in range(rng.poisson(cfg.data.outages_per_month * days / 30)):
        begin = rng.uniform(slot_t[0], slot_t[-1] + 1)
        length = rng.exponential(cfg.data.outage_mean_days) * DAY_MS
        present &= ~((slot_t >= begin) & (slot_t < begin + length))
    present[0] = True  # a pipeline starts with data
    return present


def _drift(
    cfg: FleetConfig, rng: np.random.Generator, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Magnitude of the strongest drift episode active at each run, and that episode's onset."""
    dr = cfg.drift
    days = (t[-1] - t[0]) / DAY_MS + 1
    k = rng.poisson(dr.episodes_per_month * days / 30)
    onsets = rng.uniform(t[0], t[-1] + 1, k)
    ends = onsets + rng.exponential(dr.mean_days, k) * DAY_MS
    mags = rng.uniform(dr.magnitude[0], dr.magnitude[1], k)
    drift = np.zeros(len(t))
    onset = np.zeros(len(t))
    for o, e, m in zip(onsets, ends, mags, strict=True):
        on = (t >= o) & (t < e) & (m > drift)
        drift[on], onset[on] = m, o
    return drift, onset


def _post(
    ex_t: np.ndarray, onset: np.ndarray, drift: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Share of each run's window made of spans that arrived after the drift onset."""
    size = np.maximum(hi - lo + 1, 1)
    after = hi + 1 - np.maximum(np.searchsorted(ex_t, onset, side="left"), lo)
    return np.where(drift > 0, np.clip(after / size, 0.0, 1.0), 0.0)


def _boost(changed: np.ndarray, runs: int, factor: float) -> np.ndarray:
    """Failure multiplier: ``factor`` for ``runs`` runs from each change on, else 1."""
    idx = np.arange(len(changed))
    last = np.maximum.accumulate(np.where(changed, idx, -(10**9)))
    return np.where(idx - last < runs, factor, 1.0)


def _effects(rng: np.random.Generator, changed: np.ndarray, mean: float, sd: float) -> np.ndarray:
    """Effect of each code (config) version; version 0 is the baseline."""
    return np.concatenate([[0.0], rng.normal(mean, sd, int(changed.sum()))])
