"""Artifact, execution and context pages, lists of each, and the payload download."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import StreamingResponse

from graphlets.web import node_views
from graphlets.web.context import WebContext, get_ctx
from graphlets.web.pages import ERRORS, twin
from graphlets.web.paging import DEFAULT_LIMIT, MAX_LIMIT

router = APIRouter(tags=["records"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1, description="The MLMD id in this table.")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")]
Token = Annotated[
    str | None, Query(max_length=400, description="next_page_token of the previous page.")
]
TypeName = Annotated[str | None, Query(max_length=255, description="Only records of this type.")]
Filter = Annotated[
    str | None,
    Query(max_length=2000, description="An MLMD filter_query (graphlets' documented subset)."),
]
Newest = Annotated[bool, Query(description="Newest first.")]
CHUNK = 1 << 16


def _list_view(kind: node_views.ListKind, summary: str, doc: str) -> Callable[..., dict[str, Any]]:
    """Register the list page and its JSON twin for ``kind``; the three lists differ only there."""

    def view(
        ctx: WebContext = Depends(get_ctx),
        type: TypeName = None,
        filter: Filter = None,
        limit: Limit = DEFAULT_LIMIT,
        newest_first: Newest = True,
        page_token: Token = None,
    ) -> dict[str, Any]:
        return node_views.node_list(
            ctx,
            kind,
            type_name=type,
            filter_query=filter,
            limit=limit,
            newest_first=newest_first,
            page_token=page_token,
        )

    # twin() names the routes after the function and documents them with its docstring.
    view.__name__ = view.__qualname__ = kind
    view.__doc__ = doc
    return twin(router, page=f"/{kind}", api=f"/api/{kind}", template="list.html", summary=summary)(
        view
    )


artifacts = _list_view(
    "artifacts",
    "Artifacts",
    "A page of artifacts, optionally of one type or matching a filter query.",
)
executions = _list_view(
    "executions",
    "Executions",
    "A page of executions, optionally of one type or matching a filter query.",
)
contexts = _list_view(
    "contexts",
    "Contexts",
    "A page of contexts (pipelines, runs, nodes), optionally of one type.",
)


@twin(
    router,
    page="/artifacts/{artifact_id}",
    api="/api/artifacts/{artifact_id}",
    template="artifact.html",
    summary="Artifact",
)
def artifact(
    artifact_id: Id,
    ctx: WebContext = Depends(get_ctx),
    limit: Limit = DEFAULT_LIMIT,
    page_token: Token = None,
) -> dict[str, Any]:
    """An artifact: properties, a page of events, contexts, and whether its payload downloads."""
    return node_views.artifact(ctx, artifact_id, limit=limit, page_token=page_token)


@twin(
    router,
    page="/executions/{execution_id}",
    api="/api/executions/{execution_id}",
    template="execution.html",
    summary="Execution",
)
def execution(
    execution_id: Id,
    ctx: WebContext = Depends(get_ctx),
    limit: Limit = DEFAULT_LIMIT,
    page_token: Token = None,
) -> dict[str, Any]:
    """An execution: properties, a page of its input and output events, contexts."""
    return node_views.execution(ctx, execution_id, limit=limit, page_token=page_token)


@twin(
    router,
    page="/contexts/{context_id}",
    api="/api/contexts/{context_id}",
    template="context.html",
    summary="Context",
)
def context(
    context_id: Id,
    ctx: WebContext = Depends(get_ctx),
    limit: Limit = DEFAULT_LIMIT,
    page_token: Token = None,
) -> dict[str, Any]:
    """A context: properties, parents, children and a page of its executions."""
    return node_views.context(ctx, context_id, limit=limit, page_token=page_token)


@router.get(
    "/api/artifacts/{artifact_id}/payload",
    summary="Artifact payload",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, **ERRORS},
)
def artifact_payload(artifact_id: Id, ctx: WebContext = Depends(get_ctx)) -> StreamingResponse:
    """Download an artifact's payload from the content-addressed blob store, by the digest the
    artifact records; the artifact's uri is never opened."""
    found = node_views.payload(ctx, artifact_id)
    fh = found.blobs.open(found.sha256)

    def chunks() -> Any:
        with fh:
            while block := fh.read(CHUNK):
                yield block

    return StreamingResponse(
        chunks(),
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{found.filename}"',
            "X-Content-SHA256": found.sha256,
        },
    )
