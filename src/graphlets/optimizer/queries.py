"""The few facts the predictor needs beyond what lineage loads: contexts, code and data properties.

Lineage's bulk load pivots only numeric properties and pipeline contexts. The decision point also
looks at strings (TFX's ``module_file`` / ``module_path``, graphlets' ``code_fingerprint``, config
and parameters), at the node and run contexts of trainings (which trainer of a pipeline, what ran
before it in the same run) and at a handful of artifact properties (anomaly counts, payload
digests). Each is one SELECT restricted by type ids, streamed into polars like lineage's loads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl
import pyarrow as pa
from sqlalchemy import Float, Select, String, and_, cast, func, or_, select

from graphlets.model.enums import TypeKind
from graphlets.store import MetadataStore
from graphlets.store import schema as s
from graphlets.store.columnar import read_table

_EXEC_CTX = pa.schema([("execution_id", pa.int64()), ("context_id", pa.int64()),
                       ("name", pa.string())])  # fmt: skip
_PROPS = pa.schema([("owner", pa.int64()), ("name", pa.string()), ("value", pa.string())])
_NUMS = pa.schema([("owner", pa.int64()), ("name", pa.string()), ("value", pa.float64())])
_PAIRS = pa.schema([("a", pa.int64()), ("b", pa.int64())])


def _frame(store: MetadataStore, stmt: Select[Any], schema: pa.Schema) -> pl.DataFrame:
    frame = pl.from_arrow(read_table(store, stmt, schema))
    assert isinstance(frame, pl.DataFrame)
    return frame


def _empty(schema: pa.Schema) -> pl.DataFrame:
    frame = pl.from_arrow(schema.empty_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


def _context_type_id(store: MetadataStore, name: str) -> int | None:
    t = s.type_table
    stmt = select(t.c.id).where(t.c.name == name, t.c.type_kind == int(TypeKind.CONTEXT_TYPE))
    rows = _frame(store, stmt, pa.schema([("id", pa.int64())]))
    return int(rows["id"][0]) if rows.height else None


def execution_contexts(
    store: MetadataStore, exec_type_ids: Sequence[int], context_type: str
) -> pl.DataFrame:
    """``execution_id, context_id, name`` of the ``context_type`` contexts of executions whose
    type is one of ``exec_type_ids`` (e.g. the ``node`` context of every training)."""
    ctype = _context_type_id(store, context_type)
    if ctype is None or not exec_type_ids:
        return _empty(_EXEC_CTX)
    a, c, e = s.association, s.context, s.execution
    stmt = (
        select(a.c.execution_id, a.c.context_id, c.c.name)
        .select_from(a.join(c, c.c.id == a.c.context_id).join(e, e.c.id == a.c.execution_id))
        .where(c.c.type_id == ctype, e.c.type_id.in_(list(exec_type_ids)))
    )
    return _frame(store, stmt, _EXEC_CTX).unique("execution_id", keep="first")


def run_peers(store: MetadataStore, exec_type_ids: Sequence[int], run_type: str) -> pl.DataFrame:
    """``a`` = run context id, ``b`` = execution id: every execution of every ``run_type`` context
    that holds an execution of ``exec_type_ids`` (what else ran in a training's run)."""
    ctype = _context_type_id(store, run_type)
    if ctype is None or not exec_type_ids:
        return _empty(_PAIRS)
    a, c, e = s.association, s.context, s.execution
    runs = (
        select(a.c.context_id)
        .select_from(a.join(e, e.c.id == a.c.execution_id).join(c, c.c.id == a.c.context_id))
        .where(c.c.type_id == ctype, e.c.type_id.in_(list(exec_type_ids)))
    )
    stmt = select(a.c.context_id, a.c.execution_id).where(a.c.context_id.in_(runs))
    return _frame(store, stmt, _PAIRS)


def execution_strings(
    store: MetadataStore,
    exec_type_ids: Sequence[int],
    names: Sequence[str],
    prefixes: Sequence[str] = (),
) -> pl.DataFrame:
    """``owner, name, value`` of the named (or prefixed) properties of executions of the given
    types, every value as text (ints and doubles too), properties before custom properties."""
    if not exec_type_ids:
        return _empty(_PROPS)
    p, e = s.execution_property, s.execution
    value = func.coalesce(
        p.c.string_value, cast(p.c.int_value, String), cast(p.c.double_value, String)
    )
    picked = or_(p.c.name.in_(list(names)), *[p.c.name.like(f"{x}%") for x in prefixes])
    stmt = (
        select(p.c.execution_id, p.c.name, value)
        .select_from(p.join(e, e.c.id == p.c.execution_id))
        .where(e.c.type_id.in_(list(exec_type_ids)), picked)
        .order_by(p.c.execution_id, p.c.name, p.c.is_custom_property)
    )
    return _frame(store, stmt, _PROPS).unique(["owner", "name"], keep="first", maintain_order=True)


def execution_numbers(
    store: MetadataStore, exec_type_ids: Sequence[int], prefix: str
) -> pl.DataFrame:
    """``owner, name, value`` of numeric properties named ``prefix*`` of executions of the types."""
    if not exec_type_ids:
        return _empty(_NUMS)
    p, e = s.execution_property, s.execution
    value = func.coalesce(p.c.double_value, cast(p.c.int_value, Float))
    stmt = (
        select(p.c.execution_id, p.c.name, value)
        .select_from(p.join(e, e.c.id == p.c.execution_id))
        .where(e.c.type_id.in_(list(exec_type_ids)), p.c.name.like(f"{prefix}%"))
    )
    return _frame(store, stmt, _NUMS).drop_nulls("value")


def artifact_numbers(
    store: MetadataStore, art_type_ids: Sequence[int], names: Sequence[str]
) -> pl.DataFrame:
    """``owner, name, value`` of numeric properties ``names`` of artifacts of the given types."""
    if not art_type_ids or not names:
        return _empty(_NUMS)
    p, a = s.artifact_property, s.artifact
    value = func.coalesce(p.c.double_value, cast(p.c.int_value, Float))
    stmt = (
        select(p.c.artifact_id, p.c.name, value)
        .select_from(p.join(a, a.c.id == p.c.artifact_id))
        .where(a.c.type_id.in_(list(art_type_ids)), p.c.name.in_(list(names)))
    )
    return _frame(store, stmt, _NUMS).drop_nulls("value")


def artifact_payloads(
    store: MetadataStore, art_type_ids: Sequence[int], digest_property: str
) -> pl.DataFrame:
    """``owner, name, value`` = (artifact id, uri, digest) of artifacts of the given types that
    carry ``digest_property`` (graphlets' runner writes ``content_sha256`` on every payload)."""
    if not art_type_ids:
        return _empty(_PROPS)
    p, a = s.artifact_property, s.artifact
    stmt = (
        select(a.c.id, func.coalesce(a.c.uri, ""), p.c.string_value)
        .select_from(p.join(a, a.c.id == p.c.artifact_id))
        .where(and_(a.c.type_id.in_(list(art_type_ids)), p.c.name == digest_property))
    )
    return _frame(store, stmt, _PROPS)
