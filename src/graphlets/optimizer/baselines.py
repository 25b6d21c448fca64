"""What the gate is compared with: no pruning, random pruning, simple rules, the ranking's curve."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from graphlets.optimizer.outcomes import WASTED, realised

if TYPE_CHECKING:
    from graphlets.optimizer.replay import Replay

DEFINITIONS = {
    "waste": "cost of graphlets whose outcome is unpushed or failed: anchor, downstream and their "
    "split share of upstream (DESIGN.md, 'Model graphlet')",
    "waste_saved_fraction": "waste of skipped trainings / waste of all trainings in the "
    "evaluated period",
    "avoidable_waste_saved_fraction": "anchor + downstream cost of skipped wasted trainings / "
    "waste in the period (upstream steps ran before the decision point)",
    "compute_saved_fraction": "anchor + downstream cost of skipped trainings / cost of every "
    "execution that started in the period",
    "pushes_missed_fraction": "pushed trainings the gate would have skipped / pushed trainings in "
    "the period",
    "pushes_delayed": "missed pushes followed by a push of the same trainer that ran",
    "staleness_increase_hours": "extra age of the production model while pushes are missed: "
    "mean over series-time, max at any moment",
    "threshold": "median over refits of the threshold chosen from past pushes for the budget "
    "(a push probability in probability mode; p / ((1 - p) * cost) in cost mode)",
}
# Rules a team could write without a model: name -> (feature, skip when feature == value / >= ).
HEURISTICS: dict[str, tuple[str, str, float]] = {
    "skip_when_no_new_data": ("no_new_data", "==", 1.0),
    "skip_when_no_new_data_since_push": ("new_frac_push", "==", 0.0),
    "skip_after_3_unpushed": ("unpushed_streak", ">=", 3.0),
}


def no_pruning_and_random(r: Replay, skip: np.ndarray) -> dict[str, Any]:
    """No pruning, and the expected figures of random pruning at the gate's skip rate."""
    none = realised(r.d, r.evaluated, np.zeros_like(skip), r.total_cost, r.period)
    e = r.evaluated
    n = int(e.sum())
    q = float((skip & e).sum() / n) if n else 0.0
    waste = float(r.d["waste"].to_numpy()[e].sum())
    avoidable = r.d["avoidable"].to_numpy()
    wasted = r.d["outcome"].is_in(list(WASTED)).to_numpy()
    random = {
        "skip_rate": q,
        "waste_saved_fraction": q,
        "avoidable_waste_saved_fraction": q * avoidable[e & wasted].sum() / waste if waste else 0,
        "compute_saved_fraction": q * avoidable[e].sum() / r.total_cost if r.total_cost else 0,
        "pushes_missed_fraction": q,
        "note": "expected values of skipping each training with probability skip_rate",
    }
    return {"no_pruning": _brief(none), "random_same_rate": random}


def _brief(fig: dict[str, Any]) -> dict[str, Any]:
    keys = ("skip_rate", "waste_saved_fraction", "avoidable_waste_saved_fraction",
            "compute_saved_fraction", "pushes_missed_fraction")  # fmt: skip
    return {k: fig[k] for k in keys}


def heuristics(r: Replay) -> dict[str, dict[str, Any]]:
    """Figures of each rule in :data:`HEURISTICS` on the evaluated period."""
    out = {}
    for name, (col, op, value) in HEURISTICS.items():
        x = r.feats[col].to_numpy()
        hit = (x == value) if op == "==" else (x >= value)
        out[name] = realised(r.d, r.evaluated, hit & r.evaluated, r.total_cost, r.period)
    return out


def ranking_curve(r: Replay, ranking: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(pushes missed fraction, waste saved fraction) after skipping the k lowest-ranked evaluated
    rows, k = 0..n."""
    e = r.evaluated & np.isfinite(ranking)
    order = np.argsort(ranking[e], kind="stable")
    pushed = (r.d["label"] == 1).fill_null(False).to_numpy()[e][order]
    waste = r.d["waste"].to_numpy()[e][order]
    n_pushed = max(int((r.d["label"] == 1).fill_null(False).to_numpy()[r.evaluated].sum()), 1)
    total = float(r.d["waste"].to_numpy()[r.evaluated].sum()) or 1.0
    x = np.concatenate([[0.0], np.cumsum(pushed) / n_pushed])
    y = np.concatenate([[0.0], np.cumsum(waste) / total])
    return x, y


def realised_table(r: Replay, masks: dict[str, np.ndarray]) -> pl.DataFrame:
    """One row of figures per named skip mask (for benchmarks)."""
    rows = []
    for name, mask in masks.items():
        fig = realised(r.d, r.evaluated, mask & r.evaluated, r.total_cost, r.period)
        rows.append({"name": name, **_brief(fig)})
    return pl.DataFrame(rows)
