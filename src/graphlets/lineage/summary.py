"""The headline numbers of a segmentation, as one JSON-ready dict.

Waste is the cost of graphlets whose outcome is ``unpushed`` or ``failed``. Two other kinds of lost
work are reported beside it and never mixed in: failed executions that belong to no graphlet (a
failed trainer, a failed ingest) and skipped trainings (CANCELED training executions, e.g. pruned).
``waste_fraction`` divides waste by the cost of *all* loaded executions, inside graphlets or not.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from graphlets.lineage.config import CATEGORIES, GraphletConfig
from graphlets.lineage.load import LineageTables
from graphlets.lineage.nodes import NodeInfo
from graphlets.lineage.outcome import OUTCOMES
from graphlets.lineage.segment import Membership
from graphlets.model.enums import ArtifactState, ExecutionState


def summarize(
    tables: LineageTables,
    info: NodeInfo,
    m: Membership,
    graphlets: pl.DataFrame,
    cfg: GraphletConfig,
    timings: dict[str, float],
) -> dict[str, Any]:
    """Counts by outcome, costs, waste, lost work outside graphlets, and where costs came from."""
    cost = info.costs.cost
    total = float(cost.sum())
    counts = graphlets["outcome"].value_counts()
    by_outcome = {str(k): int(v) for k, v in zip(counts["outcome"], counts["count"], strict=True)}
    in_graphlet = np.bincount(m.e_node, minlength=len(cost)) > 0
    waste = float(graphlets["waste"].sum())
    return {
        "graphlets": int(m.n),
        **{o: by_outcome.get(o, 0) for o in OUTCOMES},
        "waste_fraction": waste / total if total > 0 else 0.0,
        "waste_cost": waste,
        "total_cost": total,
        "graphlet_cost": float(graphlets["cost"].sum()),
        "unattributed_cost": float(cost[~in_graphlet].sum()),
        "cost_by_category": _by_category(cost, info.e_category),
        "failed_outside_graphlets": _failed_outside(info, in_graphlet),
        "skipped_trainings": _skipped(tables, info, cfg),
        "abandoned_models": int((info.a_model & (info.a_state == ArtifactState.ABANDONED)).sum()),
        "cost_source": info.costs.source_counts(),
        "cost_unit": "seconds unless the trace's cost property says otherwise",
        "sharing": cfg.sharing,
        "pipelines": int(tables.pipelines.height),
        "executions": int(tables.executions.height),
        "artifacts": int(tables.artifacts.height),
        "events": int(tables.events.height),
        "seconds": {k: round(v, 3) for k, v in timings.items()},
    }


def _by_category(cost: np.ndarray, category: np.ndarray) -> dict[str, float]:
    sums = np.bincount(category.astype(np.int64), weights=cost, minlength=len(CATEGORIES))
    return {c: float(v) for c, v in zip(CATEGORIES, sums, strict=True)}


def _failed_outside(info: NodeInfo, in_graphlet: np.ndarray) -> dict[str, Any]:
    lost = (info.e_state == ExecutionState.FAILED) & ~in_graphlet
    cost = info.costs.cost
    return {
        "executions": int(lost.sum()),
        "cost": float(cost[lost].sum()),
        "by_category": {
            c: int(n)
            for c, n in zip(
                CATEGORIES,
                np.bincount(info.e_category[lost], minlength=len(CATEGORIES)),
                strict=True,
            )
            if n
        },
    }


def _skipped(tables: LineageTables, info: NodeInfo, cfg: GraphletConfig) -> dict[str, Any]:
    training = CATEGORIES.index("training")
    skipped = (info.e_state == ExecutionState.CANCELED) & (info.e_category == training)
    reasons = tables.executions[cfg.skip_reason_property].filter(pl.Series(skipped))
    top = reasons.drop_nulls().value_counts(sort=True).head(10)
    return {
        "count": int(skipped.sum()),
        "cost": float(info.costs.cost[skipped].sum()),
        "with_skip_reason": int(reasons.drop_nulls().len()),
        "reasons": {str(r): int(n) for r, n in zip(top[top.columns[0]], top["count"], strict=True)},
    }
