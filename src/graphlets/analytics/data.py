"""Everything the report reads from a store, loaded once: lineage tables, graphlets, trainer nodes.

The graphlets come from :mod:`graphlets.lineage` (the report never re-segments); the only extra
query is which ``node`` context each training belongs to, so several trainers of one pipeline can be
told apart (TFX names them ``Trainer``, ``Trainer_2``...). Stores without node contexts still work:
each pipeline then counts as having one trainer per anchor type.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import pyarrow as pa
from sqlalchemy import select

from graphlets.lineage import GraphletConfig, GraphletResult, load_tables, segment_tables
from graphlets.lineage.load import LineageTables
from graphlets.model.enums import TypeKind
from graphlets.store import MetadataStore
from graphlets.store import schema as s
from graphlets.store.columnar import read_table
from graphlets.store.event_times import first_event_statement

# (stage, rows so far or 0): what the report is doing, for progress displays.
StageFn = Callable[[str, int], None]
NODE_CONTEXT_TYPE = "node"


def _quiet(_stage: str, _rows: int) -> None:
    return None


@dataclass(frozen=True)
class ReportData:
    """The loaded store.

    Attributes:
        tables: lineage tables (executions, artifacts, events, types, pipelines).
        result: the graphlets.
        executions: ``result.executions`` joined with times: ``create_ms, update_ms`` (MLMD's,
            when the row was written) and ``start_ms, end_ms`` (when the step ran, as recorded:
            see :func:`recorded_times`).
        graphlets: ``result.graphlets`` with the anchor's ``pipeline_id``, ``node`` (its node
            context id, -1 when the store has none) and ``trained_ms`` (when the training started,
            as recorded; ``start_ms`` is the graphlet's earliest member, often a shared upstream
            step).
        seconds: wall time per loading stage.
    """

    tables: LineageTables
    result: GraphletResult
    executions: pl.DataFrame
    graphlets: pl.DataFrame
    seconds: dict[str, float] = field(default_factory=dict)


def load_report_data(
    store: MetadataStore, config: GraphletConfig | None = None, progress: StageFn = _quiet
) -> ReportData:
    """Load ``store`` and cut it into graphlets."""
    cfg = config or GraphletConfig()
    t0 = time.perf_counter()
    tables = load_tables(store, cfg, progress=lambda stage, n: progress(f"load {stage}", n))
    t1 = time.perf_counter()
    result = segment_tables(tables, cfg, progress=lambda stage, n: progress(stage, n))
    t2 = time.perf_counter()
    progress("trainer nodes", 0)
    nodes = _anchor_nodes(store, tables, result)
    times = recorded_times(tables.executions, cfg, _first_events(store, tables, cfg))
    executions = result.executions.join(times, on="id", how="left")
    anchors = tables.executions.select("id", "pipeline_id").join(times, on="id", how="left")
    anchors = anchors.select(
        pl.col("id").alias("graphlet_id"), "pipeline_id", pl.col("start_ms").alias("trained_ms")
    )
    graphlets = result.graphlets.join(anchors, on="graphlet_id", how="left").join(
        nodes, on="graphlet_id", how="left"
    )
    seconds = {
        "load": round(t1 - t0, 3),
        "segment": round(t2 - t1, 3),
        "nodes": round(time.perf_counter() - t2, 3),
    }
    return ReportData(tables, result, executions, graphlets, seconds)


def recorded_times(
    executions: pl.DataFrame, cfg: GraphletConfig, first_events: pl.DataFrame | None = None
) -> pl.DataFrame:
    """``id, create_ms, update_ms, start_ms, end_ms`` per execution.

    ``start_ms``/``end_ms`` are the times the step ran as its writer recorded them: the
    ``cfg.start_property``/``cfg.end_property`` properties (graphlets' runner writes
    ``start_time_ms``/``end_time_ms``, at span time when it runs with a span clock; configure other
    names for other tools' traces). Without them: the execution's first event time
    (``first_events``: ``id, first_event_ms``), else MLMD's create time, and MLMD's update time.
    MLMD's row times say when a row was written, which for a backfill or a copied trace is not when
    the work belongs.
    """
    frame = executions.select("id", "create_ms", "update_ms", *_present(executions, cfg))
    fallback = pl.col("create_ms")
    if first_events is not None and first_events.height:
        frame = frame.join(first_events, on="id", how="left")
        fallback = pl.coalesce(pl.col("first_event_ms"), pl.col("create_ms"))

    def recorded(name: str, otherwise: pl.Expr) -> pl.Expr:
        if name not in frame.columns:
            return otherwise
        value = pl.col(name).cast(pl.Float64)
        ok = value.is_not_null() & value.is_finite()
        return pl.when(ok).then(value).otherwise(otherwise).cast(pl.Int64)

    return frame.select(
        "id",
        "create_ms",
        "update_ms",
        recorded(cfg.start_property, fallback).alias("start_ms"),
        recorded(cfg.end_property, pl.col("update_ms")).alias("end_ms"),
    )


def _present(executions: pl.DataFrame, cfg: GraphletConfig) -> list[str]:
    return [
        c for c in dict.fromkeys((cfg.start_property, cfg.end_property)) if c in executions.columns
    ]


def _first_events(
    store: MetadataStore, tables: LineageTables, cfg: GraphletConfig
) -> pl.DataFrame | None:
    """First event time per execution, read only when some execution recorded no start time."""
    ex = tables.executions
    if cfg.start_property in ex.columns:
        value = ex[cfg.start_property].cast(pl.Float64)
        if int((value.is_not_null() & value.is_finite()).sum()) == ex.height:
            return None
    schema = pa.schema([("id", pa.int64()), ("first_event_ms", pa.int64())])
    frame = pl.from_arrow(read_table(store, first_event_statement(), schema))
    assert isinstance(frame, pl.DataFrame)
    return frame


def _anchor_nodes(
    store: MetadataStore, tables: LineageTables, result: GraphletResult
) -> pl.DataFrame:
    """The node context of each graphlet's anchor (-1 when there is none)."""
    g = result.graphlets.select("graphlet_id", "anchor_execution_id")
    types = tables.types
    node_type = types.filter(
        (pl.col("kind") == int(TypeKind.CONTEXT_TYPE)) & (pl.col("name") == NODE_CONTEXT_TYPE)
    )
    anchor_types = (
        tables.executions.filter(pl.col("id").is_in(g["anchor_execution_id"].implode()))
        .get_column("type_id")
        .unique()
        .to_list()
    )
    if node_type.height == 0 or not anchor_types:
        return g.select("graphlet_id", pl.lit(-1, dtype=pl.Int64).alias("node"))
    a, c, e = s.association, s.context, s.execution
    stmt = (
        select(a.c.execution_id, a.c.context_id)
        .select_from(a.join(c, c.c.id == a.c.context_id).join(e, e.c.id == a.c.execution_id))
        .where(c.c.type_id == int(node_type["id"][0]), e.c.type_id.in_(anchor_types))
    )
    schema = pa.schema([("execution_id", pa.int64()), ("node", pa.int64())])
    frame = pl.from_arrow(read_table(store, stmt, schema))
    assert isinstance(frame, pl.DataFrame)
    links = frame.unique("execution_id", keep="first")
    return (
        g.join(links, left_on="anchor_execution_id", right_on="execution_id", how="left")
        .select("graphlet_id", pl.col("node").fill_null(-1))
        .sort("graphlet_id")
    )


def decided(outcome: pl.Series) -> np.ndarray:
    """Graphlets whose fate is known (not pending)."""
    return np.asarray((outcome != "pending").to_numpy(), dtype=bool)
