"""Model records as JSON-able dicts: the one JSON shape of a record, shared by the CLI and the web.

Pure functions, no I/O, so both thin adapters (``graphlets.cli`` and ``graphlets.web``, which must
not import each other) print the same document for the same record. Ids are typed (``artifact:12``)
because MLMD ids are per table, enums are their MLMD names, and property values stay JSON values
(non-finite floats become the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``, so that strict
parsers such as ``jq`` or a browser's ``JSON.parse`` accept the output).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from graphlets.model.entities import Artifact, Context, Event, Execution, LineageGraph
from graphlets.model.enums import EventType
from graphlets.model.ids import Kind, TypedId

Node = Artifact | Execution | Context
# Events whose data flows from the execution to the artifact; every other type flows the other way.
OUTPUT_EVENTS = frozenset(
    {
        EventType.OUTPUT,
        EventType.DECLARED_OUTPUT,
        EventType.INTERNAL_OUTPUT,
        EventType.PENDING_OUTPUT,
    }
)


def json_value(value: Any) -> Any:
    """A property value made strict-JSON safe (recursively; non-finite floats become strings)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


def kind_of(node: Node) -> Kind:
    """``artifact``, ``execution`` or ``context``: the table a record lives in."""
    if isinstance(node, Artifact):
        return "artifact"
    if isinstance(node, Execution):
        return "execution"
    return "context"


def typed_id(node: Node) -> str:
    """``kind:id`` of a stored record."""
    return str(TypedId(kind_of(node), int(node.id or 0)))


def _node_dict(node: Node) -> dict[str, Any]:
    return {
        "id": typed_id(node),
        "mlmd_id": node.id,
        "kind": kind_of(node),
        "type": node.type,
        "type_id": node.type_id,
        "name": node.name,
        "external_id": node.external_id,
        "create_time_since_epoch": node.create_time_since_epoch,
        "last_update_time_since_epoch": node.last_update_time_since_epoch,
        "properties": json_value(node.properties),
        "custom_properties": json_value(node.custom_properties),
    }


def artifact_to_dict(a: Artifact) -> dict[str, Any]:
    """An artifact as JSON: typed id, type name, uri, state name, properties."""
    d = _node_dict(a)
    d["uri"] = a.uri
    d["state"] = a.state.name
    return d


def execution_to_dict(e: Execution) -> dict[str, Any]:
    """An execution as JSON: typed id, type name, last known state name, properties."""
    d = _node_dict(e)
    d["last_known_state"] = e.last_known_state.name
    return d


def context_to_dict(c: Context) -> dict[str, Any]:
    """A context as JSON: typed id, type name, name, properties."""
    return _node_dict(c)


def node_to_dict(node: Node) -> dict[str, Any]:
    """Any of the three node records as JSON."""
    if isinstance(node, Artifact):
        return artifact_to_dict(node)
    if isinstance(node, Execution):
        return execution_to_dict(node)
    return context_to_dict(node)


def event_to_dict(ev: Event) -> dict[str, Any]:
    """An event as JSON, with ``source``/``target`` in the direction data flows."""
    art = str(TypedId("artifact", int(ev.artifact_id or 0)))
    exe = str(TypedId("execution", int(ev.execution_id or 0)))
    outgoing = ev.type in OUTPUT_EVENTS
    return {
        "artifact": art,
        "execution": exe,
        "type": ev.type.name,
        "key": ev.key,
        "path": [{"key": s.key} if s.key is not None else {"index": s.index} for s in ev.path],
        "milliseconds_since_epoch": ev.milliseconds_since_epoch,
        "source": exe if outgoing else art,
        "target": art if outgoing else exe,
    }


def lineage_to_dict(g: LineageGraph) -> dict[str, Any]:
    """A lineage subgraph as ``nodes`` (artifacts, then executions), ``edges`` and ``contexts``."""
    nodes = [artifact_to_dict(a) for a in g.artifacts]
    nodes += [execution_to_dict(e) for e in g.executions]
    return {
        "nodes": nodes,
        "edges": [event_to_dict(ev) for ev in g.events],
        "contexts": [context_to_dict(c) for c in g.contexts],
    }


def graph_nodes(g: LineageGraph) -> list[Node]:
    """The artifacts and executions of a subgraph, in one list."""
    return [*g.artifacts, *g.executions]


def state_of(node: Node) -> str:
    """The state column: artifact state, execution last known state, blank for contexts."""
    if isinstance(node, Artifact):
        return node.state.name
    if isinstance(node, Execution):
        return node.last_known_state.name
    return ""


def node_summary(node: Node) -> dict[str, Any]:
    """The short form of a record that lists and event sides show: id, type, name, state."""
    return {
        "id": typed_id(node),
        "type": node.type,
        "name": node.name,
        "state": state_of(node) or None,
    }
