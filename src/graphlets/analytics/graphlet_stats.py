"""Graphlets: size and topology, input overlap between trainings, outcomes, and waste by cause.

* **Topology** of a graphlet is the set of component categories among its executions; the report
  counts each set, and how many graphlets have a transform, a data validation step, a warm start.
* **Input overlap** compares each training with the previous training of the same trainer (same
  ``node`` context, else same pipeline): Jaccard similarity of their input spans, and the share of
  the later training's spans the earlier one already read.
* **Waste by cause** splits wasted graphlets three ways: *unblessed* (a ModelBlessing says
  ``blessed`` = 0), *blocked* (no push although nothing said the model was worse: an InfraValidator
  reject, a pusher that declined, a rate limit or freeze) and *failed* (a step after training
  failed).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl

from graphlets.analytics.data import ReportData
from graphlets.analytics.stats import describe, histogram, rounded, share
from graphlets.lineage import CATEGORIES, OUTCOMES

SIZE_EDGES = (0, 4, 6, 8, 10, 12, 14, 16, 20, 25, 30, 40, 60, 100, 10**6)
OVERLAP_EDGES = tuple(round(x, 1) for x in np.linspace(0, 1, 11))
CAUSES = ("unblessed", "blocked", "failed")
DAY_MS = 86_400_000
MONDAY = 3  # 1970-01-01 was a Thursday: day + 3 counts weeks from a Monday


def member_categories(data: ReportData) -> pl.DataFrame:
    """``graphlet_id, node_id, category, component`` for every execution member."""
    members = data.result.members.filter(pl.col("node_kind") == "execution")
    cats = data.result.executions.select(
        pl.col("id").alias("node_id"),
        "category",
        pl.col("type").str.split(".").list.last().alias("component"),
    )
    return members.select("graphlet_id", "node_id").join(cats, on="node_id", how="left")


def size_section(data: ReportData) -> dict[str, Any]:
    """Executions and artifacts per graphlet, topologies, warm starts, trainers per pipeline."""
    g = data.result.graphlets
    members = member_categories(data)
    cats = members.unique(["graphlet_id", "category"])
    n = g.height
    with_cat = cats.group_by("category").len()
    by_cat = dict(zip(with_cat["category"].cast(pl.String), with_cat["len"], strict=True))
    comps = members.unique(["graphlet_id", "component"]).group_by("component").len()
    signature = (
        cats.with_columns(
            pl.col("category").cast(pl.String), pl.col("category").to_physical().alias("order")
        )
        .sort("graphlet_id", "order")
        .group_by("graphlet_id")
        .agg(pl.col("category").str.join("+").alias("topology"))
    )
    topo = signature["topology"].value_counts(sort=True)
    return {
        "graphlets": n,
        "executions_per_graphlet": describe(g["n_executions"].to_numpy()),
        "artifacts_per_graphlet": describe(g["n_artifacts"].to_numpy()),
        "executions_histogram": histogram(g["n_executions"].to_numpy(), SIZE_EDGES),
        "topologies": {
            str(t): int(c) for t, c in zip(topo["topology"], topo["count"], strict=True)
        },
        "share_with_category": {c: share(int(by_cat.get(c, 0)), n) for c in CATEGORIES},
        "share_with_component": {
            str(c): share(int(k), n)
            for c, k in sorted(zip(comps["component"], comps["len"], strict=True))
        },
        "share_warm_started": share(_warm_started(data), n),
        "trainers_per_pipeline": _trainers_per_pipeline(data),
    }


def _warm_started(data: ReportData) -> int:
    """Graphlets whose anchor read an earlier model under the warm-start key."""
    key = data.result.config.not_followed_keys[0] if data.result.config.not_followed_keys else ""
    ev = data.tables.events.filter(
        (pl.col("key").cast(pl.String) == key) & (pl.col("type") == 3)  # INPUT
    )
    anchors = data.result.graphlets["anchor_execution_id"]
    return int(anchors.is_in(ev["execution_id"].unique().implode()).sum())


def _trainers_per_pipeline(data: ReportData) -> dict[str, Any]:
    """Distinct trainer nodes per pipeline (distinct anchor types where there are no nodes)."""
    per = data.graphlets.group_by("pipeline").agg(
        pl.col("node").filter(pl.col("node") >= 0).n_unique().alias("nodes"),
        pl.col("anchor_type").n_unique().alias("types"),
    )
    nodes = per["nodes"].to_numpy()
    counts = np.where(nodes > 0, nodes, per["types"].to_numpy())
    values, freq = np.unique(counts, return_counts=True)
    return {
        "describe": describe(counts),
        "pipelines_by_trainers": {str(int(v)): int(f) for v, f in zip(values, freq, strict=True)},
    }


def overlap_section(data: ReportData) -> dict[str, Any]:
    """Input overlap between consecutive trainings of the same trainer."""
    g = (
        data.graphlets.select("graphlet_id", "pipeline", "node", "trained_ms", "input_spans")
        .sort("pipeline", "node", "trained_ms", "graphlet_id")
        .with_columns(
            pl.col("graphlet_id").shift(1).over("pipeline", "node").alias("previous"),
            pl.col("input_spans").list.len().alias("size"),
        )
        .filter(pl.col("previous").is_not_null() & (pl.col("size") > 0))
    )
    spans = data.result.graphlets.select(
        pl.col("graphlet_id").alias("previous"), pl.col("input_spans").alias("prev_spans")
    )
    pairs = g.join(spans, on="previous", how="left").with_columns(
        pl.col("prev_spans").list.len().alias("prev_size"),
        pl.col("input_spans").list.set_intersection("prev_spans").list.len().alias("common"),
    )
    pairs = pairs.filter(pl.col("prev_size") > 0)
    common = pairs["common"].to_numpy().astype(float)
    union = (pairs["size"] + pairs["prev_size"]).to_numpy() - common
    jaccard = common / np.maximum(union, 1)
    seen = common / np.maximum(pairs["size"].to_numpy(), 1)
    return {
        "pairs": pairs.height,
        "jaccard": describe(jaccard),
        "jaccard_histogram": histogram(jaccard, OVERLAP_EDGES),
        "share_already_seen": describe(seen),
        "pairs_without_new_spans": int((seen >= 1.0).sum()),
        "pairs_disjoint": int((common == 0).sum()),
        "spans_per_training": describe(data.result.graphlets["input_spans"].list.len().to_numpy()),
    }


def outcome_section(data: ReportData) -> dict[str, Any]:
    """Outcomes, push rate, waste by category and by cause, and outcomes per week."""
    g = data.result.graphlets
    s = data.result.summary
    counts = {o: int(s.get(o, 0)) for o in OUTCOMES}
    decided = counts["pushed"] + counts["unpushed"] + counts["failed"]
    cause = _causes(data)
    waste = float(s["waste_cost"])
    return {
        "graphlets": int(s["graphlets"]),
        "by_outcome": counts,
        "push_rate": share(counts["pushed"], decided),
        "unpushed_share": share(decided - counts["pushed"], decided),
        "waste_fraction": rounded(float(s["waste_fraction"])),
        "waste_cost": rounded(waste),
        "total_cost": rounded(float(s["total_cost"])),
        "waste_by_cause": {
            c: {
                "graphlets": int((cause == c).sum()),
                "cost": rounded(float(g["waste"].filter(cause == c).sum())),
                "share_of_waste": share(float(g["waste"].filter(cause == c).sum()), waste),
            }
            for c in CAUSES
        },
        "failed_outside_graphlets": s["failed_outside_graphlets"],
        "skipped_trainings": s["skipped_trainings"],
        "abandoned_models": s["abandoned_models"],
        "by_week": _by_week(data.graphlets),
    }


def _causes(data: ReportData) -> pl.Series:
    """Waste cause per graphlet (empty when not wasted)."""
    g = data.result.graphlets
    cfg = data.result.config
    types = data.tables.types.filter(pl.col("name") == "ModelBlessing")["id"]
    rejected = data.tables.artifacts.filter(
        pl.col("type_id").is_in(types.implode()) & (pl.col(cfg.blessing_property) == 0)
    )["id"]
    hit = data.result.members.filter(
        (pl.col("node_kind") == "artifact") & pl.col("node_id").is_in(rejected.implode())
    )["graphlet_id"].unique()
    unblessed = g["graphlet_id"].is_in(hit.implode()).to_numpy()
    outcome = g["outcome"].cast(pl.String).to_numpy()
    cause = np.where(
        outcome == "failed",
        "failed",
        np.where(outcome == "unpushed", np.where(unblessed, "unblessed", "blocked"), ""),
    )
    return pl.Series("cause", cause, dtype=pl.String)


def _by_week(g: pl.DataFrame) -> dict[str, dict[str, int]]:
    """Graphlets by outcome, per week (from Monday) in which their training started."""
    if g.height == 0:
        return {}
    week = ((g["trained_ms"] // DAY_MS + MONDAY) // 7).alias("week")
    counts = (
        g.select(week, pl.col("outcome").cast(pl.String))
        .group_by("week", "outcome")
        .len()
        .sort("week")
    )
    out: dict[str, dict[str, int]] = {}
    for w, o, n in zip(counts["week"], counts["outcome"], counts["len"], strict=True):
        monday = dt.date(1970, 1, 1) + dt.timedelta(days=int(w) * 7 - MONDAY)
        out.setdefault(monday.isoformat(), dict.fromkeys(OUTCOMES, 0))[str(o)] = int(n)
    return out
