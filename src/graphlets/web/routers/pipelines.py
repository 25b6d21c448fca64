"""Overview, pipeline and run pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from graphlets.web import views
from graphlets.web.context import WebContext, get_ctx
from graphlets.web.pages import twin
from graphlets.web.paging import DEFAULT_LIMIT, MAX_LIMIT

router = APIRouter(tags=["pipelines"])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")]
Token = Annotated[
    str | None, Query(max_length=400, description="next_page_token of the previous page.")
]


@twin(router, page="/", api="/api/pipelines", template="overview.html", summary="Pipelines")
def pipelines(
    ctx: WebContext = Depends(get_ctx), limit: Limit = DEFAULT_LIMIT, page_token: Token = None
) -> dict[str, Any]:
    """Pipelines with their runs, executions by state, models trained and pushed, push rate and
    waste (paginated by pipeline)."""
    return views.overview(ctx, limit=limit, page_token=page_token)


@twin(
    router,
    page="/pipelines/{name:path}",
    api="/api/pipelines/{name:path}",
    template="pipeline.html",
    summary="Pipeline",
)
def pipeline(
    name: Annotated[str, Path(max_length=255, description="The pipeline context's name.")],
    ctx: WebContext = Depends(get_ctx),
    limit: Limit = 100,
    page_token: Token = None,
) -> dict[str, Any]:
    """One pipeline: a page of runs (newest first) with their graphlets coloured by outcome, laid
    out as a timeline."""
    return views.pipeline(ctx, name, limit=limit, page_token=page_token)


@twin(router, page="/runs/{run_id}", api="/api/runs/{run_id}", template="run.html", summary="Run")
def run(
    run_id: Annotated[int, Path(ge=1, le=2**31 - 1, description="The run context's id.")],
    ctx: WebContext = Depends(get_ctx),
) -> dict[str, Any]:
    """One run (any context): its executions and the artifacts they read and wrote, as a DAG."""
    return views.run(ctx, run_id)
