"""Features of every training at its decision point, in bulk and for one new training.

Every feature of a training at time ``t`` is built from two kinds of facts:

* what earlier trainings *did* (their inputs, code, structure; rows of the same series that started
  before ``t``), and
* what earlier trainings *achieved* (their outcome), only once it was known: ``known <= t``.
  Outcomes are joined *as of* ``t`` on the time they became known, never on when the training
  started, so an hourly pipeline whose previous model is still being evaluated does not see that
  model's verdict.

Nothing about the training's own outcome (its blessing, push, cost, or any later run) enters. The
bulk path computes all rows at once with sorted joins; :func:`online_features` appends one new
training to a history and runs the same code, so both paths give the same numbers by construction.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

HOUR_MS = 3_600_000.0
DAY_MS = 86_400_000.0
RECENT = 5  # "last k" graphlets for push rates

# Numeric features the predictor uses (model_type is categorical, encoded by the predictor).
FEATURES: tuple[str, ...] = (
    "hours_since_prev",
    "overlap_prev",
    "new_spans_prev",
    "no_new_data",
    "undecided_prev",
    "code_changed_prev",
    "config_changed_prev",
    "structure_changed_prev",
    "schema_changed_prev",
    "ever_pushed",
    "hours_since_push",
    "hours_since_push_start",
    "new_frac_push",
    "spans_since_push",
    "trainings_since_push",
    "code_changed_push",
    "config_changed_push",
    "structure_changed_push",
    "schema_changed_push",
    "min_push_gap_h",
    "push_gap_ratio",
    "push_rate_k",
    "push_rate_all",
    "failed_rate_k",
    "n_decided",
    "unpushed_streak",
    "last_pushed",
    "pipeline_push_rate_k",
    "push_rate_same_code",
    "n_same_code",
    "push_rate_same_config",
    "fleet_push_rate_6h",
    "fleet_push_rate_24h",
    "fleet_push_rate_7d",
    "fleet_decided_24h",
    "n_spans",
    "data_bytes",
    "ingest_cost",
    "anomalies",
    "pipeline_age_days",
    "cost_est",
    "stats_dist_prev",
    "stats_dist_push",
)
CATEGORICAL: tuple[str, ...] = ("model_type",)
# (row's own column, the same column of the previous / pushed training, feature suffix)
_CHANGES = (
    ("code_fp", "code_changed"),
    ("config_fp", "config_changed"),
    ("structure", "structure_changed"),
    ("schema_id", "schema_changed"),
)
# A distance between two statistics artifacts (by id), NaN when it cannot be computed.
StatsDistance = Callable[[int, int], float]


def build_features(d: pl.DataFrame, stats: StatsDistance | None = None) -> pl.DataFrame:
    """Features of every row of a decision table (``trace.DECISION_COLUMNS``), same row order as
    ``d`` sorted by ``(t, gid)``; columns ``gid, t, model_type`` and :data:`FEATURES`."""
    d = d.sort("t", "gid").with_columns(pos=pl.int_range(pl.len()).over("series"))
    f = _previous(d)
    f = _last_push(f, d)
    f = _decided(f, d, "series", "")
    f = _decided(f, d, "pipeline", "pipeline_")
    f = _same_version(f, d, "code_fp", "code")
    f = _same_version(f, d, "config_fp", "config")
    f = _new_spans(f).sort("t", "gid")
    f = f.with_columns(_fleet(d))
    f = _distances(f, stats)
    f = f.with_columns(
        n_spans=pl.col("n_spans").cast(pl.Float64),
        pipeline_age_days=(pl.col("t") - pl.col("pipeline_first")) / DAY_MS,
        push_gap_ratio=pl.col("hours_since_push") / pl.col("min_push_gap_h"),
        trainings_since_push=(pl.col("pos") - pl.col("push_pos") - 1).cast(pl.Float64),
    )
    return f.select(
        "gid", "t", "model_type", *[pl.col(c).cast(pl.Float64).fill_null(np.nan) for c in FEATURES]
    )


def online_features(
    history: pl.DataFrame, candidate: pl.DataFrame, stats: StatsDistance | None = None
) -> pl.DataFrame:
    """Features of the ``candidate`` rows (not yet run, so ``known`` and ``label`` are null) given
    the decision table of everything before them."""
    both = pl.concat([history, candidate.select(history.columns)], how="vertical_relaxed")
    out = build_features(both, stats)
    return out.filter(pl.col("gid").is_in(candidate["gid"].implode()))


def _changed(a: str, b: str) -> pl.Expr:
    """1 when both are known and differ, 0 when equal, null when either is unknown."""
    return (
        pl.when(pl.col(a).is_null() | pl.col(b).is_null())
        .then(None)
        .otherwise((pl.col(a) != pl.col(b)).cast(pl.Float64))
    )


def _previous(d: pl.DataFrame) -> pl.DataFrame:
    """What the previous training of the same series used and whether its outcome is known yet."""
    cols = ["t", "spans", "span_max", "known", "stats_id"] + [c for c, _ in _CHANGES]
    prev = {f"prev_{c}": pl.col(c).shift(1).over("series") for c in cols}
    f = d.with_columns(**prev)
    inter = pl.col("spans").list.set_intersection("prev_spans").list.len()
    union = pl.col("spans").list.set_union("prev_spans").list.len()
    return f.with_columns(
        hours_since_prev=(pl.col("t") - pl.col("prev_t")) / HOUR_MS,
        overlap_prev=pl.when(pl.col("prev_t").is_null() | (union == 0))
        .then(None)
        .otherwise(inter / union),
        no_new_data=pl.when(pl.col("prev_span_max").is_null() | pl.col("span_max").is_null())
        .then(None)
        .otherwise((pl.col("span_max") <= pl.col("prev_span_max")).cast(pl.Float64)),
        undecided_prev=pl.when(pl.col("prev_t").is_null())
        .then(None)
        .otherwise(
            (pl.col("prev_known").is_null() | (pl.col("prev_known") > pl.col("t"))).cast(pl.Float64)
        ),
        **{f"{name}_prev": _changed(c, f"prev_{c}") for c, name in _CHANGES},
    )


def _last_push(f: pl.DataFrame, d: pl.DataFrame) -> pl.DataFrame:
    """The newest push of the series known at ``t`` (as-of join on when the push was known)."""
    pushes = (
        d.filter(pl.col("label") == 1)
        .sort("known")
        .select(
            "series",
            push_known="known",
            push_t="t",
            push_pos="pos",
            push_span_max="span_max",
            push_stats_id="stats_id",
            **{f"push_{c}": c for c, _ in _CHANGES},
        )
        .with_columns(
            min_push_gap_h=(pl.col("push_known").diff().over("series") / HOUR_MS)
            .cum_min()
            .over("series")
        )
    )
    f = f.sort("t").join_asof(
        pushes,
        left_on="t",
        right_on="push_known",
        by="series",
        strategy="backward",
        check_sortedness=False,
    )
    f = f.sort("t", "gid")
    return f.with_columns(
        ever_pushed=pl.col("push_known").is_not_null().cast(pl.Float64),
        hours_since_push=(pl.col("t") - pl.col("push_known")) / HOUR_MS,
        hours_since_push_start=(pl.col("t") - pl.col("push_t")) / HOUR_MS,
        spans_since_push=(pl.col("span_max") - pl.col("push_span_max")).cast(pl.Float64),
        **{f"{name}_push": _changed(c, f"push_{c}") for c, name in _CHANGES},
    )


def _decided(f: pl.DataFrame, d: pl.DataFrame, by: str, prefix: str) -> pl.DataFrame:
    """Push rates over the decided trainings of ``by`` (series or pipeline), as of ``t``."""
    label = pl.col("label").cast(pl.Float64)
    failed = (pl.col("outcome") == "failed").cast(pl.Float64)
    ev = (
        d.filter(pl.col("label").is_not_null())
        .sort("known", "gid")
        .select(
            by,
            ev_known="known",
            rate_k=label.rolling_mean(RECENT, min_samples=1).over(by),
            rate_all=label.cum_sum().over(by) / pl.int_range(1, pl.len() + 1).over(by),
            failed_k=failed.rolling_mean(RECENT, min_samples=1).over(by),
            n=pl.int_range(1, pl.len() + 1).over(by).cast(pl.Float64),
            last=label,
            streak=_streak(label).over(by),
            cost_k=pl.col("avoidable").rolling_mean(RECENT, min_samples=1).over(by),
        )
    )
    if prefix:
        ev = ev.select(by, "ev_known", **{f"{prefix}push_rate_k": "rate_k"})
    else:
        ev = ev.rename(
            {
                "rate_k": "push_rate_k",
                "rate_all": "push_rate_all",
                "failed_k": "failed_rate_k",
                "n": "n_decided",
                "last": "last_pushed",
                "streak": "unpushed_streak",
                "cost_k": "cost_est",
            }
        )
    out = f.sort("t").join_asof(
        ev, left_on="t", right_on="ev_known", by=by, strategy="backward", check_sortedness=False
    )
    out = out.drop("ev_known").sort("t", "gid")
    if not prefix:
        out = out.with_columns(n_decided=pl.col("n_decided").fill_null(0.0))
    return out


def _same_version(f: pl.DataFrame, d: pl.DataFrame, column: str, name: str) -> pl.DataFrame:
    """Push rate of the series' decided trainings that ran the same code (config) version as this
    one, as of ``t``: what a new version has shown so far."""
    by = ["series", column]
    label = pl.col("label").cast(pl.Float64)
    n = pl.int_range(1, pl.len() + 1).over(by).cast(pl.Float64)
    ev = (
        d.filter(pl.col("label").is_not_null() & pl.col(column).is_not_null())
        .sort("known", "gid")
        .select(
            *by,
            ev_known="known",
            **{f"push_rate_same_{name}": label.cum_sum().over(by) / n, f"n_same_{name}": n},
        )
    )
    out = f.sort("t").join_asof(
        ev, left_on="t", right_on="ev_known", by=by, strategy="backward", check_sortedness=False
    )
    return (
        out.drop("ev_known").sort("t", "gid").with_columns(pl.col(f"n_same_{name}").fill_null(0.0))
    )


def _streak(label: pl.Expr) -> pl.Expr:
    """Decided trainings since the last push (0 right after a push); use inside ``over``."""
    idx = pl.int_range(1, pl.len() + 1)
    last_push = pl.when(label == 1).then(idx).otherwise(None).forward_fill().fill_null(0)
    return (idx - last_push).cast(pl.Float64)


def _new_spans(f: pl.DataFrame) -> pl.DataFrame:
    """Spans of the window newer than the previous training's newest, and than the last push's."""
    rows = (
        f.select("gid", "spans", "prev_span_max", "push_span_max")
        .explode("spans")
        .group_by("gid")
        .agg(
            new_spans_prev=(pl.col("spans") > pl.col("prev_span_max")).sum(),
            new_push=(pl.col("spans") > pl.col("push_span_max")).sum(),
        )
    )
    f = f.join(rows, on="gid", how="left")
    n = pl.col("n_spans").cast(pl.Float64)
    return f.with_columns(
        new_spans_prev=pl.when(pl.col("prev_span_max").is_null())
        .then(None)
        .otherwise(pl.col("new_spans_prev").cast(pl.Float64)),
        new_frac_push=pl.when(pl.col("push_span_max").is_null() | (n == 0))
        .then(None)
        .otherwise(pl.col("new_push") / n),
    )


def _fleet(d: pl.DataFrame) -> list[pl.Series]:
    """Push rate of all trainings decided in the last 6 hours / day / week before each ``t``."""
    ev = d.filter(pl.col("label").is_not_null()).sort("known")
    known = ev["known"].to_numpy()
    pushed = np.concatenate([[0.0], np.cumsum(ev["label"].to_numpy().astype(np.float64))])
    t = d["t"].to_numpy()
    hi = np.searchsorted(known, t, side="right")
    out = []
    for name, span in (("6h", 6 * HOUR_MS), ("24h", DAY_MS), ("7d", 7 * DAY_MS)):
        lo = np.searchsorted(known, t - span, side="right")
        n = (hi - lo).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(n > 0, (pushed[hi] - pushed[lo]) / n, np.nan)
        out.append(pl.Series(f"fleet_push_rate_{name}", rate))
        if name == "24h":
            out.append(pl.Series("fleet_decided_24h", n))
    return out


def _distances(f: pl.DataFrame, stats: StatsDistance | None) -> pl.DataFrame:
    """Statistics distance of the newest span to the previous and to the pushed training's."""
    if stats is None:
        return f.with_columns(stats_dist_prev=pl.lit(np.nan), stats_dist_push=pl.lit(np.nan))
    cols = {}
    for name, other in (("stats_dist_prev", "prev_stats_id"), ("stats_dist_push", "push_stats_id")):
        pairs = zip(f["stats_id"].to_list(), f[other].to_list(), strict=True)
        cols[name] = [
            float("nan") if a is None or b is None else stats(int(a), int(b)) for a, b in pairs
        ]
    return f.with_columns(**{k: pl.Series(k, v, dtype=pl.Float64) for k, v in cols.items()})
