"""Cost of each execution, by DESIGN.md's rule, vectorised over all executions.

A trace that carries a cost property is believed (the first of ``config.cost_properties`` found,
a property before a custom property of the same name). Otherwise cost is wall time: the runner's
``end_time_ms - start_time_ms`` when both are recorded, else MLMD's own
``last_update_time_since_epoch - create_time_since_epoch`` (what a TFX store has), in seconds, times
a per-type weight. Every execution keeps the name of the source it used, so reports can say how much
of a total is measured and how much is wall time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from graphlets.lineage.config import CATEGORIES, GraphletConfig

WALL_PROPERTIES = "wall_time:start_end_ms"
WALL_MLMD = "wall_time:mlmd_times"


@dataclass(frozen=True)
class ExecutionCosts:
    """Per-execution cost (seconds or the trace's unit), and where each came from.

    Attributes:
        cost: one float per execution row.
        source: index into ``labels`` per execution row.
        labels: ``property:<name>`` for each cost property, then the two wall-time sources.
    """

    cost: np.ndarray
    source: np.ndarray
    labels: tuple[str, ...]

    def source_counts(self) -> dict[str, int]:
        """How many executions used each source (sources never used are left out)."""
        counts = np.bincount(self.source, minlength=len(self.labels))
        return {lbl: int(n) for lbl, n in zip(self.labels, counts, strict=True) if n}


def execution_costs(
    executions: pl.DataFrame, weights: np.ndarray, config: GraphletConfig
) -> ExecutionCosts:
    """Cost of every row of ``executions`` (a :class:`LineageTables` executions table).

    Args:
        executions: the loaded executions with the configured property columns.
        weights: wall-time weight per row (see :func:`type_weights`).
        config: cost property names and wall-time properties.
    """
    n = executions.height
    labels = (*(f"property:{p}" for p in config.cost_properties), WALL_PROPERTIES, WALL_MLMD)
    cost = np.full(n, np.nan)
    source = np.full(n, len(labels) - 1, dtype=np.int8)
    for i, name in enumerate(config.cost_properties):
        value = executions[name].to_numpy()
        take = np.isnan(cost) & np.isfinite(value)
        cost[take], source[take] = value[take], i
    from_property = ~np.isnan(cost)
    start = executions[config.start_property].to_numpy()
    end = executions[config.end_property].to_numpy()
    wall_props = ~from_property & np.isfinite(start) & np.isfinite(end)
    mlmd = executions["update_ms"].to_numpy() - executions["create_ms"].to_numpy()
    wall = np.where(wall_props, end - start, mlmd) / 1000.0
    source[wall_props] = len(labels) - 2
    scale = weights if config.weight_property_costs else np.where(from_property, 1.0, weights)
    cost = np.where(from_property, cost, wall) * scale
    return ExecutionCosts(np.clip(np.nan_to_num(cost), 0.0, None), source, labels)


def type_weights(
    type_names: list[str], categories: np.ndarray, config: GraphletConfig
) -> np.ndarray:
    """Weight per execution type: by exact type name, else by category id, else the default."""
    w = config.type_weights
    return np.array(
        [
            w.get(name, w.get(CATEGORIES[int(cat)], config.default_weight))
            for name, cat in zip(type_names, categories, strict=True)
        ],
        dtype=np.float64,
    )
