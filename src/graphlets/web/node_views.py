"""The record-level views: artifact, execution and context details, lists, the lineage explorer, and
the payload download.

Like :mod:`graphlets.web.views`, each function returns one JSON-able document that both the page
and its ``/api`` twin render. Everything that can be large is a page (events, members, lists) or
bounded (the lineage neighbourhood), so no request loads a whole big graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from graphlets.errors import InvalidArgumentError, NotFoundError
from graphlets.model import Artifact, Context, Execution, TypedId, parse_id
from graphlets.model.serialize import (
    artifact_to_dict,
    context_to_dict,
    event_to_dict,
    execution_to_dict,
    node_summary,
    typed_id,
)
from graphlets.store import Direction, ListOptions, OrderBy
from graphlets.store.blobs import BlobStore, check_digest
from graphlets.store.browse import events_page, neighbourhood
from graphlets.web.context import WebContext
from graphlets.web.graphs import graph_items
from graphlets.web.paging import decode_token, encode_token

CONTEXT_SEEDS = 25
LINKS_SHOWN = 100
ListKind = Literal["artifacts", "executions", "contexts"]


# details ------------------------------------------------------------------------------------
def artifact(
    ctx: WebContext, artifact_id: int, *, limit: int, page_token: str | None
) -> dict[str, Any]:
    """An artifact: fields, properties, a page of its events, its contexts, its payload."""
    st = ctx.store
    found = st.get_artifacts_by_id([artifact_id])
    if not found:
        raise _missing(TypedId("artifact", artifact_id))
    a = found[0]
    doc = artifact_to_dict(a)
    doc.update(_events(ctx, "artifact", artifact_id, limit, page_token))
    doc["contexts"] = [
        _ctx_summary(c) for c in st.get_contexts_by_artifact(artifact_id)[:LINKS_SHOWN]
    ]
    doc["payload"] = payload_info(ctx, a)
    doc["lineage_url"] = f"/lineage?start=artifact:{artifact_id}"
    return doc


def execution(
    ctx: WebContext, execution_id: int, *, limit: int, page_token: str | None
) -> dict[str, Any]:
    """An execution: fields, properties, a page of its events (inputs and outputs), contexts."""
    st = ctx.store
    found = st.get_executions_by_id([execution_id])
    if not found:
        raise _missing(TypedId("execution", execution_id))
    doc = execution_to_dict(found[0])
    doc.update(_events(ctx, "execution", execution_id, limit, page_token))
    doc["contexts"] = [
        _ctx_summary(c) for c in st.get_contexts_by_execution(execution_id)[:LINKS_SHOWN]
    ]
    doc["lineage_url"] = f"/lineage?start=execution:{execution_id}"
    return doc


def context(
    ctx: WebContext, context_id: int, *, limit: int, page_token: str | None
) -> dict[str, Any]:
    """A context: fields, parents, children, and a page of its executions (newest first)."""
    st = ctx.store
    found = st.get_contexts_by_id([context_id])
    if not found:
        raise _missing(TypedId("context", context_id))
    c = found[0]
    doc = context_to_dict(c)
    doc["parents"] = [_ctx_summary(p) for p in st.get_parent_contexts_by_context(context_id)]
    doc["children"] = [
        _ctx_summary(p) for p in st.get_children_contexts_by_context(context_id)[:LINKS_SHOWN]
    ]
    opts = ListOptions(
        limit=limit,
        is_asc=False,
        filter_query=f"contexts_m.id = {int(context_id)}",
        next_page_token=page_token or None,
    )
    execs, token = st.list_executions(opts)
    doc["executions"] = [_summary(e) for e in execs]
    doc["next_page_token"] = token
    doc["lineage_url"] = f"/lineage?start=context:{context_id}"
    doc["run_url"] = f"/runs/{context_id}"
    if c.type == ctx.settings.pipeline_types.pipeline:
        doc["pipeline_url"] = f"/pipelines/{c.name}"
    return doc


def _events(
    ctx: WebContext, kind: str, node_id: int, limit: int, page_token: str | None
) -> dict[str, Any]:
    after = decode_token(f"{kind}-events", page_token)
    events, last = events_page(ctx.store, f"{kind}_id", node_id, limit=limit, after_id=after)
    other = "execution" if kind == "artifact" else "artifact"
    ids = sorted({int(getattr(ev, f"{other}_id") or 0) for ev in events})
    st = ctx.store
    found = st.get_executions_by_id(ids) if other == "execution" else st.get_artifacts_by_id(ids)
    side = {typed_id(n): _summary(n) for n in found}
    items = []
    for ev in events:
        d = event_to_dict(ev)
        d["other"] = side.get(d[other], {"id": d[other]})
        items.append(d)
    return {
        "events": items,
        "events_next_page_token": encode_token(f"{kind}-events", last) if last else None,
    }


def _summary(node: Artifact | Execution | Context) -> dict[str, Any]:
    kind = typed_id(node).split(":")[0]
    return node_summary(node) | {"url": f"/{kind}s/{node.id}"}


def _ctx_summary(c: Context) -> dict[str, Any]:
    return _summary(c)


def _missing(tid: TypedId) -> NotFoundError:
    return NotFoundError(
        f"{tid} does not exist in this store: find ids on /{tid.kind}s or with "
        f"`graphlets store ls {tid.kind}s`"
    )


# lists --------------------------------------------------------------------------------------
def node_list(
    ctx: WebContext,
    kind: ListKind,
    *,
    type_name: str | None,
    filter_query: str | None,
    limit: int,
    newest_first: bool,
    page_token: str | None,
) -> dict[str, Any]:
    """A page of artifacts, executions or contexts, optionally of one type or matching an MLMD
    ``filter_query``."""
    parts = [f"({filter_query})"] if filter_query else []
    if type_name:
        parts.append(f"type = {_quote(type_name)}")
    opts = ListOptions(
        limit=limit,
        order_by=OrderBy.ID,
        is_asc=not newest_first,
        filter_query=" AND ".join(parts) or None,
        next_page_token=page_token or None,
    )
    st = ctx.store
    nodes: Sequence[Artifact | Execution | Context]
    if kind == "artifacts":
        nodes, token = st.list_artifacts(opts)
    elif kind == "executions":
        nodes, token = st.list_executions(opts)
    else:
        nodes, token = st.list_contexts(opts)
    return {
        "kind": kind,
        "type": type_name,
        "filter": filter_query,
        "items": [_summary(n) for n in nodes],
        "next_page_token": token,
    }


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


# lineage ------------------------------------------------------------------------------------
def lineage(
    ctx: WebContext,
    start: str,
    *,
    hops: int,
    direction: str,
    per_node: int,
    max_nodes: int,
) -> dict[str, Any]:
    """The bounded N-hop neighbourhood of an artifact, execution or context.

    A context starts from its newest executions. Each node lists how many of its edges are not
    shown (``more``), which the explorer offers to expand with one more request.
    """
    tid = parse_id(start)
    try:
        way = Direction(direction)
    except ValueError:
        raise InvalidArgumentError(
            f"direction {direction!r} is not known: use up, down or both"
        ) from None
    arts, execs = _seeds(ctx, tid)
    hood = neighbourhood(
        ctx.store,
        arts,
        execs,
        max_hops=hops,
        direction=way,
        per_node=per_node,
        max_nodes=max_nodes,
    )
    nodes: list[Artifact | Execution] = [*hood.artifacts, *hood.executions]
    graph = graph_items(nodes, hood.events, hood.degree, way.value)
    return {
        "start": str(tid),
        "hops": hops,
        "direction": way.value,
        "per_node": per_node,
        "max_nodes": max_nodes,
        "truncated": hood.truncated,
        **graph,
    }


def _seeds(ctx: WebContext, tid: TypedId) -> tuple[list[int], list[int]]:
    st = ctx.store
    if tid.kind == "artifact":
        if not st.get_artifacts_by_id([tid.id]):
            raise _missing(tid)
        return [tid.id], []
    if tid.kind == "execution":
        if not st.get_executions_by_id([tid.id]):
            raise _missing(tid)
        return [], [tid.id]
    if not st.get_contexts_by_id([tid.id]):
        raise _missing(tid)
    opts = ListOptions(limit=CONTEXT_SEEDS, is_asc=False, filter_query=f"contexts_s.id = {tid.id}")
    return [], [int(e.id or 0) for e in st.get_executions(opts)]


# payload ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Payload:
    """Where an artifact's payload is, inside the blob store."""

    blobs: BlobStore
    sha256: str
    filename: str


def _digest(a: Artifact) -> str | None:
    value = a.custom_properties.get("content_sha256", a.properties.get("content_sha256"))
    if not isinstance(value, str):
        return None
    try:
        return check_digest(value)
    except InvalidArgumentError:
        return None


def payload_info(ctx: WebContext, a: Artifact) -> dict[str, Any]:
    """Whether the artifact's payload can be downloaded, and from where."""
    digest = _digest(a)
    url = ctx.settings.blob_url
    available = False
    if digest and url:
        try:
            available = BlobStore(url).exists(digest)
        except (OSError, ValueError):
            available = False
    return {
        "available": available,
        "sha256": digest,
        "url": f"/api/artifacts/{a.id}/payload" if available else None,
    }


def payload(ctx: WebContext, artifact_id: int) -> Payload:
    """The blob behind an artifact, found by the digest it records, never by its uri.

    The artifact's ``content_sha256`` is checked to be 64 hex digits before a path is built, and the
    path is the blob store's ``ROOT/xx/<digest>``; nothing a user or a foreign tool wrote in the
    store can point the download outside the blob store.
    """
    found = ctx.store.get_artifacts_by_id([artifact_id])
    if not found:
        raise _missing(TypedId("artifact", artifact_id))
    digest = _digest(found[0])
    url = ctx.settings.blob_url
    if digest is None or url is None:
        raise NotFoundError(
            f"artifact:{artifact_id} has no payload in the blob store: only artifacts written by "
            "graphlets' runner (with a content_sha256) can be downloaded"
        )
    blobs = BlobStore(url)
    if not blobs.exists(digest):
        raise NotFoundError(
            f"artifact:{artifact_id}'s payload {digest[:12]} is not in the blob store {url}: start "
            "the server with --blobs pointing at the runner's blob store"
        )
    return Payload(blobs, digest, f"artifact-{artifact_id}-{digest[:12]}.bin")
