"""N-hop lineage by breadth-first search over the Event table, one query per hop and side.

A hop is one event edge (artifact -> execution or execution -> artifact), as in MLMD's
``get_lineage_subgraph``. Upstream follows producing edges backwards (an artifact's OUTPUT events,
an execution's INPUT events); downstream follows consuming edges forwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Connection

from graphlets.model.entities import Artifact, Execution, LineageGraph
from graphlets.model.enums import EventType
from graphlets.store import read_ops
from graphlets.store import schema as s
from graphlets.store.sqlutil import CHUNK, fetch_many, in_clause, rows_by_ids
from graphlets.store.types_ops import TypeCache

INPUTS = (EventType.INPUT, EventType.DECLARED_INPUT, EventType.INTERNAL_INPUT)
OUTPUTS = (
    EventType.OUTPUT,
    EventType.DECLARED_OUTPUT,
    EventType.INTERNAL_OUTPUT,
    EventType.PENDING_OUTPUT,
)

# An event row: (id, artifact_id, execution_id, type, milliseconds_since_epoch).
EventRow = tuple[Any, ...]
_EVENT_SQL = "SELECT id, artifact_id, execution_id, type, milliseconds_since_epoch FROM event"


class Direction(str, Enum):
    """MLMD's ``LineageSubgraphQueryOptions.Direction``."""

    UPSTREAM = "up"
    DOWNSTREAM = "down"
    BIDIRECTIONAL = "both"


def traverse(
    conn: Connection,
    artifact_ids: Iterable[int],
    execution_ids: Iterable[int],
    max_hops: int,
    direction: Direction,
) -> tuple[set[int], set[int], set[int]]:
    """Artifacts, executions and event ids within ``max_hops`` of the start nodes."""
    arts, execs, events = traverse_rows(conn, artifact_ids, execution_ids, max_hops, direction)
    return arts, execs, set(events)


def traverse_rows(
    conn: Connection,
    artifact_ids: Iterable[int],
    execution_ids: Iterable[int],
    max_hops: int,
    direction: Direction,
) -> tuple[set[int], set[int], dict[int, EventRow]]:
    """Artifacts, executions and the event rows (``read_ops.EVENT_COLUMNS``, by id) within
    ``max_hops`` of the start nodes: one query per hop and side, and the events come back
    whole, so the caller needs no second query for them."""
    arts, execs = set(artifact_ids), set(execution_ids)
    frontier_a, frontier_e = set(arts), set(execs)
    events: dict[int, EventRow] = {}
    for _ in range(max_hops):
        if not frontier_a and not frontier_e:
            break
        new_a: set[int] = set()
        new_e: set[int] = set()
        for row in _edges(conn, "artifact_id", frontier_a, direction, from_artifact=True):
            events[row[0]] = row
            if row[2] not in execs:
                new_e.add(row[2])
        for row in _edges(conn, "execution_id", frontier_e, direction, from_artifact=False):
            events[row[0]] = row
            if row[1] not in arts:
                new_a.add(row[1])
        arts |= new_a
        execs |= new_e
        frontier_a, frontier_e = new_a, new_e
    return arts, execs, events


def _edges(
    conn: Connection, column: str, ids: set[int], direction: Direction, from_artifact: bool
) -> list[EventRow]:
    if not ids:
        return []
    types: tuple[EventType, ...]
    if direction == Direction.BIDIRECTIONAL:
        types = INPUTS + OUTPUTS
    elif (direction == Direction.UPSTREAM) == from_artifact:
        types = OUTPUTS  # artifact's producers, or an execution's outputs downstream
    else:
        types = INPUTS
    wanted = {int(t) for t in types}
    key = 1 if column == "artifact_id" else 2
    return [r for r in rows_by_ids(conn, _EVENT_SQL, column, ids, key) if r[3] in wanted]


def subgraph(
    conn: Connection,
    cache: TypeCache,
    start: tuple[Iterable[int], Iterable[int]],
    max_hops: int,
    direction: Direction,
    include_contexts: bool,
) -> LineageGraph:
    """The lineage graph around ``start`` (artifact ids, execution ids).

    After the hops, every remaining read (paths, nodes, properties, contexts) depends only on the
    ids found, so they go out together (one round trip on PostgreSQL, see ``fetch_many``).
    """
    arts, execs, events = traverse_rows(conn, start[0], start[1], max_hops, direction)
    a_ids, e_ids, ev_ids = sorted(arts), sorted(execs), sorted(events)
    if max(len(a_ids) + len(e_ids), len(ev_ids)) > CHUNK:
        return _subgraph_in_steps(conn, cache, a_ids, e_ids, events, include_contexts)
    stmts: dict[str, tuple[str, list[Any]]] = {}
    if ev_ids:
        stmts["paths"] = _where(conn, read_ops.PATH_SQL, "event_id", ev_ids)
    for kind, ids in (("artifact", a_ids), ("execution", e_ids)):
        if ids:
            stmts[kind] = _where(conn, read_ops.NODE_SQL[kind], "id", ids)
            stmts[f"{kind}_props"] = _props(conn, kind, ids)
    if include_contexts and (a_ids or e_ids):
        sub, params = _context_ids(conn, a_ids, e_ids)
        stmts["context"] = (f"{read_ops.NODE_SQL['context']} WHERE id IN ({sub})", params)
        stmts["context_props"] = (
            read_ops.property_sql("context", f"context_id IN ({sub})"),
            params,
        )
    found = dict(zip(stmts, fetch_many(conn, list(stmts.values())), strict=True))

    def nodes(kind: str) -> tuple[Any, ...]:
        rows = sorted(found.get(kind, []), key=_FIRST)
        return tuple(read_ops.build_nodes(conn, cache, kind, rows, found.get(f"{kind}_props", [])))

    return LineageGraph(
        artifacts=nodes("artifact"),
        executions=nodes("execution"),
        contexts=nodes("context"),
        events=tuple(read_ops.build_events([events[i] for i in ev_ids], found.get("paths", []))),
    )


def _where(conn: Connection, select_sql: str, column: str, ids: list[int]) -> tuple[str, list[Any]]:
    cond, params = in_clause(conn, column, ids)
    return f"{select_sql} WHERE {cond}", params


def _props(conn: Connection, kind: str, ids: list[int]) -> tuple[str, list[Any]]:
    cond, params = in_clause(conn, s.PROPERTY_TABLES[kind][1], ids)
    return read_ops.property_sql(kind, cond), params


def _context_ids(conn: Connection, a_ids: list[int], e_ids: list[int]) -> tuple[str, list[Any]]:
    """A ``SELECT context_id`` of the contexts these artifacts and executions belong to."""
    parts: list[str] = []
    params: list[Any] = []
    for table, column, ids in (
        ("attribution", "artifact_id", a_ids),
        ("association", "execution_id", e_ids),
    ):
        if ids:
            cond, more = in_clause(conn, column, ids)
            parts.append(f"SELECT context_id FROM {table} WHERE {cond}")
            params += more
    return " UNION ".join(parts), params


def _subgraph_in_steps(
    conn: Connection,
    cache: TypeCache,
    a_ids: list[int],
    e_ids: list[int],
    events: dict[int, EventRow],
    include_contexts: bool,
) -> LineageGraph:
    """:func:`subgraph` for results too big for one IN list per statement."""
    contexts: list[Any] = []
    if include_contexts and (a_ids or e_ids):
        ids = {r[0] for r in rows_by_ids(conn, _ATTRIBUTED, "artifact_id", a_ids, 1)}
        ids.update(r[0] for r in rows_by_ids(conn, _ASSOCIATED, "execution_id", e_ids, 1))
        contexts = read_ops.nodes_by_ids(conn, cache, "context", sorted(ids))
    return LineageGraph(
        artifacts=tuple(
            cast(list[Artifact], read_ops.nodes_by_ids(conn, cache, "artifact", a_ids))
        ),
        executions=tuple(
            cast(list[Execution], read_ops.nodes_by_ids(conn, cache, "execution", e_ids))
        ),
        contexts=tuple(contexts),
        events=tuple(read_ops.events_from_rows(conn, [events[i] for i in sorted(events)])),
    )


_ATTRIBUTED = "SELECT context_id, artifact_id FROM attribution"
_ASSOCIATED = "SELECT context_id, execution_id FROM association"
_FIRST = itemgetter(0)
