"""Bounded lineage reads for interactive browsing: an N-hop neighbourhood that never grows past a
node budget, whatever the store holds.

MLMD's ``get_lineage_subgraph`` returns everything within N hops. Around a hub (a schema read by
every training, a span read by a 30-day window) that is the whole graph after two hops, which is
what makes lineage UIs hang at a few hundred nodes. Here each node contributes at most ``per_node``
edges per hop (its newest ones, chosen in SQL with a window function), the walk stops at
``max_nodes``, and every returned node carries its full degree, so a viewer can say "+N more" and
expand that node on demand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Connection, func, select

from graphlets.errors import InvalidArgumentError
from graphlets.model.entities import Artifact, Event, Execution
from graphlets.model.enums import EventType
from graphlets.store import read_ops
from graphlets.store import schema as s
from graphlets.store.lineage_ops import INPUTS, OUTPUTS, Direction
from graphlets.store.metadata_store import MetadataStore
from graphlets.store.sqlutil import chunks

MAX_HOPS = 10
MAX_NODES = 2000
MAX_PER_NODE = 500


@dataclass(frozen=True)
class Neighbourhood:
    """A bounded subgraph around start nodes.

    Attributes:
        artifacts / executions / events: the records, in id order.
        degree: ``("artifact", id)`` or ``("execution", id)`` -> number of event edges the node
            has in the walked direction (in the whole store, not only in this subgraph).
        truncated: True when the node budget stopped the walk before ``max_hops``.
    """

    artifacts: tuple[Artifact, ...] = ()
    executions: tuple[Execution, ...] = ()
    events: tuple[Event, ...] = ()
    degree: dict[tuple[str, int], int] = field(default_factory=dict)
    truncated: bool = False


@dataclass
class _Walk:
    arts: set[int]
    execs: set[int]
    events: set[int] = field(default_factory=set)
    truncated: bool = False

    @property
    def size(self) -> int:
        return len(self.arts) + len(self.execs)


def neighbourhood(
    st: MetadataStore,
    artifact_ids: Iterable[int] = (),
    execution_ids: Iterable[int] = (),
    *,
    max_hops: int = 2,
    direction: Direction = Direction.BIDIRECTIONAL,
    per_node: int = 25,
    max_nodes: int = 300,
) -> Neighbourhood:
    """Nodes and events within ``max_hops`` of the start nodes, within the budgets.

    Args:
        st: the store.
        artifact_ids / execution_ids: where to start (unknown ids are dropped).
        max_hops: event edges to walk (0 = just the start nodes).
        direction: ``up`` (towards what produced the start), ``down`` or ``both``.
        per_node: newest edges followed from each node per hop.
        max_nodes: total node budget; the walk stops adding nodes beyond it.
    """
    _check(max_hops, per_node, max_nodes)

    def read(conn: Connection) -> Neighbourhood:
        walk = _Walk(
            _existing(conn, s.artifact, artifact_ids), _existing(conn, s.execution, execution_ids)
        )
        _bfs(conn, walk, max_hops, direction, per_node, max_nodes)
        types = st._types  # same package: hydrate inside this one read transaction
        arts = read_ops.nodes_by_ids(conn, types, "artifact", sorted(walk.arts))
        execs = read_ops.nodes_by_ids(conn, types, "execution", sorted(walk.execs))
        events: list[Event] = []
        for part in chunks(sorted(walk.events)):
            events += read_ops.events_where(conn, s.event.c.id.in_(part))
        degree = _degrees(conn, walk, direction)
        return Neighbourhood(
            tuple(cast(list[Artifact], arts)),
            tuple(cast(list[Execution], execs)),
            tuple(events),
            degree,
            walk.truncated,
        )

    return st._read(read)


def _check(max_hops: int, per_node: int, max_nodes: int) -> None:
    for name, value, top in (
        ("max_hops", max_hops, MAX_HOPS),
        ("per_node", per_node, MAX_PER_NODE),
        ("max_nodes", max_nodes, MAX_NODES),
    ):
        low = 0 if name == "max_hops" else 1
        if not low <= value <= top:
            raise InvalidArgumentError(f"{name} must be between {low} and {top}, got {value}")


def _existing(conn: Connection, table: Any, ids: Iterable[int]) -> set[int]:
    wanted = sorted(set(ids))
    found: set[int] = set()
    for part in chunks(wanted):
        q = select(table.c.id).where(table.c.id.in_(part))
        found.update(int(i) for i in conn.execute(q).scalars())
    return found


def _bfs(
    conn: Connection, walk: _Walk, hops: int, direction: Direction, per_node: int, max_nodes: int
) -> None:
    frontier_a, frontier_e = set(walk.arts), set(walk.execs)
    for _ in range(hops):
        if not frontier_a and not frontier_e:
            return
        edges = _edges(conn, "artifact_id", frontier_a, direction, True, per_node)
        edges += _edges(conn, "execution_id", frontier_e, direction, False, per_node)
        new_a: set[int] = set()
        new_e: set[int] = set()
        for eid, a, e in sorted(edges, key=lambda x: -x[0]):
            known = a in walk.arts and e in walk.execs
            if not known and walk.size >= max_nodes:
                walk.truncated = True
                continue
            walk.events.add(eid)
            for node, seen, new in ((a, walk.arts, new_a), (e, walk.execs, new_e)):
                if node not in seen:
                    seen.add(node)
                    new.add(node)
        frontier_a, frontier_e = new_a, new_e


def _types_for(direction: Direction, from_artifact: bool) -> tuple[EventType, ...]:
    if direction == Direction.BIDIRECTIONAL:
        return INPUTS + OUTPUTS
    if (direction == Direction.UPSTREAM) == from_artifact:
        return OUTPUTS  # an artifact's producers upstream, an execution's outputs downstream
    return INPUTS


def _edges(
    conn: Connection,
    column: str,
    ids: set[int],
    direction: Direction,
    from_artifact: bool,
    per_node: int,
) -> list[tuple[int, int, int]]:
    """(event id, artifact id, execution id): each node's ``per_node`` newest edges."""
    if not ids:
        return []
    e = s.event
    types = [int(t) for t in _types_for(direction, from_artifact)]
    out: list[tuple[int, int, int]] = []
    for part in chunks(sorted(ids)):
        rank = func.row_number().over(partition_by=e.c[column], order_by=e.c.id.desc())
        inner = (
            select(e.c.id, e.c.artifact_id, e.c.execution_id, rank.label("rank"))
            .where(e.c[column].in_(part), e.c.type.in_(types))
            .subquery()
        )
        q = select(inner.c.id, inner.c.artifact_id, inner.c.execution_id).where(
            inner.c.rank <= per_node
        )
        out.extend((int(r[0]), int(r[1]), int(r[2])) for r in conn.execute(q))
    return out


def _degrees(conn: Connection, walk: _Walk, direction: Direction) -> dict[tuple[str, int], int]:
    """Edges per node in the walked direction, over the whole store (one GROUP BY per kind)."""
    e = s.event
    out: dict[tuple[str, int], int] = {}
    for kind, column, ids, from_artifact in (
        ("artifact", e.c.artifact_id, walk.arts, True),
        ("execution", e.c.execution_id, walk.execs, False),
    ):
        types = [int(t) for t in _types_for(direction, from_artifact)]
        for part in chunks(sorted(ids)):
            q = (
                select(column, func.count())
                .where(column.in_(part), e.c.type.in_(types))
                .group_by(column)
            )
            out.update({(kind, int(i)): int(n) for i, n in conn.execute(q)})
    return out


def events_page(
    st: MetadataStore, column: str, node_id: int, *, limit: int, after_id: int | None = None
) -> tuple[list[Event], int | None]:
    """One node's events in id order, a page at a time (a schema may have 100,000).

    Args:
        st: the store.
        column: ``artifact_id`` or ``execution_id``.
        node_id: the artifact or execution.
        limit: page size.
        after_id: the last event id of the previous page.

    Returns:
        The events, and the event id to continue after (None on the last page).
    """
    if column not in ("artifact_id", "execution_id"):
        raise InvalidArgumentError(f"events are paged by artifact_id or execution_id, not {column}")
    e = s.event

    def read(conn: Connection) -> tuple[list[Event], int | None]:
        q = select(e.c.id).where(e.c[column] == node_id)
        if after_id is not None:
            q = q.where(e.c.id > after_id)
        ids = [int(i) for i in conn.execute(q.order_by(e.c.id).limit(limit + 1)).scalars()]
        more = len(ids) > limit
        ids = ids[:limit]
        events = read_ops.events_where(conn, e.c.id.in_(ids)) if ids else []
        return events, (ids[-1] if more else None)

    return st._read(read)


def associations(
    st: MetadataStore, execution_ids: Iterable[int], context_ids: Iterable[int]
) -> list[tuple[int, int]]:
    """(execution, context) links among the given executions and contexts (one query per chunk)."""
    a = s.association
    execs, ctxs = sorted(set(execution_ids)), sorted(set(context_ids))
    if not execs or not ctxs:
        return []
    out: list[tuple[int, int]] = []
    with st.engine.connect() as conn:
        for part in chunks(ctxs):
            for epart in chunks(execs):
                q = select(a.c.execution_id, a.c.context_id).where(
                    a.c.context_id.in_(part), a.c.execution_id.in_(epart)
                )
                out.extend((int(x), int(c)) for x, c in conn.execute(q))
    return out
