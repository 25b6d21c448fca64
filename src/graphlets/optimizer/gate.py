"""The pruning gate: a ``should_skip_execution`` hook that skips trainings unlikely to be pushed.

Registered by the composition root (``graphlets run --prune``), or for one command with
``GRAPHLETS_PLUGINS=graphlets.optimizer.gate``. Before each training the gate:

1. reads the store's history of trainings (:mod:`graphlets.optimizer.trace`) and fits the push
   predictor on those whose outcome is known (refitted only when new outcomes arrived);
2. builds the pending training's features (:mod:`graphlets.optimizer.candidate`) and predicts its
   push probability;
3. skips it when the score is under the threshold (a fixed push probability, or chosen from the
   predictor's held-out predictions on past pushes for a budget of missed pushes), unless a guard
   says run: the production model is older than ``max_staleness_hours`` (freshness), or
   ``max_trainings_without_push`` trainings ran or were skipped since the last push (cadence).

A skip is recorded by the runner as a CANCELED execution with ``skip_reason`` and the facts behind
it (probability, threshold, mode, guards) in ``skip_details``. With fewer than ``min_history``
decided trainings the gate never skips.

Before it skips anything for a pipeline the gate needs evidence from the past that it holds its
budget there (:mod:`graphlets.optimizer.evidence`): ``min_trainings`` decided trainings and
``min_pushes`` pushes of that pipeline, and, for a threshold chosen for the budget, a time-ordered
backtest on the held-out history (the threshold chosen on its older half is checked on its newer
half, pooled and on the pipeline). Until then it abstains there: the training runs, the reason
("abstained: 31 trainings, needs 100") is logged as a warning on ``graphlets.optimizer.gate``
whenever it changes, and kept in :attr:`PruningGate.abstentions`.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from graphlets.hookspecs import SkipDecision, hookimpl
from graphlets.lineage.categories import categorize
from graphlets.model import Artifact, Context, ExecutionState, ExecutionType
from graphlets.optimizer.candidate import Pending, candidate_row
from graphlets.optimizer.evidence import (
    Evidence,
    adjusted_level,
    backtest_reason,
    conformal_threshold,
    needed_pushes,
    short_of,
    too_few_reason,
)
from graphlets.optimizer.features import HOUR_MS, build_features, online_features
from graphlets.optimizer.policy import Mode, check_mode, score
from graphlets.optimizer.predictor import Predictor, apply_calibration, calibrator
from graphlets.optimizer.trace import History, load_history
from graphlets.store import MetadataStore

SKIP_REASON = "pruned: predicted not pushed"
ENV_PREFIX = "GRAPHLETS_PRUNE_"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GateConfig:
    """The gate's knobs (``from_env`` reads ``GRAPHLETS_PRUNE_<NAME>``).

    Attributes:
        threshold: a fixed push probability to skip under (then trainings are ranked by
            probability); None: the threshold is chosen for ``max_pushes_missed``.
        max_pushes_missed: budget of missed pushes when the threshold is chosen.
        mode: ranking when the threshold is chosen: ``cost`` (cost-aware, the default) or
            ``probability`` (see :mod:`graphlets.optimizer.policy`).
        max_staleness_hours: freshness guard (None: off).
        max_trainings_without_push: cadence guard (None: off).
        min_history: decided trainings needed before the gate skips anything.
        holdout_fraction: newest share of the history held out to calibrate and to choose the
            threshold.
        min_trainings: decided trainings of a pipeline before the gate skips any of its
            trainings (see :class:`graphlets.optimizer.evidence.Evidence`).
        min_pushes: pushes of a pipeline likewise.
        alpha: significance of the per-pipeline backtest.
    """

    threshold: float | None = None
    max_pushes_missed: float = 0.02
    mode: Mode = "cost"
    max_staleness_hours: float | None = 24.0 * 7
    max_trainings_without_push: int | None = 5
    min_history: int = 20
    holdout_fraction: float = 0.3
    min_trainings: int = Evidence.min_trainings
    min_pushes: int = Evidence.min_pushes
    alpha: float = Evidence.alpha

    def __post_init__(self) -> None:
        check_mode(self.mode)
        self.evidence  # noqa: B018  (validates the minimums)

    @property
    def evidence(self) -> Evidence:
        """The evidence minimums as :class:`Evidence`."""
        return Evidence(self.min_trainings, self.min_pushes, self.alpha)

    @property
    def ranking(self) -> Mode:
        """The score trainings are compared on: probability under a fixed threshold."""
        return "probability" if self.threshold is not None else self.mode

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> GateConfig:
        """Defaults, then ``GRAPHLETS_PRUNE_*`` variables (``none`` turns a guard off), then
        ``overrides``."""
        source = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name, kind in (
            ("threshold", float),
            ("max_pushes_missed", float),
            ("mode", str),
            ("max_staleness_hours", float),
            ("max_trainings_without_push", int),
            ("min_history", int),
            ("min_trainings", int),
            ("min_pushes", int),
        ):
            raw = source.get(ENV_PREFIX + name.upper())
            if raw is not None:
                values[name] = None if raw.strip().lower() == "none" else kind(raw)
        values.update(overrides)
        return cls(**values)


@dataclass
class _Fitted:
    """A predictor fitted on a history, with its threshold."""

    key: tuple[int, float]
    predictor: Predictor
    threshold: float
    trained_on: int
    fallback_cost: float
    abstain: str | None = None
    backtest: dict[str, tuple[int, int]] = field(default_factory=dict)
    level: float | None = None


@dataclass
class PruningGate:
    """The hook implementation (one per runner; it caches its model between trainings)."""

    config: GateConfig = field(default_factory=GateConfig.from_env)
    fitted: _Fitted | None = None
    abstentions: dict[str, str] = field(default_factory=dict)

    @hookimpl
    def should_skip_execution(
        self,
        store: MetadataStore,
        pipeline: Any,
        run_context: Context,
        node: Any,
        execution_type: ExecutionType,
        inputs: Mapping[str, Sequence[Artifact]],
    ) -> SkipDecision | None:
        """Skip the training ``node`` when it is predicted not to be pushed (see the module)."""
        if not is_training(node, execution_type):
            return None
        pending = Pending(
            pipeline=str(pipeline.name),
            node=str(node.name),
            execution_type=execution_type.name,
            inputs=inputs,
            run_context_id=run_context.id,
            t=int(time.time() * 1000),
            code=_code(node),
            config=_config(pipeline, node),
        )
        return self.decide(store, pending)

    def decide(self, store: MetadataStore, pending: Pending) -> SkipDecision | None:
        """The decision for one pending training (the hook without the runner's objects)."""
        history = load_history(store)
        fitted = self._fit(history)
        if fitted is None:
            self._abstain(pending.pipeline, _too_little(history, self.config))
            return None
        why = self._evidence(history, fitted, pending.pipeline)
        if why is not None:
            self._abstain(pending.pipeline, why)
            return None
        self.abstentions.pop(pending.pipeline, None)
        row = candidate_row(store, pending, history.decisions)
        feats = online_features(history.decisions, row)
        p = float(fitted.predictor.predict(feats)[0])
        cost = feats["cost_est"].to_numpy()
        s = float(score(np.array([p]), cost, self.config.ranking, fitted.fallback_cost)[0])
        if not s < fitted.threshold:
            return None
        guard = self._guard(store, pending, feats)
        if guard is not None:
            return None
        return SkipDecision(
            reason=f"{SKIP_REASON} (p={p:.3f} < {self._shown(fitted, p, s)})",
            details={
                "probability": round(p, 6),
                "threshold": fitted.threshold,
                "score": s,
                "mode": self.config.ranking,
                "predictor": fitted.predictor.kind,
                "trained_on": fitted.trained_on,
                "max_pushes_missed": self.config.max_pushes_missed,
                "level": fitted.level,
                "evidence": {
                    "min_trainings": self.config.min_trainings,
                    "min_pushes": self.config.min_pushes,
                },
                "guards": {
                    "max_staleness_hours": self.config.max_staleness_hours,
                    "max_trainings_without_push": self.config.max_trainings_without_push,
                },
            },
        )

    def _abstain(self, pipeline: str, reason: str) -> None:
        """Run the training; log the reason when it is new for this pipeline."""
        if self.abstentions.get(pipeline) != reason:
            log.warning("pruning gate, pipeline %s: %s", pipeline, reason)
        self.abstentions[pipeline] = reason

    def _evidence(self, history: History, fitted: _Fitted, pipeline: str) -> str | None:
        """Why the gate may not act on ``pipeline`` yet (None: it may)."""
        d = history.decisions.filter(
            (pl.col("pipeline") == pipeline) & pl.col("label").is_not_null()
        )
        pushes = int((d["label"] == 1).sum())
        why = short_of(d.height, pushes, self.config.evidence)
        if why is not None or self.config.threshold is not None:
            return why
        if fitted.abstain is not None:
            return fitted.abstain
        m, n = fitted.backtest.get(pipeline, (0, 0))
        return backtest_reason(m, n, self.config.max_pushes_missed, self.config.alpha)

    def _shown(self, fitted: _Fitted, p: float, s: float) -> str:
        if self.config.ranking == "probability":
            return f"threshold {fitted.threshold:.3f}"
        return f"cost-aware threshold {fitted.threshold:.3g} (score {s:.3g})"

    def _fit(self, history: History) -> _Fitted | None:
        """The predictor for this history (refitted when outcomes were added)."""
        d = history.decisions
        decided = d.filter(pl.col("label").is_not_null())
        if decided.height < self.config.min_history or decided["label"].n_unique() < 2:
            return None
        key = (decided.height, float(decided["known"].max() or 0))  # type: ignore[arg-type]
        if self.fitted is not None and self.fitted.key == key:
            return self.fitted
        self.fitted = fit_gate_model(history, self.config, key)
        return self.fitted

    def _guard(self, store: MetadataStore, pending: Pending, feats: pl.DataFrame) -> str | None:
        """The guard that forbids skipping, if any."""
        cfg = self.config
        hours = float(feats["hours_since_push"][0])
        if cfg.max_staleness_hours is not None and not hours <= cfg.max_staleness_hours:
            return "freshness"
        if cfg.max_trainings_without_push is not None:
            ran = feats["trainings_since_push"][0]
            since_push = 0.0 if np.isnan(ran) else float(ran) + 1.0
            since_push += _skipped_since(store, pending, hours)
            if since_push >= cfg.max_trainings_without_push:
                return "cadence"
        return None


def fit_gate_model(history: History, cfg: GateConfig, key: tuple[int, float]) -> _Fitted:
    """Fit on the older part of the decided history and predict the newest part (held out, so
    its predictions are honest); backtest a threshold chosen on the held-out part's older half
    against its newer half; calibrate and choose the threshold on the whole held-out part at the
    level the backtest allows; then refit on all of it."""
    d = history.decisions
    feats = build_features(d)
    feats = d.select("gid").join(feats, on="gid", how="left", maintain_order="left")
    decided = (d["label"].is_not_null()).to_numpy()
    order = np.argsort(d["known"].fill_null(np.iinfo(np.int64).max).to_numpy(), kind="stable")
    rows = order[decided[order]]
    cut = int(len(rows) * (1 - cfg.holdout_fraction))
    old, new = rows[:cut], rows[cut:]
    y = d["label"].fill_null(-1).to_numpy()
    first = Predictor("lightgbm").fit(feats[old], y[old])
    raw = first.raw(feats[new])
    cost = feats["cost_est"].to_numpy()
    finite = cost[np.isfinite(cost)]
    fallback = float(np.median(finite)) if finite.size else 1.0
    model = Predictor("lightgbm").fit(feats[rows], y[rows])
    model.calibrator = calibrator(raw, y[new])
    fitted = _Fitted(key, model, float("-inf"), len(rows), fallback)
    if cfg.threshold is not None:
        fitted.threshold = cfg.threshold
        return fitted
    names = d["pipeline"].fill_null("").to_numpy().astype(str)[new]
    _backtest(fitted, raw, y[new], cost[new], names, cfg)
    p_new = apply_calibration(model.calibrator, raw)
    s = score(np.asarray(p_new), cost[new], cfg.ranking, fallback)
    thr = conformal_threshold(s[y[new] == 1], fitted.level or cfg.max_pushes_missed)
    if thr is None and fitted.abstain is None:
        have = int((y[new] == 1).sum())
        fitted.abstain = too_few_reason(have, fitted.level or 0.0, "held-out pushes")
    fitted.threshold = float("-inf") if thr is None else thr
    return fitted


def _backtest(
    fitted: _Fitted,
    raw: np.ndarray,
    y: np.ndarray,
    cost: np.ndarray,
    names: np.ndarray,
    cfg: GateConfig,
) -> None:
    """Choose a threshold on the older half of the held-out rows (calibrated on it alone) and
    count the pushes of the newer half it would have skipped, pooled and per pipeline."""
    budget = cfg.max_pushes_missed
    half = len(raw) // 2
    iso = calibrator(raw[:half], y[:half])
    s = score(np.asarray(apply_calibration(iso, raw)), cost, cfg.ranking, fitted.fallback_cost)
    thr = conformal_threshold(s[:half][y[:half] == 1], budget)
    later = np.arange(len(raw)) >= half
    pushed = later & (y == 1)
    n = int(pushed.sum())
    if thr is None or n < needed_pushes(budget):
        have = int((y[:half] == 1).sum()) if thr is None else n
        what = "held-out pushes to choose a threshold on" if thr is None else "backtest pushes"
        fitted.abstain = too_few_reason(have, budget, what)
        fitted.level = budget
        return
    missed = pushed & (s < thr)
    for name in np.unique(names[pushed]):
        mine = names == name
        fitted.backtest[str(name)] = (int((missed & mine).sum()), int((pushed & mine).sum()))
    fitted.level = adjusted_level(budget, int(missed.sum()), n)


def _too_little(history: History, cfg: GateConfig) -> str:
    """Why no model could be fitted: too few decided trainings, or one outcome only."""
    decided = history.decisions.filter(pl.col("label").is_not_null())
    if decided.height < cfg.min_history:
        have, need = decided.height, cfg.min_history
        return f"abstained: {have} decided trainings in the store, needs {need}"
    return "abstained: every decided training had the same outcome"


def is_training(node: Any, execution_type: ExecutionType) -> bool:
    """A node that trains: its type is in the training category, or it outputs a Model."""
    if categorize(execution_type.name) == "training":
        return True
    outputs = getattr(node, "outputs", {}) or {}
    return any(getattr(o, "type_name", None) == "Model" for o in outputs.values())


def _code(node: Any) -> dict[str, str]:
    fp = getattr(node, "code_fingerprint", None)
    return {"code_fingerprint": str(fp)} if fp else {}


def _config(pipeline: Any, node: Any) -> dict[str, str]:
    """``param.<name>`` as the runner records them, rendered as the store's text (see trace)."""
    values = pipeline.param_values(node.name) if hasattr(pipeline, "param_values") else {}
    out = {}
    for name, value in values.items():
        if isinstance(value, bool):
            text = ""
        elif isinstance(value, int | float | str):
            text = str(value)
        else:
            text = json.dumps(value, sort_keys=True, default=str)
        out[f"param.{name}"] = text
    return out


def _skipped_since(store: MetadataStore, pending: Pending, hours_since_push: float) -> float:
    """Trainings of this node the gate skipped since the last push (all of them if none)."""
    since = 0 if np.isnan(hours_since_push) else pending.t - hours_since_push * HOUR_MS
    n = 0
    for e in store.get_executions_by_type(pending.execution_type):
        if (
            e.last_known_state == ExecutionState.CANCELED
            and e.custom_properties.get("node") == pending.node
            and e.custom_properties.get("pipeline") == pending.pipeline
            and str(e.custom_properties.get("skip_reason", "")).startswith(SKIP_REASON)
            and e.create_time_since_epoch >= since
        ):
            n += 1
    return float(n)


_DEFAULT: PruningGate | None = None


@hookimpl
def should_skip_execution(
    store: MetadataStore,
    pipeline: Any,
    run_context: Context,
    node: Any,
    execution_type: ExecutionType,
    inputs: Mapping[str, Sequence[Artifact]],
) -> SkipDecision | None:
    """Module-level hook (``GRAPHLETS_PLUGINS=graphlets.optimizer.gate``): one gate configured
    from ``GRAPHLETS_PRUNE_*``."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = PruningGate()
    return _DEFAULT.should_skip_execution(
        store, pipeline, run_context, node, execution_type, inputs
    )
