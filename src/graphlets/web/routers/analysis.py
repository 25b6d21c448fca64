"""Graphlet and waste pages (graphlet segmentation from :mod:`graphlets.lineage`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import FileResponse

from graphlets.errors import NotFoundError
from graphlets.web import views
from graphlets.web.context import WebContext, get_ctx
from graphlets.web.pages import ERRORS, twin

router = APIRouter(tags=["graphlets"])


@twin(
    router,
    page="/graphlets/{graphlet_id}",
    api="/api/graphlets/{graphlet_id}",
    template="graphlet.html",
    summary="Graphlet",
)
def graphlet(
    graphlet_id: Annotated[
        int, Path(ge=1, le=2**31 - 1, description="The graphlet id: its anchor execution's id.")
    ],
    ctx: WebContext = Depends(get_ctx),
) -> dict[str, Any]:
    """One model graphlet: outcome, cost by category, waste, input spans, members as a graph."""
    return views.graphlet(ctx, graphlet_id)


@twin(router, page="/waste", api="/api/waste", template="waste.html", summary="Waste")
def waste(ctx: WebContext = Depends(get_ctx)) -> dict[str, Any]:
    """Store-wide waste by outcome, category and pipeline, and the optimizer's tradeoff curve."""
    return views.waste(ctx)


@router.get(
    "/api/waste/tradeoff.png",
    summary="Tradeoff curve image",
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}}}, **ERRORS},
)
def tradeoff_png(ctx: WebContext = Depends(get_ctx)) -> FileResponse:
    """The optimizer's tradeoff plot, when its replay wrote one."""
    folder = ctx.settings.reports_dir
    if folder is None or not (folder / "tradeoff.png").is_file():
        raise NotFoundError(
            "no tradeoff.png in the reports folder: run the optimizer's replay, or start the "
            "server with --reports pointing at its output"
        )
    return FileResponse(folder / "tradeoff.png", media_type="image/png")
