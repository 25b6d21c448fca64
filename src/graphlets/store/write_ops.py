"""Writes with MLMD's semantics: batch puts return ids index-aligned with their inputs, an update
replaces a node's properties, links are idempotent, and ``put_execution`` is one transaction."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, delete, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from graphlets.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from graphlets.model.entities import (
    Artifact,
    Association,
    Attribution,
    Context,
    Event,
    Execution,
    ParentContext,
    PropertyValue,
)
from graphlets.model.enums import PropertyType, TypeKind
from graphlets.store import read_ops
from graphlets.store import schema as s
from graphlets.store.codec import (
    PROPERTY_INSERT_COLUMNS,
    decode_value,
    find_nul,
    property_tuples,
    value_columns,
)
from graphlets.store.sqlutil import (
    allocate_ids,
    insert_ignore,
    insert_ignore_pairs,
    insert_rows,
    is_postgresql,
    rows_by_ids,
)
from graphlets.store.types_ops import TypeCache

Node = Artifact | Execution | Context
_COMPARED = ("type_id", "name", "external_id", "uri", "state", "last_known_state")
_KIND = {Artifact: "artifact", Execution: "execution", Context: "context"}
_TYPE_KIND = {
    "artifact": TypeKind.ARTIFACT_TYPE,
    "execution": TypeKind.EXECUTION_TYPE,
    "context": TypeKind.CONTEXT_TYPE,
}


def now_ms() -> int:
    """Milliseconds since the epoch, MLMD's time unit."""
    return time.time_ns() // 1_000_000


def _columns(kind: str, node: Node) -> dict[str, Any]:
    return dict(zip(NODE_INSERT_COLUMNS[kind][1:], _values(kind, node), strict=True))


# Columns of a new node row, in the order :func:`_values` gives them (after the id) and followed
# by the two times.
NODE_INSERT_COLUMNS: dict[str, tuple[str, ...]] = {
    "artifact": ("id", "type_id", "name", "external_id", "uri", "state"),
    "execution": ("id", "type_id", "name", "external_id", "last_known_state"),
    "context": ("id", "type_id", "name", "external_id"),
}
_TIMES = ("create_time_since_epoch", "last_update_time_since_epoch")


def _values(kind: str, node: Node) -> tuple[Any, ...]:
    if isinstance(node, Artifact):
        return node.type_id, node.name, node.external_id, node.uri, int(node.state)
    if isinstance(node, Execution):
        return node.type_id, node.name, node.external_id, int(node.last_known_state)
    if not node.name:
        raise InvalidArgumentError("a context needs a name: MLMD requires Context.name")
    return node.type_id, node.name, node.external_id


def put_nodes(conn: Connection, cache: TypeCache, nodes: Sequence[Node]) -> list[int]:
    """Insert new nodes and update those with an id; returns ids in input order.

    New rows get their ids from :func:`allocate_ids` and go in with one ``executemany`` or COPY
    (an ``INSERT ... RETURNING`` that must keep input order is one statement per row on SQLite).
    """
    if not nodes:
        return []
    kind = _KIND[type(nodes[0])]
    table = s.NODE_TABLES[kind]
    stamp = now_ms()
    ids: list[int | None] = [n.id for n in nodes]
    new = [i for i, n in enumerate(nodes) if n.id is None]
    if is_postgresql(conn):
        _refuse_nul(kind, nodes)
    for type_id in dict.fromkeys(n.type_id for n in nodes):
        _check_type(conn, cache, kind, type_id)
    same = _unchanged(conn, cache, kind, nodes)
    try:
        if new:
            rows = [(*_values(kind, nodes[i]), stamp, stamp) for i in new]
            fresh = allocate_ids(conn, table.name, len(new))
            cols = (*NODE_INSERT_COLUMNS[kind], *_TIMES)
            insert_rows(conn, table.name, cols, [(i, *r) for i, r in zip(fresh, rows, strict=True)])
            for i, new_id in zip(new, fresh, strict=True):
                ids[i] = new_id
        for i, n in enumerate(nodes):
            if n.id is not None and i not in same:
                _update_node(conn, table, kind, n, stamp)
    except IntegrityError as exc:
        raise _duplicate(kind, nodes, exc) from exc
    final = [int(i) for i in ids if i is not None]
    todo = [i for i in range(len(nodes)) if i not in same]
    _replace_properties(conn, cache, kind, [nodes[i] for i in todo], [final[i] for i in todo])
    return final


def _refuse_nul(kind: str, nodes: Sequence[Node]) -> None:
    for i, n in enumerate(nodes):
        field = find_nul(n)
        if field is not None:
            raise InvalidArgumentError(
                f"{kind} #{i} ({kind} id {n.id or 'new'}) has a NUL byte (0x00) in its {field}, "
                "which PostgreSQL cannot store: remove the NUL"
            )


def _unchanged(conn: Connection, cache: TypeCache, kind: str, nodes: Sequence[Node]) -> set[int]:
    """Positions of nodes with an id that equal their stored version.

    ml-metadata leaves those rows alone, ``last_update_time_since_epoch`` included, so passing an
    input artifact to ``put_execution`` does not make it look freshly updated.
    """
    with_id = [n.id for n in nodes if n.id is not None]
    if not with_id:
        return set()
    stored = {n.id: n for n in read_ops.nodes_by_ids(conn, cache, kind, with_id)}
    return {
        i
        for i, n in enumerate(nodes)
        if n.id in stored and _same(n, stored[n.id], cache.get_by_id(conn, n.type_id).properties)
    }


def _same(new: Node, old: Node, declared: Mapping[str, PropertyType]) -> bool:
    if any(getattr(new, c, None) != getattr(old, c, None) for c in _COMPARED):
        return False
    return _canon(new.properties, declared) == _canon(old.properties, {}) and _canon(
        new.custom_properties, {}
    ) == _canon(old.custom_properties, {})


def _canon(props: Mapping[str, PropertyValue], declared: Mapping[str, PropertyType]) -> set[str]:
    """Properties as stored and read back, typed, so ``1``, ``1.0`` and ``True`` differ."""
    out = set()
    for name, value in props.items():
        v = decode_value(value_columns(name, value, declared.get(name)))
        out.add(json.dumps([name, type(v).__name__, v], sort_keys=True))
    return out


def _update_node(conn: Connection, table: Table, kind: str, n: Node, stamp: int) -> None:
    values = {**_columns(kind, n), "last_update_time_since_epoch": stamp}
    res = conn.execute(update(table).where(table.c.id == n.id).values(**values))
    if res.rowcount == 0:
        raise NotFoundError(f"{kind}:{n.id} does not exist: omit the id to create a new {kind}")


def _check_type(conn: Connection, cache: TypeCache, kind: str, type_id: int) -> None:
    t = cache.get_by_id(conn, type_id)
    if t.kind != _TYPE_KIND[kind]:
        raise InvalidArgumentError(
            f"type id {type_id} ({t.name!r}) is a {t.kind.name.lower()}, not a {kind} type: "
            f"use the id returned by put_{kind}_type()"
        )


def _duplicate(kind: str, nodes: Sequence[Node], exc: IntegrityError) -> AlreadyExistsError:
    names = ", ".join(repr(n.name) for n in nodes[:3] if n.name)
    return AlreadyExistsError(
        f"a {kind} with the same type and name (or external_id) already exists ({names}): "
        f"pass the existing id to update it, or choose another name"
    )


def _replace_properties(
    conn: Connection, cache: TypeCache, kind: str, nodes: Sequence[Node], ids: list[int]
) -> None:
    table, owner = s.PROPERTY_TABLES[kind]
    updated = [i for n, i in zip(nodes, ids, strict=True) if n.id is not None]
    if updated:
        conn.execute(delete(table).where(table.c[owner].in_(updated)))
    rows: list[tuple[Any, ...]] = []
    declared_of: dict[int, Mapping[str, PropertyType]] = {}
    for n, node_id in zip(nodes, ids, strict=True):
        if not n.properties and not n.custom_properties:
            continue
        declared = declared_of.get(n.type_id)
        if declared is None or not declared.keys() >= n.properties.keys():
            declared = declared_of[n.type_id] = _declared(conn, cache, kind, n)
        rows.extend(property_tuples(node_id, n.properties, n.custom_properties, declared))
    if rows:
        insert_rows(conn, table.name, (owner, *PROPERTY_INSERT_COLUMNS), rows)


def _declared(conn: Connection, cache: TypeCache, kind: str, n: Node) -> Mapping[str, PropertyType]:
    """The declared properties of ``n``'s type; an undeclared property is an error."""
    declared = cache.get_by_id(conn, n.type_id).properties
    unknown = set(n.properties) - set(declared)
    if unknown:  # another process may have added the fields since we cached the type
        cache.invalidate()
        declared = cache.get_by_id(conn, n.type_id).properties
        unknown = set(n.properties) - set(declared)
    if unknown:
        raise InvalidArgumentError(
            f"{kind} properties {sorted(unknown)} are not declared on type "
            f"{cache.get_by_id(conn, n.type_id).name!r}: declare them (can_add_fields=True) "
            "or pass them as custom_properties"
        )
    return declared


def put_events(conn: Connection, events: Sequence[Event], *, verify: bool = True) -> None:
    """Insert events and their paths; a repeated (artifact, execution, type) is an error.

    ``verify=False`` skips the existence checks, for callers (``put_execution``) whose ids come
    from writes in the same transaction.
    """
    for e in events:
        if e.artifact_id is None or e.execution_id is None:
            raise InvalidArgumentError(
                "an event needs artifact_id and execution_id: put the artifact and execution first"
            )
    if not events:
        return
    if verify:
        _check_exist(conn, s.artifact, {e.artifact_id for e in events}, "artifact")  # type: ignore[misc]
        _check_exist(conn, s.execution, {e.execution_id for e in events}, "execution")  # type: ignore[misc]
    stamp = now_ms()
    event_ids = allocate_ids(conn, "event", len(events))
    rows = [
        (eid, e.artifact_id, e.execution_id, int(e.type), e.milliseconds_since_epoch or stamp)
        for eid, e in zip(event_ids, events, strict=True)
    ]
    try:
        insert_rows(conn, "event", _EVENT_COLUMNS, rows)
    except IntegrityError as exc:
        raise AlreadyExistsError(
            "an event with the same artifact, execution and type already exists: "
            "each (artifact, execution, type) is recorded once"
        ) from exc
    paths = [
        (eid, st.key is None, st.index, st.key)
        for e, eid in zip(events, event_ids, strict=True)
        for st in e.path
    ]
    if paths:
        insert_rows(conn, "eventpath", _PATH_COLUMNS, paths)


_EVENT_COLUMNS = ("id", "artifact_id", "execution_id", "type", "milliseconds_since_epoch")
_PATH_COLUMNS = ("event_id", "is_index_step", "step_index", "step_key")


def _check_exist(conn: Connection, table: Table, ids: set[int], kind: str) -> None:
    found = {r[0] for r in rows_by_ids(conn, f"SELECT id FROM {table.name}", "id", ids, 0)}
    missing = sorted(ids - found)
    if missing:
        raise NotFoundError(f"{kind}:{missing[0]} does not exist: put it before linking it")


def put_links(
    conn: Connection,
    attributions: Sequence[Attribution] = (),
    associations: Sequence[Association] = (),
    *,
    verify: bool = True,
) -> None:
    """Attributions and associations, idempotently (existing links are kept).

    ``verify=False`` skips the existence checks (see :func:`put_events`).
    """
    if attributions and verify:
        _check_exist(conn, s.context, {a.context_id for a in attributions}, "context")
        _check_exist(conn, s.artifact, {a.artifact_id for a in attributions}, "artifact")
    if attributions:
        rows = [(a.context_id, a.artifact_id) for a in attributions]
        insert_ignore_pairs(conn, "attribution", ("context_id", "artifact_id"), rows)
    if associations and verify:
        _check_exist(conn, s.context, {a.context_id for a in associations}, "context")
        _check_exist(conn, s.execution, {a.execution_id for a in associations}, "execution")
    if associations:
        rows = [(a.context_id, a.execution_id) for a in associations]
        insert_ignore_pairs(conn, "association", ("context_id", "execution_id"), rows)


def put_parent_contexts(conn: Connection, links: Sequence[ParentContext]) -> None:
    """Context nesting; a context cannot be its own parent."""
    for link in links:
        if link.child_id == link.parent_id:
            raise InvalidArgumentError(f"context:{link.child_id} cannot be its own parent")
    ids = {x for link in links for x in (link.child_id, link.parent_id)}
    _check_exist(conn, s.context, ids, "context")
    insert_ignore(
        conn,
        s.parent_context,
        [{"context_id": p.child_id, "parent_context_id": p.parent_id} for p in links],
    )


def reuse_contexts(conn: Connection, contexts: Sequence[Context]) -> list[Context]:
    """Give new contexts the id of an existing context with the same type and name."""
    keys = [(c.type_id, c.name) for c in contexts if c.id is None]
    if not keys:
        return list(contexts)
    q = select(s.context.c.id, s.context.c.type_id, s.context.c.name).where(
        tuple_(s.context.c.type_id, s.context.c.name).in_(keys)
    )
    found = {(r.type_id, r.name): r.id for r in conn.execute(q)}
    out = []
    for c in contexts:
        existing = found.get((c.type_id, c.name)) if c.id is None else None
        out.append(c if existing is None else _with_id(c, int(existing)))
    return out


def _with_id(c: Context, new_id: int) -> Context:
    from dataclasses import replace

    return replace(c, id=new_id)
