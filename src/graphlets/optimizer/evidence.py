"""When the gate may act: evidence from the past alone that it holds its budget on a pipeline.

A threshold chosen for a budget of missed pushes is only as good as the past it was chosen from.
With a handful of pushes the quantile is noise; on a pipeline the predictor ranks badly, or after
a drift, the realised miss rate runs over the budget. So before it skips anything for a pipeline,
the gate asks the past three questions, and abstains (skips nothing there, and says why) until
all three are answered:

1. **Enough history on the pipeline**: at least ``min_trainings`` decided trainings and
   ``min_pushes`` pushes known before the decision (defaults 100 and 50: with 50 pushes the lowest
   past push score is a 2% quantile at all).
2. **Enough out-of-sample pushes to choose a threshold**: the threshold is the score under which
   a share ``level`` of past pushes fell, scored out of sample. By exchangeability a new push falls
   under the ``m``-th lowest of ``n`` past push scores with probability ``m / (n + 1)``, so the
   gate takes the largest ``m`` with ``m / (n + 1) <= level``; with ``n + 1 < 1 / level`` there is
   no such ``m``, and no threshold.
3. **A backtest that held the budget**: the gate's own earlier decisions (made with the thresholds
   it would have used then, whether it acted or abstained) are scored against the pushes that have
   since become known. Pooled over the eligible pipelines, a realised miss rate ``r`` above the
   budget ``b`` lowers the level to ``b * b / r`` (the threshold drifted; correct for it); too few
   backtested pushes means no evidence yet. On each pipeline, a miss count that a one-sided
   binomial test says is above the budget (p < ``alpha``) makes it abstain there.

Thresholds are per pipeline (the budget is held *there*, not only on the fleet's total, which a
fleet-wide threshold would meet by missing most pushes of a few expensive pipelines). Within a
step the gate also watches the scores themselves: when a pipeline's trainings fall under its
threshold far more often than its past trainings did (one-sided binomial test, ``shift_alpha``),
its scores have shifted in a way no outcome has confirmed yet, and it abstains for the rest of
the step.

Everything here reads only facts known at the decision time: labels with ``known <= t``, scores
made by models fitted before their own step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from graphlets.errors import InvalidArgumentError

ABSTAINED = "abstained"


@dataclass(frozen=True)
class Evidence:
    """How much past evidence the gate needs before it skips trainings of a pipeline.

    Attributes:
        min_trainings: decided trainings of the pipeline known before the decision.
        min_pushes: pushes of the pipeline known before the decision.
        alpha: significance of the per-pipeline backtest (abstain when its past misses are
            above the budget with p < alpha).
        shift_alpha: significance of the shift check within a step (abstain for the rest of
            the step when the pipeline's trainings fall under its threshold far more often than
            its past scores did); small, because it is tested at every decision.
    """

    min_trainings: int = 100
    min_pushes: int = 50
    alpha: float = 0.05
    shift_alpha: float = 1e-4

    def __post_init__(self) -> None:
        if self.min_trainings < 0 or self.min_pushes < 0:
            raise InvalidArgumentError(
                f"evidence minimums {self.min_trainings} trainings / {self.min_pushes} pushes "
                "are negative: pass counts >= 0"
            )
        for name in ("alpha", "shift_alpha"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise InvalidArgumentError(
                    f"evidence {name} {getattr(self, name)} is out of range: use [0, 1)"
                )


def needed_pushes(level: float) -> int:
    """Fewest past pushes for which a threshold at ``level`` exists (``1 / level - 1``; a
    level of 0 needs more than any history has)."""
    if level <= 0:
        return 2**62
    return max(math.ceil(1.0 / level - 1.0 - 1e-9), 1)


def conformal_threshold(pushed_scores: np.ndarray, level: float) -> float | None:
    """The score under which a new push falls with probability at most ``level`` (None when
    there are too few pushes, see the module docstring)."""
    s = np.sort(pushed_scores[np.isfinite(pushed_scores)])
    m = math.floor(level * (s.size + 1) + 1e-9)
    if m < 1:
        return None
    # Skip strictly below the m-th lowest: at most m - 1 past pushes lie under it.
    return float(s[m - 1]) if m <= s.size else float("inf")


def over_budget(misses: int, pushes: int, budget: float, alpha: float) -> bool:
    """True when ``misses`` of ``pushes`` is significantly above ``budget`` (one-sided
    binomial test at ``alpha``)."""
    if misses <= 0 or pushes <= 0:
        return False
    if budget <= 0:
        return True
    if budget >= 1:
        return False
    return binomial_tail(misses, pushes, budget) < alpha


def binomial_tail(k: int, n: int, q: float) -> float:
    """P(X >= k) for X ~ Binomial(n, q), 0 < q < 1 (summed in log space, stable for large n)."""
    log_q, log_r = math.log(q), math.log1p(-q)
    terms = [
        math.lgamma(n + 1)
        - math.lgamma(i + 1)
        - math.lgamma(n - i + 1)
        + i * log_q
        + (n - i) * log_r
        for i in range(k, n + 1)
    ]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def adjusted_level(budget: float, misses: int, pushes: int) -> float:
    """The level the threshold is chosen at after a backtest of ``misses`` in ``pushes``:
    the budget, lowered in proportion when the backtest ran over it."""
    if pushes <= 0 or misses <= 0:
        return budget
    rate = misses / pushes
    return budget if rate <= budget else budget * budget / rate


def short_of(trainings: int, pushes: int, ev: Evidence) -> str | None:
    """The count the pipeline lacks, as the reason a user reads, or None."""
    if trainings < ev.min_trainings:
        return f"{ABSTAINED}: {trainings} trainings, needs {ev.min_trainings}"
    if pushes < ev.min_pushes:
        return f"{ABSTAINED}: {pushes} pushes, needs {ev.min_pushes}"
    return None


def backtest_reason(misses: int, pushes: int, budget: float, alpha: float) -> str | None:
    """Why a pipeline's own backtest forbids acting, or None."""
    if over_budget(misses, pushes, budget, alpha):
        return (
            f"{ABSTAINED}: its past decisions would have missed {misses} of {pushes} pushes "
            f"({misses / pushes:.1%}), budget {budget:.1%}"
        )
    return None


def too_few_reason(have: int, level: float, what: str) -> str:
    """The reason for lacking out-of-sample pushes to choose (or check) a threshold."""
    return f"{ABSTAINED}: {have} {what}, needs {needed_pushes(level)}"


@dataclass(frozen=True)
class StepGate:
    """The gate's state through a replay.

    Attributes:
        thresholds: per step, the median of the pipelines' thresholds in force (``-inf``: none).
        levels: the quantile level the step's thresholds were chosen at (the budget, or lower
            after a backtest that ran over it).
        row_thresholds: per row, its pipeline's threshold at its step (``-inf``: none).
        eligible: per row, True when the gate could act on it (its pipeline had the evidence).
        reasons: per row, why the gate abstained (None where it was eligible or not scored).
    """

    thresholds: np.ndarray
    levels: np.ndarray
    row_thresholds: np.ndarray
    eligible: np.ndarray
    reasons: np.ndarray


def gate_steps(
    ranking: np.ndarray,
    label: np.ndarray,
    known: np.ndarray,
    step: np.ndarray,
    step_start: np.ndarray,
    pipeline: np.ndarray,
    budget: float,
    ev: Evidence,
    window_ms: float | None = None,
    calibrated: np.ndarray | None = None,
) -> StepGate:
    """Walk the steps in time order: per-pipeline thresholds, backtests and abstentions from the
    past only (see the module docstring). ``pipeline`` holds integer codes, one per row;
    ``calibrated`` says which steps' scores are comparable (None: all): only those give or use
    a threshold."""
    n_pipes = int(pipeline.max()) + 1 if pipeline.size else 0
    good = np.ones(len(step_start), dtype=bool) if calibrated is None else calibrated
    scored = (step >= 0) & np.isfinite(ranking) & np.append(good, False)[step]
    pushed, decided = label == 1, label >= 0
    thr = np.full(len(step_start), float("-inf"))
    levels = np.full(len(step_start), float(budget))
    row_thr = np.full(len(step), float("-inf"))
    missed = np.zeros(len(step), dtype=bool)
    eligible = np.zeros(len(step), dtype=bool)
    reasons = np.full(len(step), None, dtype=object)
    for k, t0 in enumerate(step_start):
        rows = np.flatnonzero(step == k)
        if rows.size == 0:
            continue
        seen = decided & (known <= t0)
        trainings = np.bincount(pipeline[seen], minlength=n_pipes)
        pushes = np.bincount(pipeline[seen & pushed], minlength=n_pipes)
        count_ok = (trainings >= ev.min_trainings) & (pushes >= ev.min_pushes)
        past = seen & pushed & scored
        if window_ms is not None:
            past &= known > t0 - window_ms
        tested = past & np.isfinite(row_thr)
        n_p = np.bincount(pipeline[tested], minlength=n_pipes)
        m_p = np.bincount(pipeline[tested & missed], minlength=n_pipes)
        failed = _failed_backtests(count_ok, m_p, n_p, budget, ev.alpha)
        usable = count_ok.copy()
        usable[list(failed)] = False
        # Pooled over the pipelines the gate may act on, the backtest sets the level.
        n_bt, m_bt = int(n_p[usable].sum()), int(m_p[usable].sum())
        levels[k] = adjusted_level(budget, m_bt, n_bt)
        own = _pipeline_thresholds(ranking, pipeline, past, rows, levels[k], budget, good[k])
        for p, t_p in own.items():
            mine = rows[pipeline[rows] == p]
            if t_p is not None:
                row_thr[mine] = t_p
                missed[mine] = pushed[mine] & (ranking[mine] < t_p)
            why = short_of(int(trainings[p]), int(pushes[p]), ev) or failed.get(int(p))
            if why is None and not good[k]:
                why = f"{ABSTAINED}: the push predictor is not fitted and calibrated yet"
            if why is None and t_p is None:
                why = _no_threshold(budget, int(n_p[p]), levels[k])
            if why is None and n_bt < needed_pushes(budget):
                why = too_few_reason(n_bt, budget, "past pushes to backtest the thresholds on")
            eligible[mine] = why is None
            reasons[mine] = why
            if why is None and t_p is not None:
                done = scored & (step >= 0) & (step < k) & (pipeline == p)
                _shift_check(
                    ranking, mine, ranking[done], t_p, levels[k], ev.shift_alpha, eligible, reasons
                )
        used = [t for t in own.values() if t is not None]
        thr[k] = float(np.median(used)) if used else float("-inf")
    return StepGate(thr, levels, row_thr, eligible, reasons)


def _shift_check(
    ranking: np.ndarray,
    mine: np.ndarray,
    before: np.ndarray,
    threshold: float,
    level: float,
    alpha: float,
    eligible: np.ndarray,
    reasons: np.ndarray,
) -> None:
    """Abstain for the rest of a step once the pipeline's trainings fall under the threshold far
    more often than its past scores did (a shift the predictor has not seen outcomes of yet).

    ``mine`` are the step's rows of one pipeline in time order; each decision sees the scores of
    the trainings before it and its own (all known when it starts), never an outcome."""
    expected = max(float(np.mean(before < threshold)) if before.size else level, level)
    under = np.cumsum(ranking[mine] < threshold)
    for n, i in enumerate(mine, start=1):
        c = int(under[n - 1])
        if c and ranking[i] < threshold and binomial_tail(c, n, min(expected, 0.999)) < alpha:
            why = (
                f"{ABSTAINED}: {c} of its {n} latest trainings scored under the threshold, "
                f"{expected:.1%} expected from its past: its scores shifted"
            )
            eligible[mine[n - 1 :]] = False
            reasons[mine[n - 1 :]] = why
            return


def _failed_backtests(
    count_ok: np.ndarray, misses: np.ndarray, pushes: np.ndarray, budget: float, alpha: float
) -> dict[int, str]:
    """Pipelines (of ``count_ok``) whose own backtest ran over the budget, with the reason."""
    out: dict[int, str] = {}
    for p in np.flatnonzero(count_ok):
        why = backtest_reason(int(misses[p]), int(pushes[p]), budget, alpha)
        if why is not None:
            out[int(p)] = why
    return out


def _pipeline_thresholds(
    ranking: np.ndarray,
    pipeline: np.ndarray,
    past: np.ndarray,
    rows: np.ndarray,
    level: float,
    budget: float,
    good: bool,
) -> dict[int, float | None]:
    """Each pipeline of ``rows``: the threshold from its own past out-of-sample push scores."""
    out: dict[int, float | None] = {}
    idx = np.flatnonzero(past)
    order = np.argsort(pipeline[idx], kind="stable")
    idx = idx[order]
    codes = pipeline[idx]
    for p in np.unique(pipeline[rows]):
        lo, hi = np.searchsorted(codes, p), np.searchsorted(codes, p, side="right")
        ok = budget > 0 and good
        out[int(p)] = conformal_threshold(ranking[idx[lo:hi]], level) if ok else None
    return out


def _no_threshold(budget: float, have: int, level: float) -> str:
    if budget <= 0:
        return f"{ABSTAINED}: a budget of 0 missed pushes allows no skip"
    return too_few_reason(have, level, "past pushes of the pipeline scored out of sample")


def abstention_report(
    gate: StepGate, evaluated: np.ndarray, names: np.ndarray
) -> dict[str, object]:
    """Where the gate abstained in the evaluated period, and why.

    Returns ``abstained`` (it acted on no evaluated training), ``abstention_reason`` (then: the
    reason in force at the end), ``abstained_trainings`` and ``abstentions``: per pipeline, the
    evaluated trainings it abstained on, of how many, and the latest reason.
    """
    rows = np.flatnonzero(evaluated & (gate.reasons != None))  # noqa: E711
    acted = bool((evaluated & gate.eligible).any())
    per: dict[str, dict[str, object]] = {}
    for i in rows:  # time order: the last reason wins
        name = str(names[i])
        entry = per.setdefault(name, {"pipeline": name, "trainings": 0, "reason": None})
        entry["trainings"] = int(entry["trainings"]) + 1  # type: ignore[call-overload]
        entry["reason"] = gate.reasons[i]
    totals: dict[str, int] = {}
    for name in names[evaluated]:
        totals[str(name)] = totals.get(str(name), 0) + 1
    listed = sorted(per.values(), key=lambda e: (-int(e["trainings"]), str(e["pipeline"])))  # type: ignore[call-overload]
    for e in listed:
        e["of"] = totals.get(str(e["pipeline"]), 0)
    last = gate.reasons[rows[-1]] if rows.size else None
    return {
        "abstained": not acted,
        "abstention_reason": None if acted else (last or f"{ABSTAINED}: nothing to decide"),
        "abstained_trainings": int(rows.size),
        "abstentions": listed,
    }
