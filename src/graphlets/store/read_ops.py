"""Reads: rows of one node table, hydrated with properties and type names in bulk (one query for
the nodes, one for their properties), never one query per node.

Whole-store reads go through here, so the hot loops work on plain tuples from the driver
(:func:`graphlets.store.sqlutil.fetchall`), look enums up in prebuilt dicts, and build the frozen
records with :func:`maker` instead of their keyword constructors.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from operator import itemgetter
from types import MappingProxyType
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, select

from graphlets.model.entities import Artifact, Context, Event, EventStep, Execution
from graphlets.model.enums import ArtifactState, EventType, ExecutionState
from graphlets.store import schema as s
from graphlets.store.codec import PROPERTY_SELECT_COLUMNS, group_property_tuples
from graphlets.store.sqlutil import rows_by_ids
from graphlets.store.types_ops import TypeCache

Node = Artifact | Execution | Context
Row = Sequence[Any]
_COMMON = (
    "id",
    "type_id",
    "name",
    "external_id",
    "create_time_since_epoch",
    "last_update_time_since_epoch",
)
NODE_COLUMNS: dict[str, tuple[str, ...]] = {
    "artifact": (*_COMMON, "uri", "state"),
    "execution": (*_COMMON, "last_known_state"),
    "context": _COMMON,
}
NODE_SQL = {kind: f"SELECT {', '.join(cols)} FROM {kind}" for kind, cols in NODE_COLUMNS.items()}
EVENT_COLUMNS = ("id", "artifact_id", "execution_id", "type", "milliseconds_since_epoch")
EVENT_SQL = f"SELECT {', '.join(EVENT_COLUMNS)} FROM event"
PATH_SQL = "SELECT event_id, is_index_step, step_index, step_key FROM eventpath"
_PROPERTY_SQL = {
    kind: f"SELECT {owner}, {', '.join(PROPERTY_SELECT_COLUMNS)} FROM {table.name}"
    for kind, (table, owner) in s.PROPERTY_TABLES.items()
}
_EMPTY: MappingProxyType[str, Any] = MappingProxyType({})
_NO_PROPS: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
# Unknown enum values (another tool, a newer MLMD) read as UNKNOWN: a read never fails on one row.
_ART_STATE = {int(x): x for x in ArtifactState}
_EXEC_STATE = {int(x): x for x in ExecutionState}
_EVENT_TYPE = {int(x): x for x in EventType}


def maker(cls: type[Any], names: tuple[str, ...]) -> Callable[[Sequence[Any]], Any]:
    """A constructor of frozen dataclass ``cls`` from values in ``names`` order, 5-10x faster
    than ``cls(**kwargs)``.

    It fills the instance's ``__dict__`` directly, skipping ``__init__``/``__post_init__``: only
    for rows read back from the store, whose values are already what ``__init__`` would make
    (property maps already read-only). If the record's fields are not exactly ``names`` (the model
    changed) or it has slots, it falls back to the keyword constructor, so it is never wrong.
    """
    if sorted(f.name for f in fields(cls)) != sorted(names) or hasattr(cls, "__slots__"):
        return lambda values: cls(**dict(zip(names, values, strict=True)))
    targets = ", ".join(f"d[{n!r}]" for n in names)
    code = f"def make(v):\n    o = new(cls)\n    d = o.__dict__\n    {targets}, = v\n    return o\n"
    scope: dict[str, Any] = {"new": object.__new__, "cls": cls}
    exec(code, scope)  # fixed field names of our own dataclasses, never user input
    return scope["make"]  # type: ignore[no-any-return]


_NODE_FIELDS = (
    "type_id",
    "name",
    "properties",
    "custom_properties",
    "id",
    "external_id",
    "create_time_since_epoch",
    "last_update_time_since_epoch",
)
_make_artifact = maker(Artifact, (*_NODE_FIELDS, "uri", "state", "type"))
_make_execution = maker(Execution, (*_NODE_FIELDS, "last_known_state", "type"))
_make_context = maker(Context, (*_NODE_FIELDS, "type"))
_EVENT_FIELDS = ("artifact_id", "execution_id", "type", "path", "milliseconds_since_epoch")
_make_event = maker(Event, _EVENT_FIELDS)


def _proxy(d: dict[str, Any]) -> MappingProxyType[str, Any]:
    return MappingProxyType(d) if d else _EMPTY


def hydrate(conn: Connection, cache: TypeCache, kind: str, rows: Sequence[Row]) -> list[Node]:
    """Records for rows in ``NODE_COLUMNS[kind]`` order, with properties and type names."""
    if not rows:
        return []
    _, owner = s.PROPERTY_TABLES[kind]
    found = rows_by_ids(conn, _PROPERTY_SQL[kind], owner, [r[0] for r in rows], 0)
    return build_nodes(conn, cache, kind, rows, found)


def property_sql(kind: str, where: str) -> str:
    """The SELECT of a node kind's property rows (as :func:`build_nodes` takes them) ``where``."""
    return f"{_PROPERTY_SQL[kind]} WHERE {where}"


def build_nodes(
    conn: Connection, cache: TypeCache, kind: str, rows: Sequence[Row], prop_rows: Iterable[Row]
) -> list[Node]:
    """Records for node rows and their property rows (from :func:`property_sql`)."""
    props = group_property_tuples(prop_rows)
    if not {r[1] for r in rows} <= cache.by_id.keys():
        cache.load(conn)
    names = {tid: t.name for tid, t in cache.by_id.items()}
    return _BUILD[kind](rows, props, names)


Props = dict[int, tuple[dict[str, Any], dict[str, Any]]]


def _artifacts(rows: Sequence[Row], props: Props, names: dict[int, str]) -> list[Node]:
    get, out = props.get, []
    for id_, tid, name, ext, ct, ut, uri, state in rows:
        p, c = get(id_, _NO_PROPS)
        st = _ART_STATE.get(state or 0, ArtifactState.UNKNOWN)
        t = names.get(tid)
        out.append(_make_artifact((tid, name, _proxy(p), _proxy(c), id_, ext, ct, ut, uri, st, t)))
    return out


def _executions(rows: Sequence[Row], props: Props, names: dict[int, str]) -> list[Node]:
    get, out = props.get, []
    for id_, tid, name, ext, ct, ut, state in rows:
        p, c = get(id_, _NO_PROPS)
        st = _EXEC_STATE.get(state or 0, ExecutionState.UNKNOWN)
        t = names.get(tid)
        out.append(_make_execution((tid, name, _proxy(p), _proxy(c), id_, ext, ct, ut, st, t)))
    return out


def _contexts(rows: Sequence[Row], props: Props, names: dict[int, str]) -> list[Node]:
    get, out = props.get, []
    for id_, tid, name, ext, ct, ut in rows:
        p, c = get(id_, _NO_PROPS)
        t = names.get(tid)
        out.append(_make_context((tid, name, _proxy(p), _proxy(c), id_, ext, ct, ut, t)))
    return out


_BUILD: dict[str, Callable[[Sequence[Row], Props, dict[int, str]], list[Node]]] = {
    "artifact": _artifacts,
    "execution": _executions,
    "context": _contexts,
}


def select_nodes(conn: Connection, cache: TypeCache, kind: str, stmt: Select[Any]) -> list[Node]:
    """Run ``stmt`` (a select of a node table's columns, all of ``NODE_COLUMNS[kind]`` among
    them) and hydrate the rows in the order the statement returns them."""
    result = conn.execute(stmt)
    return hydrate(conn, cache, kind, reorder(kind, list(result.keys()), result.all()))


def reorder(kind: str, keys: Sequence[str], rows: Iterable[Row]) -> list[Row]:
    """Rows with columns ``keys`` as rows in ``NODE_COLUMNS[kind]`` order."""
    cols = NODE_COLUMNS[kind]
    if tuple(keys) == cols:
        return list(rows)
    pick = itemgetter(*(list(keys).index(c) for c in cols))
    return list(map(pick, rows))


def nodes_where(
    conn: Connection, cache: TypeCache, kind: str, where: ColumnElement[bool] | None = None
) -> list[Node]:
    """All nodes of ``kind`` matching ``where``, in id order."""
    table = s.NODE_TABLES[kind]
    stmt = select(*(table.c[c] for c in NODE_COLUMNS[kind])).order_by(table.c.id)
    if where is not None:
        stmt = stmt.where(where)
    return hydrate(conn, cache, kind, conn.execute(stmt).all())


def nodes_by_ids(conn: Connection, cache: TypeCache, kind: str, ids: Sequence[int]) -> list[Node]:
    """Nodes with these ids, in the order given; unknown ids are skipped (as MLMD does)."""
    rows = sorted(rows_by_ids(conn, NODE_SQL[kind], "id", ids, 0), key=_FIRST)
    nodes = hydrate(conn, cache, kind, rows)
    if list(ids) == [r[0] for r in rows]:
        return nodes
    found = {n.id: n for n in nodes}
    return [found[i] for i in ids if i in found]


_FIRST = itemgetter(0)


def events_from_rows(conn: Connection, rows: Sequence[Row]) -> list[Event]:
    """Events for rows in ``EVENT_COLUMNS`` order (kept in that order), with their paths."""
    ids = [r[0] for r in rows]
    return build_events(rows, rows_by_ids(conn, PATH_SQL, "event_id", ids, 0))


def build_events(rows: Sequence[Row], path_rows: Iterable[Row]) -> list[Event]:
    """Events for event rows and their path rows (from :data:`PATH_SQL`), in row order."""
    paths = _paths(path_rows)
    out = []
    no_path: tuple[EventStep, ...] = ()
    for id_, art, ex, kind, ms in rows:
        t = _EVENT_TYPE.get(kind, EventType.UNKNOWN)  # a value MLMD v10 does not define
        out.append(_make_event((art, ex, t, paths.get(id_, no_path), ms)))
    return out


def _paths(rows: Iterable[Row]) -> dict[int, tuple[EventStep, ...]]:
    """Each event's path steps, in the order they were written.

    Steps and whole paths are frozen, so equal ones are shared: a store has a handful of distinct
    paths (``examples``, ``model``, ...) over millions of events.
    """
    made: dict[tuple[Any, Any, Any], int] = {}  # a step's columns -> its index in ``steps``
    steps: list[EventStep] = []
    of_event: dict[int, list[int]] = {}
    for eid, is_index, index, key in rows:
        k = (is_index, index, key)
        i = made.get(k)
        if i is None:
            i = made[k] = len(steps)
            steps.append(EventStep(index=index) if is_index else EventStep(key=key))
        found = of_event.get(eid)
        if found is None:
            of_event[eid] = [i]
        else:
            found.append(i)
    paths: dict[tuple[int, ...], tuple[EventStep, ...]] = {}
    out: dict[int, tuple[EventStep, ...]] = {}
    for eid, found in of_event.items():
        shape = tuple(found)
        path = paths.get(shape)
        if path is None:
            path = paths[shape] = tuple(steps[i] for i in shape)
        out[eid] = path
    return out


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a read builds its records.

    Reading a whole store creates hundreds of thousands of objects, none of them in reference
    cycles; each allocation burst triggers collections that walk every object in the process,
    which cost more than the read itself. Reference counting still frees everything; the
    collector's previous state is restored afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def events_where(conn: Connection, where: ColumnElement[bool]) -> list[Event]:
    """Events matching ``where`` with their paths, in id order."""
    e = s.event
    stmt = select(*(e.c[c] for c in EVENT_COLUMNS)).where(where).order_by(e.c.id)
    return events_from_rows(conn, conn.execute(stmt).all())


def events_by(conn: Connection, column: str, ids: Sequence[int]) -> list[Event]:
    """Events whose ``id``, ``artifact_id`` or ``execution_id`` is in ``ids``, in id order."""
    key = EVENT_COLUMNS.index(column)
    rows = sorted(rows_by_ids(conn, EVENT_SQL, column, ids, key), key=_FIRST)
    return events_from_rows(conn, rows)
