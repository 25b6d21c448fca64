"""Lineage subgraphs as the ``nodes`` / ``edges`` lists the JSON API returns and the pages draw.

The shape is the graph library's (Cytoscape's elements: ``{data: {...}}`` per node and edge) minus
the wrapper, so the browser code only wraps each item; edges point the way data flowed (execution
to its outputs, inputs to the execution), whatever the event type's direction in MLMD.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graphlets.model import Artifact, Event, Execution
from graphlets.model.serialize import event_to_dict, state_of, typed_id

Node = Artifact | Execution


def node_item(node: Node, more: int = 0) -> dict[str, Any]:
    """One node: typed id, kind, type, name, state, label, link, and neighbours not shown."""
    kind = "artifact" if isinstance(node, Artifact) else "execution"
    name = node.name or ""
    label = node.type or kind
    if name:
        label = f"{label}\n{name[:40]}"
    elif isinstance(node, Artifact) and _span(node) is not None:
        label = f"{label}\nspan {_span(node)}"
    return {
        "id": typed_id(node),
        "kind": kind,
        "type": node.type,
        "name": node.name,
        "state": state_of(node),
        "label": f"{label}\n{typed_id(node)}",
        "url": f"/{kind}s/{node.id}",
        "more": more,
    }


def edge_item(ev: Event) -> dict[str, Any]:
    """One event as an edge in the direction data flowed."""
    d = event_to_dict(ev)
    return {
        "id": f"{d['source']}->{d['target']}:{d['type']}",
        "source": d["source"],
        "target": d["target"],
        "type": d["type"],
        "key": d["key"],
    }


def graph_items(
    nodes: Iterable[Node],
    events: Iterable[Event],
    degree: Mapping[tuple[str, int], int] | None = None,
    direction: str = "both",
) -> dict[str, list[dict[str, Any]]]:
    """``{"nodes": [...], "edges": [...]}``; with ``degree`` (edges per node in ``direction``),
    each node says how many of those edges are not in the subgraph (``more``), so the page can
    offer to expand it. Upstream a node's edges are the ones arriving at it (what it was made
    from); downstream the ones leaving it."""
    node_list = list(nodes)
    edge_list = [edge_item(ev) for ev in events]
    ends = {"up": ("target",), "down": ("source",)}.get(direction, ("source", "target"))
    shown: dict[str, int] = {}
    for e in edge_list:
        for end in ends:
            shown[e[end]] = shown.get(e[end], 0) + 1
    items = []
    for n in node_list:
        kind = "artifact" if isinstance(n, Artifact) else "execution"
        total = (degree or {}).get((kind, int(n.id or 0)), 0)
        items.append(node_item(n, max(0, total - shown.get(typed_id(n), 0))))
    return {"nodes": items, "edges": edge_list}


def _span(a: Artifact) -> Any:
    return a.properties.get("span", a.custom_properties.get("span"))
