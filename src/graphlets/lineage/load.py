"""Bulk loading: a whole store, or one pipeline / time range of it, into columnar tables.

A handful of large SELECTs (types, pipeline contexts, executions, execution-pipeline and -node
links, the few execution and artifact properties the analysis needs, artifacts, events, event keys),
each streamed in chunks into Arrow and held as compact polars tables. MLMD's property rows are tall
(one row per name and value); only the configured names are read, mapped to small integer codes in
SQL, and pivoted into columns with numpy, so no string is built per property row.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    and_,
    case,
    cast,
    false,
    func,
    select,
    true,
)

from graphlets.errors import NotFoundError
from graphlets.lineage.arrays import positions, run_starts
from graphlets.lineage.config import GraphletConfig
from graphlets.model.enums import TypeKind
from graphlets.store import MetadataStore
from graphlets.store import schema as s
from graphlets.store.columnar import read_snapshot, read_table

# stage label, rows just loaded
ProgressFn = Callable[[str, int], None]


def _quiet(_stage: str, _rows: int) -> None:
    return None


@dataclass(frozen=True)
class LoadFilter:
    """Which part of a store to load; empty means all of it.

    Attributes:
        pipeline: name of a pipeline context: only its executions (and the artifacts they touch).
        since_ms / until_ms: only executions created in ``[since_ms, until_ms)`` (MLMD ms).
    """

    pipeline: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None

    @property
    def is_empty(self) -> bool:
        """True when the whole store is loaded."""
        return self.pipeline is None and self.since_ms is None and self.until_ms is None


@dataclass(frozen=True)
class LineageTables:
    """A store's graph as columnar tables (ids are MLMD ids; rows sorted by id).

    Attributes:
        types: ``id, name, kind, base`` (``base`` is the MLMD system parent, e.g. ``mlmd.Model``).
        pipelines: ``id, name`` of pipeline contexts.
        executions: ``id, type_id, state, create_ms, update_ms, pipeline_id, node_id`` (context
            ids, -1 when none) plus one float column per configured numeric property (NaN when
            absent), ``skip_reason`` and ``node_name`` (the first configured node property).
        artifacts: ``id, type_id, state, create_ms`` plus one float column per artifact property.
        events: ``artifact_id, execution_id, type, key`` (first string step of the path, or "").
        seconds: wall time the load took.
    """

    types: pl.DataFrame
    pipelines: pl.DataFrame
    executions: pl.DataFrame
    artifacts: pl.DataFrame
    events: pl.DataFrame
    filter: LoadFilter = field(default_factory=LoadFilter)
    seconds: float = 0.0


def load_tables(
    store: MetadataStore,
    config: GraphletConfig | None = None,
    where: LoadFilter | None = None,
    *,
    progress: ProgressFn = _quiet,
) -> LineageTables:
    """Load ``store`` (or the part ``where`` selects) into :class:`LineageTables`."""
    cfg = config or GraphletConfig()
    flt = where or LoadFilter()
    t0 = time.perf_counter()
    q = _Queries(store, cfg, flt, progress)
    with read_snapshot(store):  # one state of the store, even while others write
        types = q.types()
        pipelines = q.pipelines(types)
        if flt.pipeline is not None and pipelines.height == 0:
            raise NotFoundError(
                f"pipeline {flt.pipeline!r} is not in {store.url.redacted()}: pass the name of "
                f"a {cfg.pipeline_context_type!r} context (`graphlets store ls contexts` lists "
                "them)"
            )
        executions = q.executions(types, pipelines)
        artifacts = q.artifacts()
        events = q.events()
    return LineageTables(
        types, pipelines, executions, artifacts, events, flt, time.perf_counter() - t0
    )


class _Queries:
    """The load's SELECTs, sharing the store, the filter and the progress callback."""

    def __init__(
        self,
        store: MetadataStore,
        cfg: GraphletConfig,
        flt: LoadFilter,
        progress: ProgressFn,
    ) -> None:
        self.store, self.cfg, self.flt = store, cfg, flt
        self.progress = progress
        self.pipeline_type_id = -1
        self.node_type_id = -1

    def fetch(self, stage: str, stmt: Select[Any], schema: pa.Schema) -> pl.DataFrame:
        table = read_table(
            self.store,
            stmt,
            schema,
            advance=lambda n: self.progress(stage, n),
        )
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return frame

    # filters ---------------------------------------------------------------------------------
    def _exec_ids(self) -> Select[Any] | None:
        """Subquery of the selected execution ids, or None for the whole store."""
        if self.flt.is_empty:
            return None
        e = s.execution
        conds: list[ColumnElement[bool]] = []
        if self.flt.pipeline is not None:
            a, c = s.association, s.context
            ctx = select(c.c.id).where(
                c.c.type_id == self.pipeline_type_id, c.c.name == self.flt.pipeline
            )
            conds.append(e.c.id.in_(select(a.c.execution_id).where(a.c.context_id.in_(ctx))))
        if self.flt.since_ms is not None:
            conds.append(e.c.create_time_since_epoch >= self.flt.since_ms)
        if self.flt.until_ms is not None:
            conds.append(e.c.create_time_since_epoch < self.flt.until_ms)
        return select(e.c.id).where(and_(*conds))

    def _art_ids(self) -> Select[Any] | None:
        sub = self._exec_ids()
        if sub is None:
            return None
        return select(s.event.c.artifact_id).where(s.event.c.execution_id.in_(sub))

    # queries ---------------------------------------------------------------------------------
    def types(self) -> pl.DataFrame:
        t, pt = s.type_table, s.parent_type
        parent = t.alias("parent")
        base = (
            select(func.min(parent.c.name))
            .select_from(pt.join(parent, parent.c.id == pt.c.parent_type_id))
            .where(pt.c.type_id == t.c.id)
            .scalar_subquery()
        )
        stmt = select(t.c.id, t.c.name, t.c.type_kind, func.coalesce(base, ""))
        schema = pa.schema(
            [("id", pa.int64()), ("name", pa.string()), ("kind", pa.int8()), ("base", pa.string())]
        )
        frame = self.fetch("types", stmt, schema)
        ctx = frame.filter(
            (pl.col("kind") == int(TypeKind.CONTEXT_TYPE))
            & (pl.col("name") == self.cfg.pipeline_context_type)
        )
        self.pipeline_type_id = int(ctx["id"][0]) if ctx.height else -1
        node = frame.filter(
            (pl.col("kind") == int(TypeKind.CONTEXT_TYPE))
            & (pl.col("name") == self.cfg.node_context_type)
        )
        self.node_type_id = int(node["id"][0]) if node.height else -1
        return frame

    def pipelines(self, types: pl.DataFrame) -> pl.DataFrame:
        c = s.context
        stmt = select(c.c.id, c.c.name).where(c.c.type_id == self.pipeline_type_id)
        if self.flt.pipeline is not None:
            stmt = stmt.where(c.c.name == self.flt.pipeline)
        schema = pa.schema([("id", pa.int64()), ("name", pa.string())])
        return self.fetch("pipelines", stmt, schema).sort("id")

    def executions(self, types: pl.DataFrame, pipelines: pl.DataFrame) -> pl.DataFrame:
        e = s.execution
        stmt = select(
            e.c.id,
            e.c.type_id,
            func.coalesce(e.c.last_known_state, 0),
            e.c.create_time_since_epoch,
            e.c.last_update_time_since_epoch,
        )
        sub = self._exec_ids()
        if sub is not None:
            stmt = stmt.where(e.c.id.in_(sub))
        schema = pa.schema(
            [
                ("id", pa.int64()),
                ("type_id", pa.int64()),
                ("state", pa.int8()),
                ("create_ms", pa.int64()),
                ("update_ms", pa.int64()),
            ]
        )
        frame = _sorted_by_id(self.fetch("executions", stmt, schema))
        ids = frame["id"].to_numpy()
        cols: dict[str, Any] = {
            "pipeline_id": self._exec_context(ids, self.pipeline_type_id, "pipeline links"),
            "node_id": self._exec_context(ids, self.node_type_id, "node links"),
        }
        cols.update(self._numeric_props("execution", ids, self.cfg.execution_property_names))
        skip = self.cfg.skip_reason_property
        cols[skip] = self._string_prop(ids, (skip,), skip, "skip reasons")
        cols["node_name"] = self._string_prop(
            ids, self.cfg.node_properties, "node_name", "node names"
        )
        return frame.with_columns(**{k: pl.Series(k, v) for k, v in cols.items()})

    def _exec_context(self, ids: np.ndarray, type_id: int, stage: str) -> np.ndarray:
        """Per execution, the id of a context of type ``type_id`` it is associated with (the
        lowest when several), -1 when none."""
        a = s.association
        ctx = select(s.context.c.id).where(s.context.c.type_id == type_id)
        stmt = select(a.c.execution_id, a.c.context_id).where(a.c.context_id.in_(ctx))
        sub = self._exec_ids()
        if sub is not None:
            stmt = stmt.where(a.c.execution_id.in_(sub))
        schema = pa.schema([("execution_id", pa.int64()), ("context_id", pa.int64())])
        links = self.fetch(stage, stmt, schema).sort("context_id", descending=True)
        out = np.full(len(ids), -1, dtype=np.int64)
        rows, ok = positions(ids, links["execution_id"].to_numpy())
        out[rows[ok]] = links["context_id"].to_numpy()[ok]  # the last write (lowest id) wins
        return out

    def _numeric_props(self, kind: str, ids: np.ndarray, names: Sequence[str]) -> dict[str, Any]:
        """Pivot the tall property rows of ``names`` into one float column each."""
        names = list(dict.fromkeys(names))
        table, owner = s.PROPERTY_TABLES[kind]
        value = func.coalesce(
            table.c.double_value,
            cast(table.c.int_value, Float),
            case((table.c.bool_value == true(), 1.0), (table.c.bool_value == false(), 0.0)),
        )
        code = case({n: i for i, n in enumerate(names)}, value=table.c.name, else_=-1)
        stmt = select(table.c[owner], code, cast(table.c.is_custom_property, Integer), value).where(
            table.c.name.in_(names)
        )
        sub = self._exec_ids() if kind == "execution" else self._art_ids()
        if sub is not None:
            stmt = stmt.where(table.c[owner].in_(sub))
        schema = pa.schema(
            [
                ("owner", pa.int64()),
                ("code", pa.int8()),
                ("custom", pa.int8()),
                ("value", pa.float64()),
            ]
        )
        tall = self.fetch(f"{kind} properties", stmt, schema)
        return _pivot(ids, tall, names)

    def _string_prop(
        self, ids: np.ndarray, names: Sequence[str], column: str, stage: str
    ) -> pl.Series:
        """One string column: per execution, the value of the first of ``names`` it has."""
        if not names:
            return pl.Series(column, [None] * len(ids), dtype=pl.String)
        p = s.execution_property
        code = case({n: i for i, n in enumerate(names)}, value=p.c.name, else_=len(names))
        stmt = select(p.c.execution_id, func.coalesce(p.c.string_value, ""), code).where(
            p.c.name.in_(list(names))
        )
        sub = self._exec_ids()
        if sub is not None:
            stmt = stmt.where(p.c.execution_id.in_(sub))
        schema = pa.schema([("owner", pa.int64()), ("value", pa.string()), ("code", pa.int16())])
        rows = self.fetch(stage, stmt, schema)
        if len(names) > 1:
            rows = rows.sort("code")
        rows = rows.unique("owner", keep="first")
        pos, ok = positions(ids, rows["owner"].to_numpy())
        out = pl.Series(column, [None] * len(ids), dtype=pl.String)
        if ok.any():
            out = out.scatter(pos[ok], rows["value"].filter(pl.Series(ok)))
        return out

    def artifacts(self) -> pl.DataFrame:
        a = s.artifact
        stmt = select(a.c.id, a.c.type_id, func.coalesce(a.c.state, 0), a.c.create_time_since_epoch)
        sub = self._art_ids()
        if sub is not None:
            stmt = stmt.where(a.c.id.in_(sub))
        schema = pa.schema(
            [
                ("id", pa.int64()),
                ("type_id", pa.int64()),
                ("state", pa.int8()),
                ("create_ms", pa.int64()),
            ]
        )
        frame = _sorted_by_id(self.fetch("artifacts", stmt, schema))
        ids = frame["id"].to_numpy()
        cols = self._numeric_props("artifact", ids, self.cfg.artifact_property_names)
        return frame.with_columns(**{k: pl.Series(k, v) for k, v in cols.items()})

    def events(self) -> pl.DataFrame:
        e, p = s.event, s.event_path
        stmt = select(e.c.id, e.c.artifact_id, e.c.execution_id, e.c.type)
        keys = select(p.c.event_id, func.coalesce(p.c.step_key, "")).where(
            p.c.is_index_step == false()
        )
        sub = self._exec_ids()
        if sub is not None:
            stmt = stmt.where(e.c.execution_id.in_(sub))
            keys = keys.where(p.c.event_id.in_(select(e.c.id).where(e.c.execution_id.in_(sub))))
        schema = pa.schema(
            [
                ("id", pa.int64()),
                ("artifact_id", pa.int64()),
                ("execution_id", pa.int64()),
                ("type", pa.int8()),
            ]
        )
        events = _sorted_by_id(self.fetch("events", stmt, schema))
        kschema = pa.schema([("id", pa.int64()), ("key", pa.string())])
        found = read_table(
            self.store,
            keys,
            kschema,
            advance=lambda n: self.progress("event keys", n),
        )
        return events.drop("id").with_columns(_first_keys(events["id"].to_numpy(), found))


def _sorted_by_id(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows by id; SQLite returns them in that order already, so usually nothing is sorted."""
    ids = frame["id"].to_numpy()
    if ids.size > 1 and not bool(np.all(ids[1:] >= ids[:-1])):
        frame = frame.sort("id")
    return frame.with_columns(pl.col("id").set_sorted())


def _first_keys(event_ids: np.ndarray, keys: pa.Table) -> pl.Series:
    """The first key step of each event's path (``""`` when it has none), as an Enum column.

    Keys are dictionary-encoded in Arrow (a few dozen distinct strings for millions of events) and
    matched to events with numpy, so no string is handled per event in Python.
    """
    kid = keys.column("id").to_numpy()
    enc = pc.dictionary_encode(keys.column("key").combine_chunks())
    codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    cats = [str(c) for c in enc.dictionary.to_pylist()]
    if "" not in cats:
        cats.append("")
    if kid.size > 1 and not bool(np.all(kid[1:] >= kid[:-1])):
        order = np.argsort(kid, kind="stable")
        kid, codes = kid[order], codes[order]
    first = run_starts(kid)
    if not first.all():
        kid, codes = kid[first], codes[first]
    if np.array_equal(kid, event_ids):  # the usual case: one key step per event
        out = codes
    else:
        pos, ok = positions(event_ids, kid)
        out = np.full(len(event_ids), cats.index(""), dtype=np.int64)
        out[pos[ok]] = codes[ok]
    return pl.Series("key", cats, dtype=pl.Enum(cats)).gather(out)


def _pivot(ids: np.ndarray, tall: pl.DataFrame, names: list[str]) -> dict[str, Any]:
    """One float column per name; a property wins over a custom property of the same name."""
    owner = tall["owner"].to_numpy()
    code = tall["code"].to_numpy()
    custom = tall["custom"].to_numpy()
    value = tall["value"].to_numpy()
    pos, ok = positions(ids, owner)
    out: dict[str, Any] = {}
    for i, name in enumerate(names):
        col = np.full(len(ids), np.nan)
        for is_custom in (1, 0):  # properties written last, so they win
            m = ok & (code == i) & (custom == is_custom)
            col[pos[m]] = value[m]
        out[name] = col
    return out
