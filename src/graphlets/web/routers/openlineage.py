"""``POST /api/v1/lineage``: a Marquez-compatible OpenLineage receiver.

OpenLineage clients (openlineage-python's HTTP transport, Airflow, Spark, dbt) post run events to
``<url>/api/v1/lineage`` with ``Authorization: Bearer <api key>``; pointing them at this server
stores each event in the MLMD store as it arrives (:mod:`graphlets.interop.openlineage_receive`),
one transaction per event; a value the store could not read back is refused with a 422 naming its
JSON path (:mod:`graphlets.interop.openlineage_check`).

The token is checked by a dependency before this handler runs, and the handler reads the body
itself, so an unauthenticated caller learns nothing from the body's fate. Bodies are bounded
(``MAX_BODY`` bytes, gzip included, as the client's ``compression: gzip`` sends them).
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from graphlets.errors import InvalidArgumentError, TypeMismatchError
from graphlets.interop.openlineage_event import EVENT_TYPES
from graphlets.interop.openlineage_receive import receive_event
from graphlets.web.context import WebContext, get_ctx
from graphlets.web.pages import ErrorDetail
from graphlets.web.security import read_body, require_token

router = APIRouter(tags=["openlineage"])
MAX_BODY = 8 * 1024 * 1024

_DATASET = {
    "type": "object",
    "required": ["namespace", "name"],
    "properties": {
        "namespace": {"type": "string", "minLength": 1},
        "name": {"type": "string", "minLength": 1},
        "facets": {"type": "object", "additionalProperties": {"type": "object"}},
    },
}
_JOB = {
    "type": "object",
    "required": ["namespace", "name"],
    "properties": {
        "namespace": {"type": "string", "minLength": 1, "maxLength": 120},
        "name": {"type": "string", "minLength": 1, "maxLength": 120},
        "facets": {"type": "object", "additionalProperties": {"type": "object"}},
    },
}
RUN_EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "OpenLineage RunEvent",
    "required": ["eventTime", "run", "job"],
    "properties": {
        "eventType": {"type": "string", "enum": list(EVENT_TYPES)},
        "eventTime": {"type": "string", "format": "date-time"},
        "producer": {"type": "string"},
        "schemaURL": {"type": "string"},
        "run": {
            "type": "object",
            "required": ["runId"],
            "properties": {
                "runId": {"type": "string", "format": "uuid"},
                "facets": {"type": "object", "additionalProperties": {"type": "object"}},
            },
        },
        "job": _JOB,
        "inputs": {"type": "array", "items": _DATASET},
        "outputs": {"type": "array", "items": _DATASET},
    },
}


async def _read_body(request: Request) -> bytes:
    """The body, at most ``MAX_BODY`` bytes, gunzipped when sent with ``Content-Encoding: gzip``."""
    body = await read_body(request, MAX_BODY, "event body", "send one run event per request")
    if request.headers.get("content-encoding", "").lower() == "gzip":
        try:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            body = inflater.decompress(body, MAX_BODY + 1)
        except zlib.error as exc:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, f"body is not valid gzip: {exc}"
            ) from None
        if len(body) > MAX_BODY or inflater.unconsumed_tail:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE,
                f"event body inflates past {MAX_BODY} bytes: send one run event per request",
            )
    return body


@router.post(
    "/api/v1/lineage",
    summary="Receive an OpenLineage run event",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_token)],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": RUN_EVENT_SCHEMA}},
        }
    },
    responses={
        201: {"description": "Stored: the typed ids of the execution, artifacts and contexts."},
        400: {"model": ErrorDetail, "description": "The body is not JSON (or not gzip)."},
        401: {"model": ErrorDetail, "description": "No bearer token."},
        403: {"model": ErrorDetail, "description": "Wrong token, or writes disabled."},
        409: {"model": ErrorDetail, "description": "Lost to concurrent writers; send it again."},
        413: {"model": ErrorDetail, "description": "Body too large."},
        422: {
            "model": ErrorDetail,
            "description": "Not a valid run event, or a value the store could not read back "
            "(NaN, Infinity, nesting past 20 levels, lone surrogates, NUL); nothing stored.",
        },
        503: {"model": ErrorDetail, "description": "The store cannot be written right now."},
    },
)
async def post_lineage(request: Request, ctx: WebContext = Depends(get_ctx)) -> JSONResponse:
    """Store one OpenLineage run event as MLMD records, atomically (Marquez's endpoint).

    Needs ``Authorization: Bearer <GRAPHLETS_TOKEN>``. Returns the typed ids written.
    """
    body = await _read_body(request)
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"body is not JSON: {exc}; send one run event object"
        ) from None
    try:
        received = await run_in_threadpool(receive_event, ctx.store, doc)
    except (InvalidArgumentError, TypeMismatchError) as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"not a valid OpenLineage run event: {exc}"
        ) from None
    return JSONResponse(received.to_dict(), status_code=status.HTTP_201_CREATED)
