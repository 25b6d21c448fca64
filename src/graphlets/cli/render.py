"""Model records as Rich renderables, shared by every command group.

The JSON shape of a record lives in :mod:`graphlets.model.serialize` (the web prints the same
documents); its functions are re-exported here so command modules keep one import.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from graphlets.model import Artifact, LineageGraph, TypedId
from graphlets.model.serialize import (
    OUTPUT_EVENTS,
    Node,
    artifact_to_dict,
    context_to_dict,
    event_to_dict,
    execution_to_dict,
    json_value,
    kind_of,
    lineage_to_dict,
    node_summary,
    node_to_dict,
    state_of,
    typed_id,
)

__all__ = [
    "OUTPUT_EVENTS",
    "Node",
    "artifact_to_dict",
    "context_to_dict",
    "event_to_dict",
    "execution_to_dict",
    "format_ms",
    "format_value",
    "graph_nodes",
    "json_value",
    "key_value_table",
    "kind_of",
    "label",
    "lineage_to_dict",
    "lineage_tree",
    "node_panel_rows",
    "node_summary",
    "node_to_dict",
    "nodes_table",
    "state_of",
    "table",
    "typed_id",
]


def graph_nodes(g: LineageGraph) -> list[Node]:
    """The artifacts and executions of a subgraph, in one list."""
    return [*g.artifacts, *g.executions]


# text ---------------------------------------------------------------------------------------
def format_ms(ms: int | None) -> str:
    """Milliseconds since the epoch as a UTC timestamp; blank for MLMD's unset 0."""
    if not ms:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def format_value(value: Any, width: int = 60) -> str:
    """A property value in one short line (structs as compact JSON, cut at ``width``)."""
    import json

    text = value if isinstance(value, str) else json.dumps(json_value(value), default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def label(node: Node) -> str:
    """A one-line Rich label: ``artifact:12 Model 'name' LIVE``."""
    parts = [f"[bold]{typed_id(node)}[/]", f"[cyan]{escape(node.type or '?')}[/]"]
    if node.name:
        parts.append(escape(repr(node.name)))
    if state := state_of(node):
        parts.append(f"[dim]{state}[/]")
    return " ".join(parts)


NO_WRAP = frozenset({"id", "type", "state", "event", "table", "rows", "count"})


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A Rich table with the house style; cells are escaped, so values never read as markup.

    Columns named in :data:`NO_WRAP` (ids, types, states, counts) never fold on a narrow terminal;
    the free-text ones (names, uris, values) take the folding.
    """
    t = Table(title=title, title_justify="left", header_style="bold", show_edge=False)
    for col in columns:
        t.add_column(col, overflow="fold", no_wrap=col in NO_WRAP)
    for row in rows:
        t.add_row(*(escape("" if v is None else str(v)) for v in row))
    return t


def key_value_table(
    title: str | None, values: Mapping[str, Any], header: tuple[str, str] = ("field", "value")
) -> Table:
    """A two-column table of names and values (a record's fields, its properties, counts)."""
    return table(title, header, ((k, format_value(v, 200)) for k, v in values.items()))


def nodes_table(title: str | None, nodes: Sequence[Node]) -> Table:
    """A list of nodes as one row each: id, type, name, state, uri, created."""
    rows = (
        (
            typed_id(n),
            n.type,
            n.name,
            state_of(n),
            n.uri if isinstance(n, Artifact) else "",
            format_ms(n.create_time_since_epoch),
        )
        for n in nodes
    )
    return table(title, ("id", "type", "name", "state", "uri", "created"), rows)


def node_panel_rows(node: Node) -> dict[str, Any]:
    """The scalar fields of a node for a key/value view."""
    d = node_to_dict(node)
    skip = {"properties", "custom_properties", "kind", "mlmd_id"}
    out = {k: v for k, v in d.items() if k not in skip and v not in (None, "")}
    for key in ("create_time_since_epoch", "last_update_time_since_epoch"):
        out[key] = f"{d[key]} ({format_ms(d[key])} UTC)" if d[key] else 0
    return out


def lineage_tree(
    g: LineageGraph, start: TypedId, direction: str, max_lines: int = 500
) -> tuple[Tree, bool]:
    """The subgraph as a breadth-first tree from ``start``; returns it and whether it was cut.

    Each node hangs under the first node at the previous depth that reaches it, so a node's depth
    in the tree is its hop distance (never more than the query's ``max_hops``). Lineage is a DAG,
    so some edges lead to a node already placed: with ``up`` or ``down`` every such edge is printed
    as ``(repeated)``, so each event shows exactly once; with ``both``, where every edge can be
    walked either way, only a second parent at the previous depth is, to keep the tree readable.
    Arrows show which way data flowed.
    """
    nodes: dict[str, Node] = {typed_id(n): n for n in graph_nodes(g)}
    nbrs = _neighbours(g, direction)
    root_id = str(start)
    trees = {root_id: Tree(label(nodes[root_id]) if root_id in nodes else root_id)}
    depth, queue, lines = {root_id: 0}, deque([root_id]), 1
    while queue:
        at = queue.popleft()
        for other, how in sorted(nbrs.get(at, []), key=lambda x: _id_order(x[0])):
            if other in depth and direction == "both" and depth[other] != depth[at] + 1:
                continue  # the edge we came by, or one back up or across the tree
            lines += 1
            if lines > max_lines:
                return trees[root_id], True
            text = f"[dim]{how}[/] " + (label(nodes[other]) if other in nodes else other)
            if other in depth:
                trees[at].add(text + " [dim](repeated)[/]")
                continue
            depth[other] = depth[at] + 1
            trees[other] = trees[at].add(text)
            queue.append(other)
    return trees[root_id], False


def _neighbours(g: LineageGraph, direction: str) -> dict[str, list[tuple[str, str]]]:
    """Typed id -> (neighbour, edge label) along the allowed directions of data flow."""
    nbrs: dict[str, list[tuple[str, str]]] = {}
    for ev in g.events:
        d = event_to_dict(ev)
        key = f" [dim]{escape(d['key'])}[/]" if d["key"] else ""
        if direction in ("down", "both"):
            nbrs.setdefault(d["source"], []).append((d["target"], f"→ {d['type']}{key}"))
        if direction in ("up", "both"):
            nbrs.setdefault(d["target"], []).append((d["source"], f"← {d['type']}{key}"))
    return nbrs


def _id_order(tid: str) -> tuple[str, int]:
    kind, _, num = tid.partition(":")
    return kind, int(num) if num.isdigit() else 0
