"""Segmentation output as tables: one row per graphlet, one per membership, one per execution.

Aggregations run over membership rows sorted by graphlet, so each per-graphlet number is one
``np.bincount`` or ``reduceat`` over millions of rows, never a Python loop over graphlets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from graphlets.errors import NotFoundError
from graphlets.lineage.arrays import positions, run_starts
from graphlets.lineage.config import CATEGORIES, GraphletConfig
from graphlets.lineage.graph import LineageIndex
from graphlets.lineage.load import LineageTables
from graphlets.lineage.nodes import NodeInfo, column
from graphlets.lineage.outcome import OUTCOMES, WASTED
from graphlets.lineage.segment import ROLES, Membership
from graphlets.lineage.sharing import shares
from graphlets.model.enums import ExecutionState
from graphlets.model.ids import parse_id

COST_COLUMNS = tuple(f"cost_{c}" for c in CATEGORIES)
STATES = tuple(s.name for s in ExecutionState)
KINDS = ("execution", "artifact")


def _enum(values: tuple[str, ...] | list[str], codes: np.ndarray) -> pl.Series:
    """An Enum column from integer codes (no Python string per row)."""
    cats = pl.Series(list(values), dtype=pl.Enum(list(values)))
    return cats.gather(codes.astype(np.int64))


@dataclass(frozen=True)
class GraphletResult:
    """Graphlets of a store.

    Attributes:
        graphlets: one row per graphlet (see ``docs/concepts/graphlets.md`` for the columns).
        members: ``graphlet_id, node_kind, node_id, type, role, share, cost``.
        executions: every loaded execution with ``type, category, state, cost, cost_source,
            graphlets`` (how many graphlets it belongs to).
        summary: the headline numbers (:func:`graphlets.lineage.summary.summarize`).
        config: the definition used.
    """

    graphlets: pl.DataFrame
    members: pl.DataFrame
    executions: pl.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    config: GraphletConfig = field(default_factory=GraphletConfig)

    def graphlet(self, graphlet_id: int | str) -> dict[str, Any]:
        """One graphlet's row and its members; ``graphlet_id`` is ``N`` or ``graphlet:N``."""
        gid = (
            parse_id(graphlet_id, ("graphlet",)).id if isinstance(graphlet_id, str) else graphlet_id
        )
        row = self.graphlets.filter(pl.col("graphlet_id") == gid)
        if row.height == 0:
            raise NotFoundError(
                f"graphlet:{gid} does not exist: graphlet ids are anchor execution ids; list them "
                "with `graphlets graphlets ls`"
            )
        members = self.members.filter(pl.col("graphlet_id") == gid).drop("graphlet_id")
        return {"graphlet": row.row(0, named=True), "members": members}


def build_tables(
    tables: LineageTables,
    index: LineageIndex,
    info: NodeInfo,
    m: Membership,
    outcome: np.ndarray,
    cfg: GraphletConfig,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The graphlet, membership and execution tables."""
    e_share = shares(m.e_g, m.e_node, index.n_exec, cfg.sharing)
    a_share = shares(m.a_g, m.a_node, index.n_art, cfg.sharing)
    row_cost = info.costs.cost[m.e_node] * e_share
    graphlets = _graphlet_table(tables, index, info, m, outcome, row_cost, cfg)
    members = _member_table(index, info, m, e_share, a_share, row_cost)
    return graphlets, members, _execution_table(tables, info, m, index.n_exec, cfg)


def _graphlet_table(
    tables: LineageTables,
    index: LineageIndex,
    info: NodeInfo,
    m: Membership,
    outcome: np.ndarray,
    row_cost: np.ndarray,
    cfg: GraphletConfig,
) -> pl.DataFrame:
    n, nc = m.n, len(CATEGORIES)
    cat = info.e_category[m.e_node].astype(np.int64)
    by_cat = np.bincount(m.e_g * nc + cat, weights=row_cost, minlength=n * nc).reshape(n, nc)
    shared = np.bincount(m.e_node, minlength=index.n_exec)[m.e_node] > 1
    cost = by_cat.sum(axis=1)
    wasted = np.isin(outcome, WASTED)
    start, end = _exec_times(tables, cfg)
    seg = np.flatnonzero(run_starts(m.e_g))
    frame = pl.DataFrame(
        {
            "graphlet_id": index.exec_ids[m.anchors],
            "pipeline": _pipeline_names(tables, m.anchors),
            "anchor_execution_id": index.exec_ids[m.anchors],
            "anchor_type": [info.type_names[t] for t in info.e_type[m.anchors]],
            "model_artifact_id": index.art_ids[m.models],
            "start_ms": np.minimum.reduceat(start[m.e_node], seg) if n else np.zeros(0, np.int64),
            "end_ms": np.maximum.reduceat(end[m.e_node], seg) if n else np.zeros(0, np.int64),
            "n_executions": np.bincount(m.e_g, minlength=n),
            "n_artifacts": np.bincount(m.a_g, minlength=n),
            "outcome": _enum(OUTCOMES, outcome),
            "cost": cost,
            **{c: by_cat[:, i] for i, c in enumerate(COST_COLUMNS)},
            "shared_cost": np.bincount(m.e_g, weights=row_cost * shared, minlength=n),
            "waste": np.where(wasted, cost, 0.0),
        },
        strict=False,
    )
    spans = _input_spans(tables, index, info, m, cfg)
    return (
        frame.join(spans, on="graphlet_id", how="left")
        .with_columns(pl.col("input_spans").fill_null(pl.lit([], dtype=pl.List(pl.Int64))))
        .select(_ORDER)
    )


_ORDER = (
    "graphlet_id",
    "pipeline",
    "anchor_execution_id",
    "anchor_type",
    "model_artifact_id",
    "start_ms",
    "end_ms",
    "n_executions",
    "n_artifacts",
    "input_spans",
    "outcome",
    "cost",
    *COST_COLUMNS,
    "shared_cost",
    "waste",
)


def _exec_times(tables: LineageTables, cfg: GraphletConfig) -> tuple[np.ndarray, np.ndarray]:
    """Start and end per execution: the runner's properties, else MLMD's create/update times."""
    ex = tables.executions
    s, e = column(ex, cfg.start_property), column(ex, cfg.end_property)
    start = np.where(np.isfinite(s), s, ex["create_ms"].to_numpy())
    end = np.where(np.isfinite(e), e, ex["update_ms"].to_numpy())
    return start.astype(np.int64), end.astype(np.int64)


def _pipeline_names(tables: LineageTables, anchors: np.ndarray) -> pl.Series:
    pids = tables.executions["pipeline_id"].to_numpy()[anchors]
    ctx = tables.pipelines
    pos, ok = positions(ctx["id"].to_numpy(), pids)
    names = np.array(ctx["name"].to_list() or [""], dtype=object)[pos]
    return pl.Series("pipeline", np.where(ok, names, None), dtype=pl.String)


def _input_spans(
    tables: LineageTables, index: LineageIndex, info: NodeInfo, m: Membership, cfg: GraphletConfig
) -> pl.DataFrame:
    if m.a_g.size == 0:
        return pl.DataFrame(schema={"graphlet_id": pl.Int64, "input_spans": pl.List(pl.Int64)})
    span = column(tables.artifacts, cfg.span_property)[m.a_node]
    ok = np.isfinite(span) & (m.a_role == ROLES.index("input"))
    if cfg.span_types:
        wanted = np.isin(np.array(info.type_names, dtype=object), list(cfg.span_types))
        ok &= wanted[info.a_type[m.a_node]]
    return (
        pl.DataFrame({"graphlet_id": index.exec_ids[m.anchors][m.a_g[ok]], "span": span[ok]})
        .with_columns(pl.col("span").cast(pl.Int64))
        .group_by("graphlet_id")
        .agg(pl.col("span").unique().sort().alias("input_spans"))
    )


def _member_table(
    index: LineageIndex,
    info: NodeInfo,
    m: Membership,
    e_share: np.ndarray,
    a_share: np.ndarray,
    row_cost: np.ndarray,
) -> pl.DataFrame:
    gid = index.exec_ids[m.anchors]
    names = sorted(set(info.type_names))
    code = np.searchsorted(np.array(names, dtype=object), np.array(info.type_names, dtype=object))
    e = pl.DataFrame(
        {
            "graphlet_id": gid[m.e_g],
            "node_kind": _enum(KINDS, np.zeros(len(m.e_g), dtype=np.int64)),
            "node_id": index.exec_ids[m.e_node],
            "type": _enum(names, code[info.e_type[m.e_node]]),
            "role": _enum(ROLES, m.e_role),
            "share": e_share,
            "cost": row_cost,
        }
    )
    a = pl.DataFrame(
        {
            "graphlet_id": gid[m.a_g],
            "node_kind": _enum(KINDS, np.ones(len(m.a_g), dtype=np.int64)),
            "node_id": index.art_ids[m.a_node],
            "type": _enum(names, code[info.a_type[m.a_node]]),
            "role": _enum(ROLES, m.a_role),
            "share": a_share,
            "cost": np.zeros(len(m.a_g)),
        }
    )
    both = pl.concat([e, a])
    # Each part is sorted by (graphlet, node); a stable sort on the graphlet merges the two runs.
    order = np.argsort(both["graphlet_id"].to_numpy(), kind="stable")
    return both[order]


def _execution_table(
    tables: LineageTables, info: NodeInfo, m: Membership, n_exec: int, cfg: GraphletConfig
) -> pl.DataFrame:
    ex = tables.executions
    labels = list(info.costs.labels)
    names = pl.Series(info.type_names or [""], dtype=pl.String)
    state = np.clip(info.e_state, 0, len(STATES) - 1)
    return pl.DataFrame(
        {
            "id": ex["id"],
            "pipeline_id": ex["pipeline_id"],
            "type": names.gather(info.e_type) if n_exec else pl.Series([], dtype=pl.String),
            "category": _enum(CATEGORIES, info.e_category),
            "state": _enum(STATES, state),
            "cost": info.costs.cost,
            "cost_source": _enum(labels, info.costs.source),
            "graphlets": np.bincount(m.e_node, minlength=n_exec),
            "skip_reason": ex[cfg.skip_reason_property],
        }
    )
