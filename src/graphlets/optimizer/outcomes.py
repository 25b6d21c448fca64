"""What a set of skipped trainings would have saved and cost, on the evaluated period.

Definitions (the replay's output states them too):

* ``waste_saved_fraction``: waste of the skipped trainings / waste of all trainings in the period,
  with DESIGN.md's waste (the cost of unpushed and failed graphlets: anchor, downstream and their
  split share of upstream).
* ``avoidable_waste_saved_fraction``: the same, counting only the anchor and downstream cost of the
  skipped wasted trainings. The gate decides just before the trainer starts, so the upstream steps
  (ingest, statistics, transform) have already run: this is the part of the waste a skip prevents.
* ``compute_saved_fraction``: anchor and downstream cost of all skipped trainings / cost of every
  execution that started in the period (inside graphlets or not).
* ``pushes_missed_fraction``: skipped trainings that pushed / trainings that pushed in the period.
* ``pushes_delayed``: missed pushes after which the same series pushed again (a later training
  that ran), ``pushes_lost`` the rest; ``delay_hours`` how long until that later push.
* ``staleness_increase_hours``: how much older the production model of a series is than it was in
  the recorded history, while pushes are missed; ``mean`` over all series-time of the period from
  each series' first push, ``max`` the largest gap at any moment. A missed push that was its
  series' first leaves no model to compare with: it is counted in ``first_pushes_missed`` and
  left out of the staleness figures.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from graphlets.optimizer.features import HOUR_MS

WASTED = ("unpushed", "failed")


def realised(
    d: pl.DataFrame,
    evaluated: np.ndarray,
    skip: np.ndarray,
    total_cost: float,
    period: tuple[int, int],
) -> dict[str, Any]:
    """The figures of skipping ``skip`` among the ``evaluated`` rows of decision table ``d``."""
    s = skip & evaluated
    waste = d["waste"].to_numpy()
    avoidable = d["avoidable"].to_numpy()
    pushed = (d["label"] == 1).fill_null(False).to_numpy()
    wasted = d["outcome"].is_in(list(WASTED)).to_numpy()
    waste_total = float(waste[evaluated].sum())
    n_pushed = int((pushed & evaluated).sum())
    n_eval = int(evaluated.sum())
    missed = int((s & pushed).sum())
    out: dict[str, Any] = {
        "skipped": int(s.sum()),
        "skip_rate": _ratio(s.sum(), n_eval),
        "waste_saved_fraction": _ratio(waste[s].sum(), waste_total),
        "avoidable_waste_saved_fraction": _ratio(avoidable[s & wasted].sum(), waste_total),
        "compute_saved_fraction": _ratio(avoidable[s].sum(), total_cost),
        "pushes_missed": missed,
        "pushes_missed_fraction": _ratio(missed, n_pushed),
        "wasted_skipped": int((s & wasted).sum()),
    }
    out.update(push_delays(d, s & pushed, period))
    return out


def _ratio(a: float, b: float) -> float:
    return float(a) / float(b) if b else 0.0


def push_delays(d: pl.DataFrame, missed: np.ndarray, period: tuple[int, int]) -> dict[str, Any]:
    """Delayed and lost pushes, and the staleness they add (see the module docstring)."""
    pushes = d.select("series", "known", "t").with_columns(
        missed=pl.Series(missed), pushed=(d["label"] == 1).fill_null(False)
    )
    pushes = pushes.filter(pl.col("pushed")).sort("known")
    kept = pushes.filter(~pl.col("missed")).select("series", kept="known")
    lost = pushes.filter(pl.col("missed"))
    nxt = lost.join_asof(
        kept.with_columns(after=pl.col("kept")),
        left_on="known",
        right_on="kept",
        by="series",
        strategy="forward",
        check_sortedness=False,
        allow_exact_matches=False,
    )
    delays = ((nxt["after"] - nxt["known"]) / HOUR_MS).drop_nulls().to_numpy()
    mean_inc, max_inc, first = _staleness(pushes, kept, period)
    return {
        "pushes_delayed": int(delays.size),
        "pushes_lost": int(lost.height - delays.size),
        "first_pushes_missed": first,
        "delay_hours": {
            "mean": float(delays.mean()) if delays.size else 0.0,
            "max": float(delays.max()) if delays.size else 0.0,
        },
        "staleness_increase_hours": {"mean": mean_inc, "max": max_inc},
    }


def _staleness(
    pushes: pl.DataFrame, kept: pl.DataFrame, period: tuple[int, int]
) -> tuple[float, float, int]:
    """Time-averaged and largest gap (hours) between the recorded and the gated production
    model's push time, and how many missed pushes were a series' first (no model to compare)."""
    if pushes.height == 0:
        return 0.0, 0.0, 0
    start_ms, end_ms = period
    p = pushes.sort("known").with_columns(
        until=pl.col("known").shift(-1).over("series").fill_null(end_ms)
    )
    p = p.join_asof(
        kept.rename({"kept": "gated"}),
        left_on="known",
        right_on="gated",
        by="series",
        strategy="backward",
        check_sortedness=False,
    )
    hours = pl.Float64
    inside = pl.col("until").clip(start_ms, end_ms) - pl.col("known").clip(start_ms, end_ms)
    p = p.with_columns(
        gap=((pl.col("known") - pl.col("gated")).cast(hours) / HOUR_MS).clip(0.0),
        span=(inside.cast(hours) / HOUR_MS).clip(0.0),
    )
    first = int(p.filter(pl.col("missed") & pl.col("gated").is_null()).height)
    horizon = float(p["span"].sum())
    area = float((p["gap"].fill_null(0.0) * p["span"]).sum())
    biggest = p["gap"].max()
    return (
        area / horizon if horizon else 0.0,
        float(biggest) if biggest is not None else 0.0,  # type: ignore[arg-type]
        first,
    )
