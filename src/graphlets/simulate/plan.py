"""Per-pipeline plans: the fixed traits of each pipeline in the fleet, drawn before any run.

Each pipeline draws its traits from its own random stream (``[seed, 0, index]``), so pipeline ``i``
is the same whether the fleet has 30 pipelines or 3000, and a scaled-down fleet is an exact prefix
of the full one. Lifetimes are lognormal (heavy right tail) with births uniform over
``[-lifespan, days]``: some pipelines predate the window, some outlive it, many are short.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from graphlets.simulate.config import FleetConfig

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
DOMAINS = ("ads", "search", "play", "maps", "news", "shopping", "video", "mail", "assist", "cloud")
TASKS = ("ctr", "ranking", "spam", "churn", "quality", "fraud", "recs", "intent", "eta", "abuse")


@dataclass(frozen=True)
class PipelinePlan:
    """What one pipeline is (topology, schedule, costs) before it runs.

    Attributes:
        index: position in the fleet (0-based).
        name: the ``pipeline`` context name.
        frequency: index into ``FleetConfig.frequencies``.
        period_ms: time between scheduled runs (one span per run).
        first_ms: time of the first scheduled run inside the window.
        n_slots: scheduled runs inside the window (at least 1).
        first_span: span number of the first slot (pipelines born earlier have higher spans).
        alive_at_end: the pipeline outlives the window, so its newest run is still pending.
        window: training window in spans.
        trainers: number of Trainer nodes (each with its own Evaluator, InfraValidator, Pusher).
        has_transform / has_validator / has_infra: optional components at birth.
        warm_start: trainers warm start from their previous model (``base_model`` input).
        example_gen: ExampleGen flavour (type name).
        span_units: data units in one span (drives ingest and training cost).
        trainer_scale: cost multiplier per trainer.
        base: per-trainer propensity to bless (the pipeline term of the causal model).
        min_push_ms: deployment rate limit.
    """

    index: int
    name: str
    frequency: int
    period_ms: int
    first_ms: int
    n_slots: int
    first_span: int
    alive_at_end: bool
    window: int
    trainers: int
    has_transform: bool
    has_validator: bool
    has_infra: bool
    warm_start: bool
    example_gen: str
    span_units: float
    trainer_scale: tuple[float, ...]
    base: tuple[float, ...]
    min_push_ms: int

    @property
    def period_days(self) -> float:
        """Run period in days."""
        return self.period_ms / DAY_MS

    @property
    def last_ms(self) -> int:
        """Time of the last scheduled slot."""
        return self.first_ms + (self.n_slots - 1) * self.period_ms


def plan_pipeline(cfg: FleetConfig, index: int) -> PipelinePlan:
    """Draw pipeline ``index``'s plan from its own stream."""
    rng = np.random.default_rng([cfg.seed, 0, index])
    freq_i = int(rng.choice(len(cfg.frequencies), p=[f.share for f in cfg.frequencies]))
    freq = cfg.frequencies[freq_i]
    period = int(freq.hours * HOUR_MS)
    horizon = cfg.days * DAY_MS
    life = min(cfg.lifespan.max_days, rng.lognormal(math.log(cfg.lifespan.median_days),
                                                   cfg.lifespan.sigma)) * DAY_MS  # fmt: skip
    birth = rng.uniform(-life, horizon)
    lo, hi = max(birth, 0.0), min(birth + life, horizon)
    first = lo + rng.uniform(0, min(period, max(hi - lo, 1.0)))
    n_slots = 1 + max(0, int((hi - first) // period)) if first < hi else 1
    first = min(first, horizon - 1)
    topo = cfg.topology
    trainers = 1 + int(rng.choice(len(topo.trainers), p=list(topo.trainers)))
    gens = list(topo.example_gens) or ["CsvExampleGen"]
    gen_p = list(topo.example_gens.values()) or [1.0]
    c = cfg.causal
    return PipelinePlan(
        index=index,
        name=f"{DOMAINS[rng.integers(len(DOMAINS))]}-{TASKS[rng.integers(len(TASKS))]}-{index:05d}",
        frequency=freq_i,
        period_ms=period,
        first_ms=cfg.start_ms + int(first),
        n_slots=n_slots,
        first_span=int(max(0.0, first - birth) // period),
        alive_at_end=bool(birth + life >= horizon),
        window=int(rng.choice(freq.windows)),
        trainers=trainers,
        has_transform=bool(rng.random() < topo.p_transform),
        has_validator=bool(rng.random() < topo.p_validator),
        has_infra=bool(rng.random() < topo.p_infra_validator),
        warm_start=bool(rng.random() < topo.p_warm_start),
        example_gen=str(gens[int(rng.choice(len(gens), p=gen_p))]),
        span_units=float(rng.lognormal(0.0, cfg.costs.data_sigma) * freq.hours**0.8),
        trainer_scale=tuple(float(x) for x in rng.lognormal(0.0, 0.5, trainers)),
        base=tuple(float(x) for x in rng.normal(c.base_mean, c.base_sd, trainers)),
        min_push_ms=_rate_limit(cfg, rng, freq.hours),
    )


def _rate_limit(cfg: FleetConfig, rng: np.random.Generator, hours: float) -> int:
    """Minimum time between pushes: the profile's limit for a share of the faster pipelines."""
    push = cfg.push
    limited = rng.random() < push.p_rate_limited and hours < push.rate_limit_hours
    # A little under the limit, so run-time jitter never blocks the run the limit allows.
    return int(0.95 * push.rate_limit_hours * HOUR_MS) if limited else 0


def plan_fleet(cfg: FleetConfig) -> list[PipelinePlan]:
    """Plans of all ``cfg.pipelines`` pipelines."""
    return [plan_pipeline(cfg, i) for i in range(cfg.pipelines)]


def change_probability(per_month: float, period_ms: int) -> float:
    """Chance that a Poisson process of ``per_month`` events per 30 days fires within one run."""
    return 1.0 - math.exp(-per_month * period_ms / (30 * DAY_MS))


def expected_models(cfg: FleetConfig, plans: list[PipelinePlan]) -> float:
    """Expected trained models (COMPLETE trainings) of a fleet, from its plans alone.

    A slot trains when its span arrives and ingest, statistics and transform succeed, or when a
    timer run without data meets a code or config change; the trainer then fails with its base
    rate (the boost after changes is ignored: it moves the total by well under a percent).
    """
    d, f = cfg.data, cfg.failures
    gap = min(0.9, d.outages_per_month * d.outage_mean_days / 30)
    present = (1 - d.p_missing_span) * (1 - gap)
    upstream = (1 - f.get("ExampleGen", 0)) * (1 - f.get("StatisticsGen", 0))
    upstream *= 1 - cfg.topology.p_transform * f.get("Transform", 0)
    upstream *= 1 - cfg.topology.p_validator * f.get("ExampleValidator", 0)
    total = 0.0
    for p in plans:
        chg = change_probability(cfg.changes.code_per_month + cfg.changes.config_per_month,
                                 p.period_ms)  # fmt: skip
        trains = present * upstream + (1 - present) * d.p_run_without_data * chg
        total += p.n_slots * p.trainers * trains * (1 - f.get("Trainer", 0))
    return total
