"""Replay evaluation: what the pruning gate would have saved and missed on a store's own history.

``evaluate(store)`` is self-contained. It segments the store into graphlets, builds every
training's features as of its start (:mod:`graphlets.optimizer.features`), and walks forward in
time (:mod:`graphlets.optimizer.walk`): each step's trainings are scored by a model fitted only on
trainings whose outcome was known before the step began. The threshold for the budget of missed
pushes is chosen at each step from the pushes already known (:mod:`graphlets.optimizer.policy`);
the figures are those realised on the evaluated period (:mod:`graphlets.optimizer.outcomes`),
beside baselines (no pruning, random pruning at the same rate, simple heuristics, a logistic
regression) and, on simulated traces, the oracle's bound at the same budget.

Like any replay of recorded history, it assumes the rest of history would have happened as it did:
after a skipped push, later trainings keep their recorded outcomes and features.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from graphlets.errors import InvalidArgumentError
from graphlets.lineage import LoadFilter
from graphlets.optimizer import baselines
from graphlets.optimizer.evidence import Evidence, StepGate, abstention_report, gate_steps
from graphlets.optimizer.features import DAY_MS, FEATURES, build_features
from graphlets.optimizer.oracle import oracle_causes, with_causes
from graphlets.optimizer.outcomes import realised
from graphlets.optimizer.payloads import StatsReader
from graphlets.optimizer.policy import (
    Guards,
    Mode,
    apply_guards,
    check_mode,
    score,
)
from graphlets.optimizer.predictor import Kind, Predictor, classification_metrics
from graphlets.optimizer.trace import History, load_history
from graphlets.optimizer.walk import Schedule, Scores, schedule, walk
from graphlets.store import MetadataStore

PAPER_WASTE_SAVED = 0.5
# (stage, done, total)
ProgressFn = Callable[[str, int, int], None]


def _quiet(_stage: str, _done: int, _total: int) -> None:
    return None


@dataclass(frozen=True)
class ReplayConfig:
    """How the replay runs (defaults: the CLI's).

    Attributes:
        max_pushes_missed: budget of missed pushes for the operating point.
        mode: ``probability`` or ``cost`` (cost-aware) ranking, see :mod:`policy`.
        warmup_fraction: share of the time span before the evaluated period.
        step_days: time between refits (None: a day, longer to stay within ``max_steps``,
            shorter when the whole history is too short for 10 daily steps).
        max_steps: most refits.
        threshold_window_days: choose thresholds from the pushes of this many recent days only.
        guards: freshness / cadence guards (off by default, as the issue asks for replay).
        baselines: also replay the logistic regression and the heuristics.
        oracle: replay the oracle when the trace records latent causes (None: when it does).
        sweep: fixed probability thresholds of the sweep table.
        budgets: budgets of the budget sweep (thresholds chosen from the past for each).
        plot: write the tradeoff curve PNG here.
        seed: random seed (predictors).
        min_train: fewest decided trainings to fit a model on.
        evidence: what the gate needs from the past before it skips anything for a pipeline
            (:mod:`graphlets.optimizer.evidence`); without it, it abstains there.
    """

    max_pushes_missed: float = 0.02
    mode: Mode = "cost"
    warmup_fraction: float = 1 / 3
    step_days: float | None = None
    max_steps: int = 40
    threshold_window_days: float | None = None
    guards: Guards = field(default_factory=Guards)
    baselines: bool = True
    oracle: bool | None = None
    sweep: tuple[float, ...] = tuple(round(x, 2) for x in np.arange(0.05, 1.0, 0.05))
    budgets: tuple[float, ...] = (0.0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2)
    plot: Path | None = None
    seed: int = 0
    min_train: int = 30
    evidence: Evidence = field(default_factory=Evidence)

    def __post_init__(self) -> None:
        check_mode(self.mode)
        if not 0.0 <= self.max_pushes_missed < 1.0:
            raise InvalidArgumentError(
                f"--max-pushes-missed {self.max_pushes_missed} is out of range: pass a fraction "
                "in [0, 1), e.g. 0.02"
            )
        if not 0.0 < self.warmup_fraction < 1.0:
            raise InvalidArgumentError(
                f"warm-up fraction {self.warmup_fraction} is out of range: pass one in (0, 1)"
            )


def evaluate(
    store: MetadataStore,
    config: ReplayConfig | None = None,
    where: LoadFilter | None = None,
    *,
    progress: ProgressFn = _quiet,
    **overrides: Any,
) -> dict[str, Any]:
    """Replay ``store``'s history with the gate on; returns the JSON-ready report.

    Example::

        with MetadataStore("sqlite:///store.sqlite") as store:
            report = evaluate(store, max_pushes_missed=0.02)
        report["waste_saved_fraction"], report["pushes_missed_fraction"]
    """
    cfg = ReplayConfig(**{**(config.__dict__ if config else {}), **overrides})
    progress("load", 0, 1)
    history = load_history(store, where=where, latent=cfg.oracle is not False)
    progress("load", 1, 1)
    report = evaluate_history(history, cfg, progress=progress)
    return {"store": store.url.redacted(), **report}


@dataclass
class Replay:
    """The shared inputs of every model's replay."""

    d: pl.DataFrame
    feats: pl.DataFrame
    label: np.ndarray
    known: np.ndarray
    sched: Schedule
    evaluated: np.ndarray
    total_cost: float
    cfg: ReplayConfig
    fallback_cost: float
    pipeline: np.ndarray

    @property
    def period(self) -> tuple[int, int]:
        """The evaluated period (ms)."""
        return self.sched.evaluate_from, self.sched.end


def prepare(history: History, cfg: ReplayConfig) -> Replay:
    """Features, labels and the schedule of a history."""
    d = history.decisions.sort("t", "gid")
    if d.filter(pl.col("label").is_not_null()).height < 2:
        raise InvalidArgumentError(
            f"the store holds {d.height} trainings and fewer than 2 with a known outcome: a "
            "replay needs a history of trainings that were evaluated and pushed or not"
        )
    reader = StatsReader(history.payloads)
    feats = build_features(d, reader if reader else None)
    feats = d.select("gid").join(feats, on="gid", how="left", maintain_order="left")
    t = d["t"].to_numpy()
    sched = schedule(t, cfg.warmup_fraction, cfg.step_days, cfg.max_steps)
    ex = history.executions
    total = ex.filter((pl.col("t") >= sched.evaluate_from) & (pl.col("t") <= sched.end))["cost"]
    early = feats.filter(pl.col("t") < sched.start)["cost_est"].to_numpy()
    early = early[np.isfinite(early)]
    return Replay(
        d=d,
        feats=feats,
        label=d["label"].fill_null(-1).to_numpy().astype(np.int64),
        known=d["known"].cast(pl.Float64).fill_null(np.inf).to_numpy(),
        sched=sched,
        evaluated=t >= sched.evaluate_from,
        total_cost=float(total.sum()),
        cfg=cfg,
        fallback_cost=float(np.median(early)) if early.size else 1.0,
        pipeline=np.unique(d["pipeline"].fill_null("").to_numpy().astype(str), return_inverse=True)[
            1
        ].astype(np.int64),
    )


def evaluate_history(
    history: History, cfg: ReplayConfig, *, progress: ProgressFn = _quiet
) -> dict[str, Any]:
    """The report for an already loaded history (see :func:`evaluate`)."""
    r = prepare(history, cfg)
    main = replay_model(r, "lightgbm", r.feats, FEATURES, progress)
    report = _header(r, history) | main.report
    report["budget_sweep"] = [main.at_budget(b) for b in cfg.budgets]
    report["sweep"] = main.sweep(cfg.sweep)
    curves = {"LightGBM": main.curve()}
    points = {"gate": (report["pushes_missed_fraction"], report["waste_saved_fraction"])}
    report["baselines"] = baselines.no_pruning_and_random(r, main.skip)
    if cfg.baselines:
        lr = replay_model(r, "logistic", r.feats, FEATURES, progress)
        report["baselines"]["logistic"] = lr.report
        curves["logistic regression"] = lr.curve()
        for name, figures in baselines.heuristics(r).items():
            report["baselines"][name] = figures
            points[name] = (figures["pushes_missed_fraction"], figures["waste_saved_fraction"])
    report["oracle"] = None
    causes = oracle_causes(history.latent) if cfg.oracle is not False else None
    if causes is not None:
        feats, names = with_causes(r.feats, causes)
        oracle = replay_model(r, "lightgbm", feats, (*FEATURES, *names), progress)
        report["oracle"] = oracle.report | {"causes": names}
        report["oracle"]["curve_at_budget"] = oracle.best_at(cfg.max_pushes_missed)
        curves["oracle (recorded latent causes)"] = oracle.curve()
    report["curve_at_budget"] = main.best_at(cfg.max_pushes_missed)
    report["vs_oracle"] = _vs_oracle(report)
    if cfg.plot is not None:
        _plot(cfg.plot, report, curves, points, cfg.max_pushes_missed)
    return report


def _plot(
    path: Path,
    report: dict[str, Any],
    curves: dict[str, tuple[np.ndarray, np.ndarray]],
    points: dict[str, tuple[float, float]],
    budget: float,
) -> None:
    """The tradeoff PNG at ``path`` and its data beside it (same name, ``.json``)."""
    from graphlets.optimizer.plot import tradeoff_doc, tradeoff_json, tradeoff_png

    title = f"waste saved vs pushes missed ({report['period']['graphlets']} trainings)"
    tradeoff_png(path, curves, points, budget, title)
    doc = tradeoff_doc(curves, points, budget, title)
    doc["gate"] = {k: report[k] for k in _GATE_KEYS}
    report["curve_png"] = str(path)
    report["curve_json"] = str(tradeoff_json(path.with_suffix(".json"), doc))


_GATE_KEYS = ("abstained", "abstention_reason", "avoidable_waste_saved_fraction",
              "waste_saved_fraction", "pushes_missed_fraction", "max_pushes_missed")  # fmt: skip


@dataclass
class ModelReplay:
    """One predictor's walk-forward scores and the operating point they give."""

    r: Replay
    scores: Scores
    ranking: np.ndarray
    gate: StepGate
    skip: np.ndarray
    report: dict[str, Any]

    @property
    def thresholds(self) -> np.ndarray:
        """Threshold in force during each step (``-inf``: none)."""
        return self.gate.thresholds

    def at_budget(self, budget: float) -> dict[str, Any]:
        """Figures with thresholds chosen, and evidence checked, from the past for another
        budget."""
        gate = _gate(self.r, self.ranking, self.scores, budget)
        skip = _skip(self.r, self.ranking, self.scores, gate)
        return {"budget": budget, **_figures(self.r, skip), **abstentions(self.r, gate)}

    def sweep(self, thresholds: tuple[float, ...]) -> list[dict[str, Any]]:
        """Figures of fixed probability thresholds over the whole evaluated period."""
        rows = []
        for thr in thresholds:
            skip = self.r.evaluated & np.isfinite(self.scores.p) & (self.scores.p < thr)
            rows.append({"threshold": thr, **_figures(self.r, skip, brief=True)})
        return rows

    def curve(self) -> tuple[np.ndarray, np.ndarray]:
        """(pushes missed fraction, waste saved fraction) skipping the k lowest-ranked rows, for
        every k (the best any single threshold on this ranking could do, seen after the fact)."""
        return baselines.ranking_curve(self.r, self.ranking)

    def best_at(self, budget: float) -> float:
        """Waste saved on :meth:`curve` at ``budget`` pushes missed."""
        x, y = self.curve()
        ok = x <= budget + 1e-12
        return float(y[ok].max()) if ok.any() else 0.0


def replay_model(
    r: Replay,
    kind: Kind,
    feats: pl.DataFrame,
    features: tuple[str, ...],
    progress: ProgressFn = _quiet,
) -> ModelReplay:
    """Walk forward with one predictor and apply the budget's thresholds."""

    def make() -> Predictor:
        return Predictor(kind, features=features, seed=r.cfg.seed)

    scores = walk(
        feats,
        r.label,
        r.known,
        r.sched,
        make,
        min_train=r.cfg.min_train,
        progress=lambda _t, i, n: progress(kind, i, n),
    )
    # Isotonic calibration is flat in places; the raw probability breaks its ties.
    p = scores.p + 1e-6 * np.nan_to_num(scores.raw)
    ranking = score(p, feats["cost_est"].to_numpy(), r.cfg.mode, r.fallback_cost)
    gate = _gate(r, ranking, scores, r.cfg.max_pushes_missed)
    skip = _skip(r, ranking, scores, gate)
    decided = r.evaluated & (r.label >= 0)
    report = _figures(r, skip)
    report |= classification_metrics(scores.p[decided], r.label[decided], skip[decided])
    report |= abstentions(r, gate)
    acting = np.unique(scores.step[r.evaluated & gate.eligible & (scores.step >= 0)])
    used = gate.thresholds[acting]
    used = used[np.isfinite(used)]
    report["threshold"] = float(np.median(used)) if used.size else None
    report["threshold_range"] = [float(used.min()), float(used.max())] if used.size else None
    report["predictor"] = kind
    return ModelReplay(r, scores, ranking, gate, skip, report)


def _gate(r: Replay, ranking: np.ndarray, scores: Scores, budget: float) -> StepGate:
    window = None if r.cfg.threshold_window_days is None else r.cfg.threshold_window_days * DAY_MS
    return gate_steps(
        ranking,
        r.label,
        r.known,
        scores.step,
        scores.step_start,
        r.pipeline,
        budget,
        r.cfg.evidence,
        window,
        scores.calibrated,
    )


def _skip(r: Replay, ranking: np.ndarray, scores: Scores, gate: StepGate) -> np.ndarray:
    ok = scores.step >= 0
    thr = gate.row_thresholds
    skip = ok & np.isfinite(ranking) & (ranking < thr) & gate.eligible & r.evaluated
    series = r.d["series"].to_numpy()
    return apply_guards(skip, series, r.d["t"].to_numpy(), r.known, r.label, r.cfg.guards)


def abstentions(r: Replay, gate: StepGate) -> dict[str, Any]:
    """Where and why the gate abstained in the evaluated period (see :mod:`evidence`)."""
    names = r.d["pipeline"].fill_null("").to_numpy().astype(str)
    return abstention_report(gate, r.evaluated, names)


def _figures(r: Replay, skip: np.ndarray, brief: bool = False) -> dict[str, Any]:
    out = realised(r.d, r.evaluated, skip, r.total_cost, r.period)
    if brief:
        keep = ("skip_rate", "waste_saved_fraction", "compute_saved_fraction")
        return {k: out[k] for k in (*keep, "pushes_missed_fraction")}
    return out


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="seconds")


def _header(r: Replay, history: History) -> dict[str, Any]:
    ev = r.d.filter(pl.Series(r.evaluated))
    counts = ev["outcome"].value_counts()
    by = dict(zip(counts["outcome"].to_list(), counts["count"].to_list(), strict=True))
    return {
        "mode": r.cfg.mode,
        "max_pushes_missed": r.cfg.max_pushes_missed,
        "guards": {
            "max_staleness_hours": r.cfg.guards.max_staleness_hours,
            "max_trainings_without_push": r.cfg.guards.max_trainings_without_push,
        },
        "period": {
            "history_from": _iso(int(r.d["t"].to_numpy().min())),
            "predict_from": _iso(r.sched.start),
            "evaluate_from": _iso(r.sched.evaluate_from),
            "to": _iso(r.sched.end),
            "step_hours": r.sched.step_ms / 3_600_000,
            "graphlets": ev.height,
            **{o: int(by.get(o, 0)) for o in ("pushed", "unpushed", "failed", "pending")},
            "waste_cost": float(ev["waste"].sum()),
            "total_cost": r.total_cost,
        },
        "evidence": {
            "min_trainings": r.cfg.evidence.min_trainings,
            "min_pushes": r.cfg.evidence.min_pushes,
            "alpha": r.cfg.evidence.alpha,
            "shift_alpha": r.cfg.evidence.shift_alpha,
        },
        "payload_features": bool(len(history.payloads)),
        "definitions": baselines.DEFINITIONS,
        "paper_waste_saved_fraction": PAPER_WASTE_SAVED,
    }


def _vs_oracle(report: dict[str, Any]) -> dict[str, Any] | None:
    oracle = report.get("oracle")
    if not oracle:
        return None
    ours, bound = report["curve_at_budget"], oracle["curve_at_budget"]
    op, op_bound = report["waste_saved_fraction"], oracle["waste_saved_fraction"]
    return {
        "curve_ratio": ours / bound if bound else None,
        "operating_ratio": op / op_bound if op_bound else None,
        "within_10_percent": bool(bound and ours >= 0.9 * bound),
    }
