"""Store-wide counts as SQL ``GROUP BY`` queries: what ``store stats`` and the web's overview show.

Counting per type and per state in SQL keeps these a few queries on a store of millions of rows: no
node is ever hydrated into a record. The documents are plain JSON-able dicts, so the CLI and the web
(sibling adapters that never import each other) print the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, distinct, exists, false, func, or_, select, union

from graphlets.model import ArtifactBaseType, ArtifactState, EventType, ExecutionState, TypeKind
from graphlets.model.enums import SYSTEM_ARTIFACT_TYPES, SYSTEM_EXECUTION_TYPES
from graphlets.model.names import END_TIME_MS, START_TIME_MS
from graphlets.store import migrate
from graphlets.store import schema as s
from graphlets.store.metadata_store import MetadataStore

_SYSTEM_TYPES = set(SYSTEM_ARTIFACT_TYPES.values()) | set(SYSTEM_EXECUTION_TYPES.values())
_KINDS = {
    "artifacts": (s.artifact, TypeKind.ARTIFACT_TYPE),
    "executions": (s.execution, TypeKind.EXECUTION_TYPE),
    "contexts": (s.context, TypeKind.CONTEXT_TYPE),
}


def collect_stats(st: MetadataStore) -> dict[str, Any]:
    """Row counts of MLMD's tables, per type, per state; schema and migration level."""
    doc: dict[str, Any] = {"url": st.url.redacted()}
    for table in ("artifact", "execution", "event", "context"):
        doc[f"{table}s"] = st.count(table)
    doc["attributions"] = st.count("attribution")
    doc["associations"] = st.count("association")
    doc["parent_contexts"] = st.count("parentcontext")
    with st.engine.connect() as conn:
        by_type = {name: count_by_type(conn, *pair) for name, pair in _KINDS.items()}
        doc["types"] = sum(len(v) for v in by_type.values())
        doc["types_by_kind"] = {k: len(v) for k, v in by_type.items()}
        doc["by_type"] = {k: {name: n for name, n, _ in v} for k, v in by_type.items()}
        doc["artifacts_by_state"] = count_by(conn, s.artifact.c.state, ArtifactState)
        doc["executions_by_state"] = count_by(conn, s.execution.c.last_known_state, ExecutionState)
        doc["events_by_type"] = count_by(conn, s.event.c.type, EventType)
        doc["schema_version"] = conn.execute(select(s.mlmd_env.c.schema_version)).scalar()
        doc["graphlets_revision"] = migrate.current_revision(conn)
    doc["migrations_pending"] = doc["graphlets_revision"] != migrate.head_revision()
    return doc


def count_by_type(conn: Connection, table: Any, kind: TypeKind) -> list[tuple[str, int, bool]]:
    """(type label, node count, is system type) for every type of ``kind``, by name.

    MLMD's seeded base types (``mlmd.Model``, ...) are left out while nothing uses them, as
    ml-metadata hides them.
    """
    t = s.type_table
    q = (
        select(t.c.name, t.c.version, func.count(table.c.id))
        .select_from(t.outerjoin(table, table.c.type_id == t.c.id))
        .where(t.c.type_kind == int(kind))
        .group_by(t.c.id, t.c.name, t.c.version)
        .order_by(t.c.name, t.c.version)
    )
    rows = []
    for name, version, n in conn.execute(q):
        system = name in _SYSTEM_TYPES
        if system and not n:
            continue
        rows.append((f"{name}@{version}" if version else name, int(n), system))
    return rows


def count_by(conn: Connection, column: Any, enum: Any) -> dict[str, int]:
    """Rows per value of an enum column, keyed by the enum's name (unknown values as digits)."""
    q = select(column, func.count()).group_by(column).order_by(column)
    out: dict[str, int] = {}
    for value, n in conn.execute(q):
        try:
            key = enum(value or 0).name
        except ValueError:
            key = str(value)
        out[key] = out.get(key, 0) + int(n)
    return out


# pipelines ----------------------------------------------------------------------------------
# Each function below answers for one page of contexts with a fixed number of GROUP BY queries,
# whatever the number of executions behind them: the web's pipeline pages stay fast on pipelines
# of 10,000 runs because no execution is ever hydrated into a record here.


@dataclass(frozen=True)
class PipelineTypes:
    """The type names that shape a pipeline (TFX's and the runner's by default).

    Attributes:
        pipeline: context type of a pipeline.
        run: context type of one pipeline run.
        models: artifact types that are trained models (types whose MLMD base type is
            ``mlmd.Model`` count too).
        pushes: artifact types whose OUTPUT means a push, unless ``push_property`` says 0.
        push_property: property of a push artifact that is 0 when nothing was pushed (TFX).
        start_property / end_property: execution properties holding wall-clock milliseconds.
    """

    pipeline: str = "pipeline"
    run: str = "pipeline_run"
    models: tuple[str, ...] = ("Model",)
    pushes: tuple[str, ...] = ("PushedModel",)
    push_property: str = "pushed"
    start_property: str = START_TIME_MS
    end_property: str = END_TIME_MS


def type_ids(conn: Connection, kind: TypeKind, names: Sequence[str]) -> list[int]:
    """Ids of the types of ``kind`` called one of ``names`` (any version)."""
    if not names:
        return []
    t = s.type_table
    q = select(t.c.id).where(t.c.type_kind == int(kind), t.c.name.in_(list(names)))
    return [int(i) for i in conn.execute(q).scalars()]


def model_type_ids(conn: Connection, names: Sequence[str]) -> list[int]:
    """Artifact types named in ``names`` or derived from MLMD's ``mlmd.Model`` base type."""
    t, pt = s.type_table, s.parent_type
    base = select(t.c.id).where(
        t.c.name == SYSTEM_ARTIFACT_TYPES[ArtifactBaseType.MODEL],
        t.c.type_kind == int(TypeKind.ARTIFACT_TYPE),
    )
    derived = select(pt.c.type_id).where(pt.c.parent_type_id.in_(base))
    ids = set(type_ids(conn, TypeKind.ARTIFACT_TYPE, names))
    ids.update(int(i) for i in conn.execute(derived).scalars())
    return sorted(ids)


def pipeline_page(
    st: MetadataStore, types: PipelineTypes, *, limit: int, after_id: int | None = None
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of pipeline contexts by id: ``[{id, name, create_time_since_epoch}]`` and the id to
    continue after (None on the last page)."""
    c = s.context
    with st.engine.connect() as conn:
        tids = type_ids(conn, TypeKind.CONTEXT_TYPE, [types.pipeline])
        q = select(c.c.id, c.c.name, c.c.create_time_since_epoch).where(c.c.type_id.in_(tids))
        if after_id is not None:
            q = q.where(c.c.id > after_id)
        rows = list(conn.execute(q.order_by(c.c.id).limit(limit + 1)))
    page = [{"id": int(r[0]), "name": r[1], "create_time_since_epoch": int(r[2])} for r in rows]
    more = len(page) > limit
    return page[:limit], (page[limit - 1]["id"] if more else None)


def pipeline_counts(
    st: MetadataStore, pipeline_ids: Sequence[int], types: PipelineTypes
) -> dict[int, dict[str, Any]]:
    """Per pipeline: executions by state, runs, models trained, models pushed, last update."""
    ids = list(pipeline_ids)
    out: dict[int, dict[str, Any]] = {
        i: {"executions_by_state": {}, "runs": 0, "models": 0, "pushed": 0, "last_update": 0}
        for i in ids
    }
    if not ids:
        return out
    with st.engine.connect() as conn:
        for cid, state, n, _first, last in _states_by_context(conn, ids):
            doc = out[cid]
            doc["executions_by_state"][state] = n
            doc["last_update"] = max(doc["last_update"], last)
        for cid, n in _runs_by_pipeline(conn, ids, types.run).items():
            out[cid]["runs"] = n
        models = model_type_ids(conn, types.models)
        for cid, n in _outputs_by_context(conn, ids, models, None).items():
            out[cid]["models"] = n
        pushes = type_ids(conn, TypeKind.ARTIFACT_TYPE, types.pushes)
        for cid, n in _outputs_by_context(conn, ids, pushes, types.push_property).items():
            out[cid]["pushed"] = n
    return out


def pipeline_runs(
    st: MetadataStore,
    pipeline_id: int,
    types: PipelineTypes,
    *,
    limit: int,
    before_id: int | None = None,
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of a pipeline's runs, newest first, each with its executions by state, wall-clock
    start and end, models trained and pushed; and the id to continue before (None at the end)."""
    with st.engine.connect() as conn:
        run_ids = _run_page(conn, pipeline_id, types.run, limit + 1, before_id)
        more = len(run_ids) > limit
        run_ids = run_ids[:limit]
        runs = {i: _empty_run(i) for i in run_ids}
        _fill_runs(conn, runs, types)
    return [runs[i] for i in run_ids], (run_ids[-1] if more else None)


def _empty_run(run_id: int) -> dict[str, Any]:
    return {
        "id": run_id,
        "name": None,
        "executions_by_state": {},
        "executions": 0,
        "start_ms": None,
        "end_ms": None,
        "models": 0,
        "pushed": 0,
    }


def _fill_runs(conn: Connection, runs: dict[int, dict[str, Any]], types: PipelineTypes) -> None:
    ids = list(runs)
    if not ids:
        return
    c = s.context
    for cid, name in conn.execute(select(c.c.id, c.c.name).where(c.c.id.in_(ids))):
        runs[int(cid)]["name"] = name
    for cid, state, n, first, last in _states_by_context(conn, ids):
        run = runs[cid]
        run["executions_by_state"][state] = n
        run["executions"] += n
        run["start_ms"] = first if run["start_ms"] is None else min(run["start_ms"], first)
        run["end_ms"] = last if run["end_ms"] is None else max(run["end_ms"], last)
    for cid, (start, end) in _wall_clock(conn, ids, types).items():
        runs[cid]["start_ms"] = start if start is not None else runs[cid]["start_ms"]
        runs[cid]["end_ms"] = end if end is not None else runs[cid]["end_ms"]
    models = model_type_ids(conn, types.models)
    for cid, n in _outputs_by_context(conn, ids, models, None).items():
        runs[cid]["models"] = n
    pushes = type_ids(conn, TypeKind.ARTIFACT_TYPE, types.pushes)
    for cid, n in _outputs_by_context(conn, ids, pushes, types.push_property).items():
        runs[cid]["pushed"] = n


def _run_page(
    conn: Connection, pipeline_id: int, run_type: str, n: int, before_id: int | None
) -> list[int]:
    """Run contexts that share executions with the pipeline, or are its children, newest first."""
    a1, a2, c, pc = s.association.alias(), s.association.alias(), s.context, s.parent_context
    run_types = type_ids(conn, TypeKind.CONTEXT_TYPE, [run_type])
    if not run_types:
        return []
    shared = (
        select(a2.c.context_id.label("id"))
        .select_from(a1.join(a2, a1.c.execution_id == a2.c.execution_id))
        .where(a1.c.context_id == pipeline_id)
    )
    children = select(pc.c.context_id.label("id")).where(pc.c.parent_context_id == pipeline_id)
    q = select(c.c.id).where(c.c.type_id.in_(run_types), c.c.id.in_(union(shared, children)))
    if before_id is not None:
        q = q.where(c.c.id < before_id)
    return [int(i) for i in conn.execute(q.order_by(c.c.id.desc()).limit(n)).scalars()]


def _runs_by_pipeline(conn: Connection, ids: list[int], run_type: str) -> dict[int, int]:
    a1, a2, c = s.association.alias(), s.association.alias(), s.context
    run_types = type_ids(conn, TypeKind.CONTEXT_TYPE, [run_type])
    if not run_types:
        return {}
    q = (
        select(a1.c.context_id, func.count(distinct(a2.c.context_id)))
        .select_from(
            a1.join(a2, a1.c.execution_id == a2.c.execution_id).join(c, c.c.id == a2.c.context_id)
        )
        .where(a1.c.context_id.in_(ids), _no_index(c.c.type_id).in_(run_types))
        .group_by(a1.c.context_id)
    )
    return {int(cid): int(n) for cid, n in conn.execute(q)}


def _states_by_context(conn: Connection, ids: list[int]) -> list[tuple[int, str, int, int, int]]:
    """(context, state name, executions, first create ms, last update ms) per context and state."""
    a, e = s.association, s.execution
    q = (
        select(
            a.c.context_id,
            e.c.last_known_state,
            func.count(),
            func.min(e.c.create_time_since_epoch),
            func.max(e.c.last_update_time_since_epoch),
        )
        .select_from(a.join(e, e.c.id == a.c.execution_id))
        .where(a.c.context_id.in_(ids))
        .group_by(a.c.context_id, e.c.last_known_state)
    )
    return [
        (int(cid), _enum_name(ExecutionState, state), int(n), int(first or 0), int(last or 0))
        for cid, state, n, first, last in conn.execute(q)
    ]


def _wall_clock(
    conn: Connection, ids: list[int], types: PipelineTypes
) -> dict[int, tuple[int | None, int | None]]:
    """Earliest start and latest end property of each context's executions (when recorded)."""
    a, p = s.association, s.execution_property
    value = func.coalesce(p.c.int_value, p.c.double_value)
    out: dict[int, tuple[int | None, int | None]] = {}
    for name, agg, slot in (
        (types.start_property, func.min, 0),
        (types.end_property, func.max, 1),
    ):
        q = (
            select(a.c.context_id, agg(value))
            .select_from(a.join(p, p.c.execution_id == a.c.execution_id))
            .where(a.c.context_id.in_(ids), p.c.name == name)
            .group_by(a.c.context_id)
        )
        for cid, v in conn.execute(q):
            pair = list(out.get(int(cid), (None, None)))
            pair[slot] = int(v) if v is not None else None
            out[int(cid)] = (pair[0], pair[1])
    return out


def _outputs_by_context(
    conn: Connection, ids: list[int], artifact_types: list[int], not_zero: str | None
) -> dict[int, int]:
    """Distinct artifacts of ``artifact_types`` output by each context's executions; with
    ``not_zero``, those whose property of that name is not 0 (TFX's ``pushed`` = 0)."""
    if not artifact_types:
        return {}
    a, ev, art, p = s.association, s.event, s.artifact, s.artifact_property
    q = (
        select(a.c.context_id, func.count(distinct(ev.c.artifact_id)))
        .select_from(
            a.join(ev, ev.c.execution_id == a.c.execution_id).join(
                art, art.c.id == ev.c.artifact_id
            )
        )
        .where(
            a.c.context_id.in_(ids),
            ev.c.type == int(EventType.OUTPUT),
            _no_index(art.c.type_id).in_(artifact_types),
        )
        .group_by(a.c.context_id)
    )
    if not_zero is not None:
        zero = (
            select(p.c.artifact_id)
            .where(p.c.artifact_id == art.c.id, p.c.name == not_zero)
            .where(or_(p.c.int_value == 0, p.c.double_value == 0.0, p.c.bool_value == false()))
        )
        q = q.where(~exists(zero))
    return {int(cid): int(n) for cid, n in conn.execute(q)}


def _no_index(column: Any) -> Any:
    """``column + 0``: the same values, but SQLite's planner can no longer drive the join from the
    column's index. Without it SQLite starts from "every artifact of type Model" (or every run
    context) and probes the pipeline's executions for each: 10,000 x 1,667 lookups, seconds,
    instead of walking the pipeline's executions and looking each artifact up by id (ms).
    PostgreSQL plans these joins with hashes either way."""
    return column + 0


def _enum_name(enum: Any, value: Any) -> str:
    try:
        return str(enum(value or 0).name)
    except ValueError:
        return str(value)
