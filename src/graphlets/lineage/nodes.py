"""Per-node facts the graphlet rules need, as arrays aligned with the index of each node kind.

Everything here is decided once per *type* (a few dozen) and then broadcast to millions of nodes
with one gather, so type-name rules (models, pushes, categories, weights) cost nothing per node.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import polars as pl

from graphlets.lineage.arrays import positions
from graphlets.lineage.categories import category_codes
from graphlets.lineage.config import CATEGORIES, GraphletConfig
from graphlets.lineage.cost import ExecutionCosts, execution_costs, type_weights
from graphlets.lineage.graph import OUTPUT_TYPES, LineageIndex
from graphlets.lineage.load import LineageTables
from graphlets.model.enums import SYSTEM_ARTIFACT_TYPES, ArtifactBaseType

MLMD_MODEL = SYSTEM_ARTIFACT_TYPES[ArtifactBaseType.MODEL]


@dataclass(frozen=True)
class NodeInfo:
    """Attributes of every execution (``e_*``) and artifact (``a_*``), by index.

    Attributes:
        e_type / a_type: row of the node's type in ``type_names``.
        type_names: names of all types, by row of the types table.
        e_state / a_state: MLMD state numbers.
        e_category: index into ``CATEGORIES``.
        e_source: upstream stops here (ingest).
        e_push: a push step (by type name, or it wrote a push artifact).
        e_node: the pipeline node of each execution as a small code: its node context, else its
            node property (Kubeflow's ``task_name``), else its execution type.
        a_model / a_push / a_blessing: artifact roles by type.
        costs: per-execution cost and its source.
    """

    type_names: list[str]
    e_type: np.ndarray
    e_state: np.ndarray
    e_category: np.ndarray
    e_source: np.ndarray
    e_push: np.ndarray
    e_node: np.ndarray
    a_type: np.ndarray
    a_state: np.ndarray
    a_model: np.ndarray
    a_push: np.ndarray
    a_blessing: np.ndarray
    costs: ExecutionCosts


def node_info(tables: LineageTables, index: LineageIndex, cfg: GraphletConfig) -> NodeInfo:
    """Compute :class:`NodeInfo` for the loaded graph."""
    types = tables.types.sort("id")
    type_ids = types["id"].to_numpy()
    names = types["name"].to_list()
    bases = types["base"].to_list()
    e_type = positions(type_ids, tables.executions["type_id"].to_numpy())[0]
    a_type = positions(type_ids, tables.artifacts["type_id"].to_numpy())[0]
    t_cat = category_codes(names, cfg)
    push_re = re.compile(cfg.push_execution_pattern, flags=re.IGNORECASE)
    t_push_art = np.isin(np.array(names, dtype=object), list(cfg.push_types))
    t_model = ~t_push_art & np.array(
        [
            n in cfg.model_types or (cfg.model_base_type and b == MLMD_MODEL)
            for n, b in zip(names, bases, strict=True)
        ],
        dtype=bool,
    )
    t_bless = np.isin(np.array(names, dtype=object), list(cfg.blessing_types))
    t_push_exec = np.array([bool(push_re.search(n)) for n in names], dtype=bool)
    src_codes = [CATEGORIES.index(c) for c in cfg.source_categories]
    t_source = np.isin(t_cat, src_codes)
    weights = type_weights(names, t_cat, cfg)[e_type]
    a_push = t_push_art[a_type] if len(a_type) else np.zeros(0, dtype=bool)
    e_push = t_push_exec[e_type] if len(e_type) else np.zeros(0, dtype=bool)
    out = index.event_mask(OUTPUT_TYPES)
    e_push[index.ev_exec[out & a_push[index.ev_art]]] = True
    return NodeInfo(
        type_names=names,
        e_type=e_type,
        e_state=tables.executions["state"].to_numpy(),
        e_category=t_cat[e_type] if len(e_type) else np.zeros(0, dtype=np.int8),
        e_source=t_source[e_type] if len(e_type) else np.zeros(0, dtype=bool),
        e_push=e_push,
        e_node=node_codes(tables.executions, e_type),
        a_type=a_type,
        a_state=tables.artifacts["state"].to_numpy(),
        a_model=t_model[a_type] if len(a_type) else np.zeros(0, dtype=bool),
        a_push=a_push,
        a_blessing=t_bless[a_type] if len(a_type) else np.zeros(0, dtype=bool),
        costs=execution_costs(tables.executions, weights, cfg),
    )


def column(frame: pl.DataFrame, name: str) -> np.ndarray:
    """A float column as numpy (NaN for missing)."""
    return np.asarray(frame[name].cast(pl.Float64).fill_null(np.nan).to_numpy(), dtype=np.float64)


def node_codes(executions: pl.DataFrame, e_type: np.ndarray) -> np.ndarray:
    """Dense code of each execution's node: node context, else node property, else type.

    The three sources get disjoint code ranges, so a node context never equals a type.
    """
    ctx = executions["node_id"].to_numpy() if "node_id" in executions.columns else None
    n = len(e_type)
    if ctx is None:
        ctx = np.full(n, -1, dtype=np.int64)
    ctx_ids = np.unique(ctx[ctx >= 0])
    ctx_code = np.searchsorted(ctx_ids, ctx)
    names = executions["node_name"] if "node_name" in executions.columns else None
    if names is None or names.null_count() == n:
        name_code, n_names, has_name = np.zeros(n, np.int64), 0, np.zeros(n, bool)
    else:
        ranks = names.rank("dense")
        has_name = ranks.is_not_null().to_numpy()
        name_code = ranks.fill_null(1).to_numpy().astype(np.int64) - 1
        n_names = int(name_code.max()) + 1 if n else 0
    base = len(ctx_ids)
    by_name = np.where(has_name, base + name_code, base + n_names + e_type.astype(np.int64))
    return np.where(ctx >= 0, ctx_code, by_name).astype(np.int64)
