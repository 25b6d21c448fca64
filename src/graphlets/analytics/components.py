"""Components: how often each type runs (and fails, and hits the cache), and compute by category.

Type names are shown by their last dotted segment (``tfx.components.trainer.component.Trainer`` is
``Trainer``). A failure rate is FAILED / (COMPLETE + FAILED): a cache hit is not a run that could
fail. Compute is the lineage cost of every loaded execution (``cost_source`` says where it came
from), by the component categories of Xin et al.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from graphlets.analytics.data import ReportData
from graphlets.analytics.stats import rounded, share
from graphlets.lineage import CATEGORIES, CATEGORY_LABELS

STATES = ("COMPLETE", "CACHED", "FAILED", "CANCELED", "RUNNING", "NEW", "UNKNOWN")


def component_section(data: ReportData) -> dict[str, Any]:
    """Runs by component type and state, failure and cache rates, and failures by category."""
    ex = data.executions.with_columns(
        pl.col("type").str.split(".").list.last().alias("component"),
        pl.col("state").cast(pl.String),
    )
    by = ex.group_by("component", "state").agg(pl.len().alias("n"), pl.col("cost").sum())
    types: dict[str, dict[str, Any]] = {}
    for comp in by.sort("component")["component"].unique(maintain_order=True):
        rows = by.filter(pl.col("component") == comp)
        counts = dict(zip(rows["state"], rows["n"], strict=True))
        done, failed = int(counts.get("COMPLETE", 0)), int(counts.get("FAILED", 0))
        total = int(sum(counts.values()))
        types[str(comp)] = {
            "executions": total,
            "by_state": {s: int(counts[s]) for s in STATES if s in counts},
            "failure_rate": share(failed, done + failed),
            "cache_hit_rate": share(int(counts.get("CACHED", 0)), total),
            "cost": rounded(float(rows["cost"].sum())),
        }
    ordered = dict(sorted(types.items(), key=lambda kv: -kv[1]["executions"]))
    cat = ex.group_by("category").agg(
        pl.len().alias("n"),
        (pl.col("state") == "FAILED").sum().alias("failed"),
        (pl.col("state") == "COMPLETE").sum().alias("complete"),
    )
    failures = {
        str(c): share(int(f), int(f) + int(k))
        for c, f, k in zip(cat["category"], cat["failed"], cat["complete"], strict=True)
    }
    per_pipe = ex.filter(pl.col("pipeline_id") >= 0).unique(["pipeline_id", "component"])
    n_pipes = per_pipe["pipeline_id"].n_unique()
    pipes = per_pipe.group_by("component").len().sort("component")
    n_failed = int((ex["state"] == "FAILED").sum())
    n_runs = int(ex["state"].is_in(["COMPLETE", "FAILED"]).sum())
    return {
        "executions": ex.height,
        "by_type": ordered,
        "failure_rate": share(n_failed, n_runs),
        "failure_rate_by_category": {c: failures[c] for c in CATEGORIES if c in failures},
        "share_of_pipelines_with_component": {
            str(c): share(int(k), n_pipes)
            for c, k in zip(pipes["component"], pipes["len"], strict=True)
        },
    }


def compute_section(data: ReportData) -> dict[str, Any]:
    """Cost by category: all executions, inside graphlets, and wasted (unpushed or failed)."""
    summary = data.result.summary
    total = float(summary["total_cost"])
    g = data.result.graphlets
    wasted = g.filter(pl.col("outcome").is_in(["unpushed", "failed"]))
    by_cat = {c: float(v) for c, v in summary["cost_by_category"].items()}
    return {
        "unit": summary["cost_unit"],
        "cost_source": summary["cost_source"],
        "sharing": summary["sharing"],
        "total": rounded(total),
        "by_category": {c: rounded(v) for c, v in by_cat.items()},
        "share_by_category": {c: share(v, total) for c, v in by_cat.items()},
        "labels": dict(CATEGORY_LABELS),
        "in_graphlets": rounded(float(summary["graphlet_cost"])),
        "outside_graphlets": rounded(float(summary["unattributed_cost"])),
        "wasted_by_category": {c: rounded(float(wasted[f"cost_{c}"].sum())) for c in CATEGORIES},
    }
