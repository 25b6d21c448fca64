"""The documents behind ``store stats`` and ``store show``, and their Rich rendering.

A view builds one JSON-able dict from the store (``--json`` prints it as is) and a renderer turns
that same dict into Rich tables, so the two outputs can never disagree. The stats document comes
from :mod:`graphlets.store.stats` (SQL ``GROUP BY`` counts), which the web's overview shares.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rich.console import RenderableType
from rich.markup import escape

from graphlets.cli import render
from graphlets.errors import NotFoundError
from graphlets.model import TypedId
from graphlets.store import ListOptions, MetadataStore
from graphlets.store.stats import collect_stats

__all__ = ["collect_stats", "not_found", "show_doc", "show_renderables", "stats_renderables"]

MEMBERS_SHOWN = 20


# stats --------------------------------------------------------------------------------------
def stats_renderables(doc: dict[str, Any]) -> Iterator[RenderableType]:
    """``store stats`` for a terminal: totals, then one table per kind and per state."""
    rev = doc["graphlets_revision"] or "none"
    pending = " [yellow](run `graphlets store upgrade`)[/]" if doc["migrations_pending"] else ""
    yield (
        f"[bold]{escape(doc['url'])}[/]  MLMD schema {doc['schema_version']}, "
        f"graphlets revision {escape(rev)}{pending}"
    )
    keys = (
        "types",
        "artifacts",
        "executions",
        "events",
        "contexts",
        "attributions",
        "associations",
        "parent_contexts",
    )
    yield render.table("totals", ("table", "rows"), ((k, doc[k]) for k in keys))
    for kind, counts in doc["by_type"].items():
        if counts:
            yield render.table(f"{kind} by type", ("type", kind), counts.items())
    for key in ("artifacts_by_state", "executions_by_state", "events_by_type"):
        if doc[key]:
            label = key.replace("_", " ")
            yield render.table(label, (key.split("_")[-1], "count"), doc[key].items())


# show ---------------------------------------------------------------------------------------
def show_doc(st: MetadataStore, tid: TypedId) -> dict[str, Any]:
    """Everything ``store show`` prints about one node, as one JSON-able dict."""
    if tid.kind == "artifact":
        return _show_artifact(st, tid)
    if tid.kind == "execution":
        return _show_execution(st, tid)
    return _show_context(st, tid)


def not_found(tid: TypedId) -> NotFoundError:
    """The error for a typed id that is not in the store, with the command that lists ids."""
    return NotFoundError(
        f"{tid} does not exist in this store: list ids with `graphlets store ls {tid.kind}s`"
    )


def _show_artifact(st: MetadataStore, tid: TypedId) -> dict[str, Any]:
    found = st.get_artifacts_by_id([tid.id])
    if not found:
        raise not_found(tid)
    events = st.get_events_by_artifact_ids([tid.id])
    others = st.get_executions_by_id(sorted({int(e.execution_id or 0) for e in events}))
    side = {render.typed_id(n): _summary(n) for n in others}
    doc = render.artifact_to_dict(found[0])
    doc["events"] = [_event_with(ev, "execution", side) for ev in events]
    doc["contexts"] = [render.context_to_dict(c) for c in st.get_contexts_by_artifact(tid.id)]
    return doc


def _show_execution(st: MetadataStore, tid: TypedId) -> dict[str, Any]:
    found = st.get_executions_by_id([tid.id])
    if not found:
        raise not_found(tid)
    events = st.get_events_by_execution_ids([tid.id])
    others = st.get_artifacts_by_id(sorted({int(e.artifact_id or 0) for e in events}))
    side = {render.typed_id(n): _summary(n) for n in others}
    doc = render.execution_to_dict(found[0])
    doc["events"] = [_event_with(ev, "artifact", side) for ev in events]
    doc["contexts"] = [render.context_to_dict(c) for c in st.get_contexts_by_execution(tid.id)]
    return doc


def _show_context(st: MetadataStore, tid: TypedId) -> dict[str, Any]:
    found = st.get_contexts_by_id([tid.id])
    if not found:
        raise not_found(tid)
    doc = render.context_to_dict(found[0])
    doc["parents"] = [_summary(c) for c in st.get_parent_contexts_by_context(tid.id)]
    doc["children"] = [_summary(c) for c in st.get_children_contexts_by_context(tid.id)]
    members = ListOptions(limit=MEMBERS_SHOWN, filter_query=f"contexts_c.id = {tid.id}")
    for kind, lister in (("artifacts", st.list_artifacts), ("executions", st.list_executions)):
        nodes, token = lister(members)
        doc[kind] = [_summary(n) for n in nodes]
        doc[f"{kind}_next_page_token"] = token
    return doc


def _summary(node: render.Node) -> dict[str, Any]:
    return render.node_summary(node)


def _event_with(ev: Any, other: str, side: dict[str, dict[str, Any]]) -> dict[str, Any]:
    d = render.event_to_dict(ev)
    d["other"] = side.get(d[other], {"id": d[other], "type": None, "name": None, "state": None})
    return d


def show_renderables(doc: dict[str, Any]) -> Iterator[RenderableType]:
    """``store show`` for a terminal: fields, properties, events, contexts (or members)."""
    skip = {
        "properties",
        "custom_properties",
        "kind",
        "mlmd_id",
        "events",
        "contexts",
        "parents",
        "children",
        "artifacts",
        "executions",
    }
    fields = {k: v for k, v in doc.items() if k not in skip and not k.endswith("_token")}
    for key in ("create_time_since_epoch", "last_update_time_since_epoch"):
        if fields.get(key):
            fields[key] = f"{fields[key]} ({render.format_ms(fields[key])} UTC)"
    yield render.key_value_table(doc["id"], {k: v for k, v in fields.items() if v is not None})
    for key in ("properties", "custom_properties"):
        if doc[key]:
            yield render.key_value_table(key.replace("_", " "), doc[key], ("property", "value"))
    if "events" in doc:
        rows = (
            (
                e["type"],
                e["key"],
                e["other"]["id"],
                e["other"]["type"],
                e["other"]["name"],
                e["other"]["state"],
                render.format_ms(e["milliseconds_since_epoch"]),
            )
            for e in doc["events"]
        )
        cols = ("event", "key", "other side", "type", "name", "state", "time")
        yield render.table(f"{len(doc['events'])} events", cols, rows)
        yield _summaries("contexts", doc["contexts"])
        return
    for key in ("parents", "children", "artifacts", "executions"):
        if not doc[key] and key in ("parents", "children"):
            continue
        yield _summaries(key, doc[key])
        if doc.get(f"{key}_next_page_token"):
            yield (
                f"[dim]first {MEMBERS_SHOWN} shown; all: graphlets store ls {key} "
                f"--filter 'contexts_c.id = {doc['mlmd_id']}'[/]"
            )


def _summaries(title: str, items: list[dict[str, Any]]) -> RenderableType:
    rows = ((i["id"], i["type"], i["name"], i.get("state") or "") for i in items)
    return render.table(f"{len(items)} {title}", ("id", "type", "name", "state"), rows)
