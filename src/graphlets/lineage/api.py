"""Entry points: segment a store (load + segment) or already loaded tables."""

from __future__ import annotations

import time

from graphlets.lineage.config import GraphletConfig
from graphlets.lineage.graph import LineageIndex
from graphlets.lineage.load import LineageTables, LoadFilter, ProgressFn, _quiet, load_tables
from graphlets.lineage.nodes import column, node_info
from graphlets.lineage.outcome import outcomes
from graphlets.lineage.result import GraphletResult, build_tables
from graphlets.lineage.segment import segment
from graphlets.lineage.summary import summarize
from graphlets.store import MetadataStore


def segment_store(
    store: MetadataStore,
    config: GraphletConfig | None = None,
    where: LoadFilter | None = None,
    *,
    progress: ProgressFn = _quiet,
) -> GraphletResult:
    """Load ``store`` (or the part ``where`` selects) and cut it into graphlets.

    Example::

        with MetadataStore("sqlite:///store.sqlite") as store:
            result = segment_store(store)
        result.summary["waste_fraction"], result.graphlets.head()
    """
    cfg = config or GraphletConfig()
    tables = load_tables(store, cfg, where, progress=progress)
    return segment_tables(tables, cfg, progress=progress)


def segment_tables(
    tables: LineageTables, config: GraphletConfig | None = None, *, progress: ProgressFn = _quiet
) -> GraphletResult:
    """Cut already loaded tables into graphlets (re-run with another config without reloading)."""
    cfg = config or GraphletConfig()
    t0 = time.perf_counter()
    index = LineageIndex.from_tables(tables)
    info = node_info(tables, index, cfg)
    progress("segment", 0)
    m = segment(index, info, cfg)
    code = outcomes(
        m,
        info,
        column(tables.artifacts, cfg.push_property),
        column(tables.artifacts, cfg.blessing_property),
    )
    graphlets, members, executions = build_tables(tables, index, info, m, code, cfg)
    timings = {"load": tables.seconds, "segment": time.perf_counter() - t0}
    summary = summarize(tables, info, m, graphlets, cfg, timings)
    return GraphletResult(graphlets, members, executions, summary, cfg)
