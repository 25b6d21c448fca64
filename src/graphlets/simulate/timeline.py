"""One pipeline's life: which runs happen, what each component did, and every model's fate.

The random inputs come from :func:`graphlets.simulate.draws.draw`; this module makes one pass over
the runs and applies the rules that depend on the past: caching (a step whose inputs, code and
config did not change is CACHED), the schema still to be generated after a failed SchemaGen, the
topology after structure changes, and each trainer's push state, which the causal model
(:mod:`graphlets.simulate.causal`) compares every new model against. The result is a grid of
execution states, one row per run and one column per component node (:func:`columns`), plus the
verdicts and latent causes of every training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graphlets.simulate.causal import CAUSE, OUTCOME, explain, score_terms
from graphlets.simulate.config import FleetConfig
from graphlets.simulate.draws import Draws, draw
from graphlets.simulate.plan import DAY_MS, PipelinePlan

NONE, COMPLETE, FAILED, CACHED = -1, 3, 4, 5  # MLMD execution states (NONE: did not run)
EG, SG, SCH, VAL, TF = range(5)
UPSTREAM = ("ExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "Transform")
PER_TRAINER = ("Trainer", "Evaluator", "InfraValidator", "Pusher")
TRAIN, EVAL, INFRA, PUSH = range(4)


def col(trainer: int, step: int) -> int:
    """Grid column of ``PER_TRAINER[step]`` of trainer ``trainer``."""
    return len(UPSTREAM) + len(PER_TRAINER) * trainer + step


def columns(trainers: int) -> tuple[str, ...]:
    """Component of each grid column for a pipeline with ``trainers`` trainers."""
    return UPSTREAM + PER_TRAINER * trainers


@dataclass
class Timeline:
    """What happened in one pipeline (arrays over runs ``R``, columns ``C``, trainers ``T``).

    Attributes:
        plan: the pipeline.
        draws: its random inputs (times, spans, windows, changes, drift).
        state: ``[R, C]`` execution state per component node (NONE when it did not run).
        blessed / infra_ok / pushed: ``[R, T]`` verdicts (-1 when not decided).
        outcome / cause: ``[R, T]`` codes into ``causal.OUTCOMES`` / ``causal.CAUSES``.
        new_fraction / score: ``[R, T]`` latent values of each training (NaN if none).
    """

    plan: PipelinePlan
    draws: Draws
    state: np.ndarray
    blessed: np.ndarray
    infra_ok: np.ndarray
    pushed: np.ndarray
    outcome: np.ndarray
    cause: np.ndarray
    new_fraction: np.ndarray
    score: np.ndarray

    @property
    def runs(self) -> int:
        """Number of runs."""
        return len(self.draws.t)


def simulate_pipeline(cfg: FleetConfig, plan: PipelinePlan) -> Timeline:
    """Run pipeline ``plan`` through the window."""
    d = draw(cfg, plan, len(columns(plan.trainers)))
    p = _Pass(cfg, plan, d)
    for r in range(len(d.t)):
        p.step(r)
    n, tr = len(d.t), plan.trainers

    def grid(values: list[int]) -> np.ndarray:
        return np.array(values, dtype=np.int8).reshape(n, tr)

    return Timeline(
        plan=plan,
        draws=d,
        state=np.array(p.state, dtype=np.int8).reshape(n, len(columns(tr))),
        blessed=grid(p.blessed),
        infra_ok=grid(p.infra_ok),
        pushed=grid(p.pushed),
        outcome=grid(p.outcome),
        cause=grid(p.cause),
        new_fraction=np.array(p.new_fraction).reshape(n, tr),
        score=np.array(p.score).reshape(n, tr),
    )


class _Pass:
    """The state carried from run to run while one pipeline is simulated."""

    def __init__(self, cfg: FleetConfig, plan: PipelinePlan, d: Draws) -> None:
        self.cfg, self.plan, self.d = cfg, plan, d
        n, tr = len(d.t), plan.trainers
        self.cols = len(columns(tr))
        self.p_fail = [cfg.failures.get(c, 0.0) for c in columns(tr)]
        self.state = [NONE] * (n * self.cols)
        self.blessed, self.infra_ok, self.pushed = [-1] * (n * tr), [-1] * (n * tr), [-1] * (n * tr)
        self.outcome, self.cause = [0] * (n * tr), [0] * (n * tr)
        self.new_fraction, self.score = [float("nan")] * (n * tr), [float("nan")] * (n * tr)
        self.has_val, self.has_tf = plan.has_validator, plan.has_transform
        self.need_schema, self.tf_cached, self.structure = True, False, 0
        self.model_ok = [False] * tr
        self.push_hi, self.push_t = [-1] * tr, [-(2**62)] * tr
        self.push_code, self.push_config, self.push_struct = [0] * tr, [0] * tr, [0] * tr
        self.code_version, self.config_version = d.code_version, d.config_version
        self.freezes = [
            (cfg.start_ms + a * DAY_MS, cfg.start_ms + b * DAY_MS) for a, b in cfg.push.freezes
        ]

    def fails(self, r: int, c: int, boost: float = 1.0) -> bool:
        """Does grid column ``c`` fail in run ``r``? (records FAILED when it does)."""
        if self.d.fail_u[r, c] < self.p_fail[c] * boost:
            self.state[r * self.cols + c] = FAILED
            return True
        return False

    def set(self, r: int, c: int, state: int) -> None:
        self.state[r * self.cols + c] = state

    def step(self, r: int) -> None:
        """Simulate run ``r``: upstream components, then each trainer's chain."""
        d = self.d
        if d.eg_failed[r]:
            self.set(r, EG, FAILED)
            return
        new = bool(d.new_span[r])
        self.set(r, EG, COMPLETE if new else CACHED)
        if d.flip_validator[r]:
            self.has_val = not self.has_val
        if d.flip_transform[r]:
            self.has_tf, self.tf_cached = not self.has_tf, False
        if d.schema[r] or d.flip_validator[r] or d.flip_transform[r]:
            self.structure += 1
        self.need_schema = self.need_schema or bool(d.schema[r])
        fresh = self._upstream(r, new)
        if fresh is None:
            return
        fresh = fresh or bool(d.code[r] or d.config[r])
        for j in range(self.plan.trainers):
            self._trainer(r, j, fresh)

    def _upstream(self, r: int, new: bool) -> bool | None:
        """StatisticsGen .. Transform; None when one fails, else whether the inputs changed."""
        if new:
            if self.fails(r, SG):
                return None
            self.set(r, SG, COMPLETE)
        else:
            self.set(r, SG, CACHED)
        schema_new = self.need_schema
        if schema_new:
            if self.fails(r, SCH):
                return None
            self.set(r, SCH, COMPLETE)
            self.need_schema = False
        else:
            self.set(r, SCH, CACHED)
        if self.has_val:
            if not (new or schema_new):
                self.set(r, VAL, CACHED)
            elif self.fails(r, VAL):
                return None
            else:
                self.set(r, VAL, COMPLETE)
        changed = new or schema_new
        if self.has_tf:
            if not (changed or self.d.code[r] or not self.tf_cached):
                self.set(r, TF, CACHED)
            elif self.fails(r, TF, float(self.d.boost[r])):
                self.tf_cached = False
                return None
            else:
                self.set(r, TF, COMPLETE)
                self.tf_cached, changed = True, True
        return changed

    def _trainer(self, r: int, j: int, fresh: bool) -> None:
        """Trainer ``j`` of run ``r`` and, for a new model, its evaluation and push."""
        c, k = col(j, TRAIN), r * self.plan.trainers + j
        boost = float(self.d.boost[r])
        if not fresh and self.model_ok[j]:
            self.set(r, c, CACHED)
            return
        if self.fails(r, c, boost):
            self.model_ok[j] = False
            self.outcome[k] = OUTCOME["trainer_failed"]
            self.cause[k] = CAUSE["after_change" if boost > 1 else "random"]
            return
        self.set(r, c, COMPLETE)
        self.model_ok[j] = True
        terms = self._terms(r, j)
        self.score[k] = sum(terms)
        if r == len(self.d.t) - 1 and self.plan.alive_at_end:
            self.outcome[k] = OUTCOME["pending"]
            return
        self._evaluate_and_push(r, j, k, terms, boost)

    def _terms(self, r: int, j: int) -> tuple[float, ...]:
        d, k = self.d, r * self.plan.trainers + j
        lo, hi = int(d.win_lo[r]), int(d.win_hi[r])
        pushed_before = self.push_hi[j] >= 0
        newer = hi - max(lo - 1, self.push_hi[j])
        self.new_fraction[k] = min(1.0, max(0.0, newer / (hi - lo + 1)))
        code_v, config_v = int(self.code_version[r]), int(self.config_version[r])
        code = d.code_effect[code_v] if pushed_before and code_v != self.push_code[j] else 0.0
        config = (
            d.config_effect[config_v] if pushed_before and config_v != self.push_config[j] else 0.0
        )
        return score_terms(
            self.cfg.causal,
            self.plan.base[j],
            self.new_fraction[k],
            float(d.drift[r]),
            float(d.post[r]),
            float(code),
            float(config),
            pushed_before and self.structure != self.push_struct[j],
            float(d.noise[r, j]),
        )

    def _evaluate_and_push(
        self, r: int, j: int, k: int, terms: tuple[float, ...], boost: float
    ) -> None:
        if self.fails(r, col(j, EVAL), boost):
            self._failed(k, "evaluator_failure")
            return
        self.set(r, col(j, EVAL), COMPLETE)
        blessed = self.score[k] > 0
        self.blessed[k] = int(blessed)
        infra_ok = True
        if self.plan.has_infra:
            if self.fails(r, col(j, INFRA)):
                self._failed(k, "infra_failure")
                return
            self.set(r, col(j, INFRA), COMPLETE)
            infra_ok = bool(self.d.infra_u[r, j] >= self.cfg.push.p_infra_reject)
            self.infra_ok[k] = int(infra_ok)
        if self.fails(r, col(j, PUSH)):
            self._failed(k, "pusher_failure")
            return
        self.set(r, col(j, PUSH), COMPLETE)
        self.pushed[k] = 0
        blocker = self._blocker(r, j, infra_ok)
        if not blessed:
            self.outcome[k], self.cause[k] = OUTCOME["unblessed"], explain(terms, False)
        elif blocker:
            self.outcome[k], self.cause[k] = OUTCOME["blocked"], CAUSE[blocker]
        else:
            self.outcome[k], self.cause[k] = OUTCOME["pushed"], explain(terms, True)
            self.pushed[k] = 1
            self._record_push(r, j)

    def _blocker(self, r: int, j: int, infra_ok: bool) -> str:
        t = int(self.d.t[r])
        if not infra_ok:
            return "infra_validation"
        if t - self.push_t[j] < self.plan.min_push_ms:
            return "rate_limit"
        if any(a <= t < b for a, b in self.freezes):
            return "freeze"
        return ""

    def _failed(self, k: int, cause: str) -> None:
        self.outcome[k], self.cause[k] = OUTCOME["failed"], CAUSE[cause]

    def _record_push(self, r: int, j: int) -> None:
        self.push_hi[j], self.push_t[j] = int(self.d.win_hi[r]), int(self.d.t[r])
        self.push_code[j] = int(self.code_version[r])
        self.push_config[j] = int(self.config_version[r])
        self.push_struct[j] = self.structure
