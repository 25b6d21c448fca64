"""Reads: rows of one node table, hydrated with properties and type names in bulk (one query for
the nodes, one for their properties), never one query per node."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, select

from graphlets.model.entities import (
    Artifact,
    Context,
    Event,
    EventStep,
    Execution,
)
from graphlets.model.enums import ArtifactState, EventType, ExecutionState
from graphlets.store import schema as s
from graphlets.store.codec import group_properties
from graphlets.store.sqlutil import chunks
from graphlets.store.types_ops import TypeCache

Node = Artifact | Execution | Context


def select_nodes(conn: Connection, cache: TypeCache, kind: str, stmt: Select[Any]) -> list[Node]:
    """Run ``stmt`` (a select of a node table's columns) and hydrate the rows."""
    rows = list(conn.execute(stmt).mappings())
    table, owner = s.PROPERTY_TABLES[kind]
    props: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
    ids = [int(r["id"]) for r in rows]
    for part in chunks(ids):
        q = select(table).where(table.c[owner].in_(part))
        props.update(group_properties(conn.execute(q).mappings(), owner))
    if rows and any(r["type_id"] not in cache.by_id for r in rows):
        cache.load(conn)
    return [_node(kind, r, props.get(int(r["id"]), ({}, {})), cache) for r in rows]


def _node(
    kind: str, r: Any, props: tuple[dict[str, Any], dict[str, Any]], cache: TypeCache
) -> Node:
    t = cache.by_id.get(r["type_id"])
    common: dict[str, Any] = {
        "id": int(r["id"]),
        "type_id": int(r["type_id"]),
        "name": r["name"],
        "external_id": r["external_id"],
        "create_time_since_epoch": int(r["create_time_since_epoch"]),
        "last_update_time_since_epoch": int(r["last_update_time_since_epoch"]),
        "properties": props[0],
        "custom_properties": props[1],
        "type": t.name if t else None,
    }
    if kind == "artifact":
        return Artifact(**common, uri=r["uri"], state=ArtifactState(r["state"] or 0))
    if kind == "execution":
        return Execution(**common, last_known_state=ExecutionState(r["last_known_state"] or 0))
    return Context(**common)


def nodes_where(
    conn: Connection, cache: TypeCache, kind: str, where: ColumnElement[bool] | None = None
) -> list[Node]:
    """All nodes of ``kind`` matching ``where``, in id order."""
    table = s.NODE_TABLES[kind]
    stmt = select(table).order_by(table.c.id)
    if where is not None:
        stmt = stmt.where(where)
    return select_nodes(conn, cache, kind, stmt)


def nodes_by_ids(conn: Connection, cache: TypeCache, kind: str, ids: Sequence[int]) -> list[Node]:
    """Nodes with these ids, in the order given; unknown ids are skipped (as MLMD does)."""
    table = s.NODE_TABLES[kind]
    found: dict[int, Node] = {}
    for part in chunks(list(dict.fromkeys(ids))):
        for n in nodes_where(conn, cache, kind, table.c.id.in_(part)):
            assert n.id is not None
            found[n.id] = n
    return [found[i] for i in ids if i in found]


def events_where(conn: Connection, where: ColumnElement[bool]) -> list[Event]:
    """Events matching ``where`` with their paths, in id order."""
    rows = list(conn.execute(select(s.event).where(where).order_by(s.event.c.id)).mappings())
    paths: dict[int, list[EventStep]] = {}
    ids = [int(r["id"]) for r in rows]
    for part in chunks(ids):
        q = select(s.event_path).where(s.event_path.c.event_id.in_(part))
        for p in conn.execute(q).mappings():
            step = (
                EventStep(index=p["step_index"])
                if p["is_index_step"]
                else EventStep(key=p["step_key"])
            )
            paths.setdefault(int(p["event_id"]), []).append(step)
    return [
        Event(
            artifact_id=int(r["artifact_id"]),
            execution_id=int(r["execution_id"]),
            type=EventType(r["type"]),
            path=tuple(paths.get(int(r["id"]), ())),
            milliseconds_since_epoch=r["milliseconds_since_epoch"],
        )
        for r in rows
    ]


def events_by(conn: Connection, column: str, ids: Sequence[int]) -> list[Event]:
    """Events whose ``artifact_id`` or ``execution_id`` is in ``ids``."""
    out: list[Event] = []
    for part in chunks(list(ids)):
        out.extend(events_where(conn, s.event.c[column].in_(part)))
    return out
