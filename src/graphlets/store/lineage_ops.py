"""N-hop lineage by breadth-first search over the Event table, one query per hop and frontier chunk.

A hop is one event edge (artifact -> execution or execution -> artifact), as in MLMD's
``get_lineage_subgraph``. Upstream follows producing edges backwards (an artifact's OUTPUT events,
an execution's INPUT events); downstream follows consuming edges forwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from sqlalchemy import Connection, select

from graphlets.model.enums import EventType
from graphlets.store import schema as s
from graphlets.store.sqlutil import chunks

INPUTS = (EventType.INPUT, EventType.DECLARED_INPUT, EventType.INTERNAL_INPUT)
OUTPUTS = (
    EventType.OUTPUT,
    EventType.DECLARED_OUTPUT,
    EventType.INTERNAL_OUTPUT,
    EventType.PENDING_OUTPUT,
)


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
    arts, execs = set(artifact_ids), set(execution_ids)
    frontier_a, frontier_e = set(arts), set(execs)
    event_ids: set[int] = set()
    for _ in range(max_hops):
        if not frontier_a and not frontier_e:
            break
        new_a: set[int] = set()
        new_e: set[int] = set()
        for eid, _a, e in _edges(conn, "artifact_id", frontier_a, direction, from_artifact=True):
            event_ids.add(eid)
            if e not in execs:
                new_e.add(e)
        for eid, a, _e in _edges(conn, "execution_id", frontier_e, direction, from_artifact=False):
            event_ids.add(eid)
            if a not in arts:
                new_a.add(a)
        arts |= new_a
        execs |= new_e
        frontier_a, frontier_e = new_a, new_e
    return arts, execs, event_ids


def _edges(
    conn: Connection, column: str, ids: set[int], direction: Direction, from_artifact: bool
) -> list[tuple[int, int, int]]:
    if not ids:
        return []
    types: tuple[EventType, ...]
    if direction == Direction.BIDIRECTIONAL:
        types = INPUTS + OUTPUTS
    elif (direction == Direction.UPSTREAM) == from_artifact:
        types = OUTPUTS  # artifact's producers, or an execution's outputs downstream
    else:
        types = INPUTS
    e = s.event
    out: list[tuple[int, int, int]] = []
    for part in chunks(sorted(ids)):
        q = select(e.c.id, e.c.artifact_id, e.c.execution_id).where(
            e.c[column].in_(part), e.c.type.in_([int(t) for t in types])
        )
        out.extend((int(r[0]), int(r[1]), int(r[2])) for r in conn.execute(q))
    return out
