"""The N-hop lineage explorer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from graphlets.store.browse import MAX_HOPS, MAX_NODES, MAX_PER_NODE
from graphlets.web import node_views
from graphlets.web.context import WebContext, get_ctx
from graphlets.web.pages import twin

router = APIRouter(tags=["lineage"])


@twin(router, page="/lineage", api="/api/lineage", template="lineage.html", summary="Lineage")
def lineage(
    start: Annotated[
        str,
        Query(
            max_length=40,
            description="Where to start: artifact:ID, execution:ID or context:ID.",
            examples=["artifact:1"],
        ),
    ],
    ctx: WebContext = Depends(get_ctx),
    hops: Annotated[int, Query(ge=0, le=MAX_HOPS, description="Event edges to walk.")] = 2,
    direction: Annotated[
        Literal["up", "down", "both"], Query(description="Upstream, downstream or both.")
    ] = "both",
    per_node: Annotated[
        int, Query(ge=1, le=MAX_PER_NODE, description="Newest edges followed per node and hop.")
    ] = 25,
    max_nodes: Annotated[
        int, Query(ge=1, le=MAX_NODES, description="Node budget of the whole answer.")
    ] = 300,
) -> dict[str, Any]:
    """The bounded neighbourhood of a node: nodes, edges (in the direction data flowed) and, per
    node, how many of its edges are not shown yet (``more``), to expand on demand."""
    return node_views.lineage(
        ctx, start, hops=hops, direction=direction, per_node=per_node, max_nodes=max_nodes
    )
