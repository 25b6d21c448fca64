"""The fleet: pipelines by lifespan and run frequency, models and push rate per pipeline.

A pipeline is a ``pipeline`` context. Its lifespan is the time from its first execution's start to
its last execution's end, by the times the executions recorded (``start_ms``/``end_ms`` of
:class:`~graphlets.analytics.data.ReportData`; MLMD's create/update times where none was
recorded). Its runs are its ingest executions (one per TFX run) or, for pipelines without ingest,
its trainings; its run frequency is the median time between consecutive runs,
bucketed as in Xin et al.'s analysis (hourly ... monthly). Models per pipeline counts graphlets
(completed trainings that produced a model).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from graphlets.analytics.data import ReportData
from graphlets.analytics.stats import describe, histogram, labelled, share

DAY_MS, HOUR_MS = 86_400_000, 3_600_000
LIFESPAN_EDGES = (0, 1, 7, 14, 30, 60, 90, 120, 180, 365, 10**6)
MODEL_EDGES = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10**9)
RATE_EDGES = tuple(round(x, 1) for x in np.linspace(0, 1, 11))
# (label, upper bound of the median gap between runs, in hours)
FREQUENCIES = (
    ("hourly", 2.0),
    ("several a day", 16.0),
    ("daily", 84.0),
    ("weekly", 384.0),
    ("monthly or rarer", float("inf")),
)
ONE_RUN = "single run"


def pipeline_table(data: ReportData) -> pl.DataFrame:
    """One row per pipeline: lifespan, runs, median gap, frequency, models, pushes."""
    ex = data.executions.filter(pl.col("pipeline_id") >= 0)
    names = data.tables.pipelines.rename({"id": "pipeline_id", "name": "pipeline"})
    life = ex.group_by("pipeline_id").agg(
        pl.col("start_ms").min().alias("first_ms"), pl.col("end_ms").max().alias("last_ms")
    )
    runs = _run_gaps(data, ex)
    models = data.graphlets.group_by("pipeline_id").agg(
        pl.len().alias("models"),
        (pl.col("outcome") == "pushed").sum().alias("pushed"),
        (pl.col("outcome") != "pending").sum().alias("decided"),
    )
    table = (
        names.join(life, on="pipeline_id", how="left")
        .join(runs, on="pipeline_id", how="left")
        .join(models, on="pipeline_id", how="left")
        .with_columns(
            pl.col("runs", "models", "pushed", "decided").fill_null(0),
            ((pl.col("last_ms") - pl.col("first_ms")) / DAY_MS).alias("lifespan_days"),
        )
    )
    freq = [_frequency(h, n) for h, n in zip(table["gap_hours"], table["runs"], strict=True)]
    return table.with_columns(pl.Series("frequency", freq, dtype=pl.String))


def _run_gaps(data: ReportData, ex: pl.DataFrame) -> pl.DataFrame:
    """Runs per pipeline and the median hours between consecutive runs."""
    ingest = ex.filter(pl.col("category") == "ingest").select("pipeline_id", "start_ms")
    with_ingest = ingest["pipeline_id"].unique()
    trainings = data.graphlets.filter(~pl.col("pipeline_id").is_in(with_ingest.implode())).select(
        "pipeline_id", pl.col("trained_ms").alias("start_ms")
    )
    starts = pl.concat([ingest, trainings]).sort("pipeline_id", "start_ms")
    return starts.group_by("pipeline_id").agg(
        pl.len().alias("runs"),
        (pl.col("start_ms").diff().drop_nulls().median() / HOUR_MS).alias("gap_hours"),
    )


def _frequency(gap_hours: float | None, runs: int) -> str:
    if runs < 2 or gap_hours is None:
        return ONE_RUN
    return next(label for label, top in FREQUENCIES if gap_hours <= top)


def fleet_section(pipes: pl.DataFrame) -> dict[str, Any]:
    """Numbers about pipelines: how many, how long they live, how often they run and push."""
    life = pipes["lifespan_days"].drop_nulls().to_numpy()
    models = pipes["models"].to_numpy()
    decided = pipes.filter(pl.col("decided") > 0)
    rate = (decided["pushed"] / decided["decided"]).to_numpy()
    labels = [label for label, _ in FREQUENCIES] + [ONE_RUN]
    counts = pipes["frequency"].value_counts()
    by_freq = dict(zip(counts["frequency"], counts["count"], strict=True))
    freq_models = pipes.group_by("frequency").agg(pl.col("models").sum())
    models_by_freq = dict(zip(freq_models["frequency"], freq_models["models"], strict=True))
    top = pipes.sort("models", descending=True).head(10)
    return {
        "pipelines": pipes.height,
        "with_models": int((models > 0).sum()),
        "lifespan_days": describe(life),
        "lifespan_histogram": histogram(life, LIFESPAN_EDGES),
        "run_frequency": labelled(labels, [int(by_freq.get(k, 0)) for k in labels]),
        "models_by_run_frequency": labelled(
            labels, [int(models_by_freq.get(k, 0)) for k in labels]
        ),
        "runs_per_pipeline": describe(pipes["runs"].to_numpy()),
        "models_per_pipeline": describe(models),
        "models_per_pipeline_histogram": histogram(models, MODEL_EDGES),
        "top_pipelines_by_models": [
            {"pipeline": p, "models": int(m), "push_rate": share(pu, d)}
            for p, m, pu, d in zip(
                top["pipeline"], top["models"], top["pushed"], top["decided"], strict=True
            )
        ],
        "push_rate_per_pipeline": describe(rate),
        "push_rate_per_pipeline_histogram": histogram(rate, RATE_EDGES),
        "pipelines_never_pushing": int((decided["pushed"] == 0).sum()),
    }
