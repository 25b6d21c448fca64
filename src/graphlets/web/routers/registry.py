"""The model registry: pages and JSON twins to read it, and the three writes (promote, rollback,
alias).

Writes need ``Authorization: Bearer <GRAPHLETS_TOKEN>``
(:func:`graphlets.web.security.require_token`, a route dependency). The handlers declare no body
parameter and read the body themselves, after the dependency ran, so a caller without the token
gets 401/403 whatever the body holds, and a body is never parsed for someone who may not write. A
bad body is a 422 (400 when it is not JSON) whose one line names the field and the fix; a registry
refusal (unknown model or version, nothing to roll back to) is a 404 or 400 with the registry's
own message, and a rollback whose ``from_version`` another writer already moved out of production
is a 409; either way nothing is written. Concurrent writes to one model take turns (the
registry's per-model lock), so none of them works on a stale read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from graphlets.model.serialize import json_value
from graphlets.registry import STAGES
from graphlets.web import registry_views as rv
from graphlets.web.context import WebContext, get_ctx
from graphlets.web.pages import ErrorDetail, twin
from graphlets.web.paging import DEFAULT_LIMIT, MAX_LIMIT
from graphlets.web.security import read_body, require_token

router = APIRouter(tags=["registry"])
MAX_BODY = 64 * 1024
Stage = Literal["staging", "shadow", "canary", "production", "archived"]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")]
Token = Annotated[
    str | None, Query(max_length=400, description="next_page_token of the previous page.")
]
ModelName = Annotated[str, Path(max_length=255, description="The registered model's name.")]
Number = Annotated[int, Path(ge=1, le=2**31 - 1, description="The version number.")]
OneLine = r"^[^\x00-\x1f\x7f]*$"
F = TypeVar("F", bound=Callable[..., Any])


# reads --------------------------------------------------------------------------------------
@twin(router, page="/registry", api="/api/registry", template="registry.html", summary="Registry")
def registry(
    ctx: WebContext = Depends(get_ctx), limit: Limit = DEFAULT_LIMIT, page_token: Token = None
) -> dict[str, Any]:
    """Registered models (paginated): live versions with their stages and aliases, the fallback,
    and the newest entries of each model's audit trail (who, when, why)."""
    return rv.registry(ctx, limit=limit, page_token=page_token)


@twin(
    router,
    page="/registry/{model}",
    api="/api/registry/{model}",
    template="registry_model.html",
    summary="Registered model",
)
def model(
    model: ModelName,
    ctx: WebContext = Depends(get_ctx),
    limit: Limit = DEFAULT_LIMIT,
    page_token: Token = None,
    history_limit: Limit = DEFAULT_LIMIT,
    history_page_token: Token = None,
) -> dict[str, Any]:
    """One model: who holds each stage and alias, the fallback, a page of versions (newest first,
    ``page_token``) and a page of its audit trail (newest first, ``history_page_token``)."""
    return rv.model(
        ctx,
        model,
        limit=limit,
        page_token=page_token,
        history_limit=history_limit,
        history_page_token=history_page_token,
    )


@twin(
    router,
    page="/registry/{model}/versions/{version}",
    api="/api/registry/{model}/versions/{version}",
    template="registry_version.html",
    summary="Model version",
)
def version(
    model: ModelName,
    version: Number,
    ctx: WebContext = Depends(get_ctx),
    limit: Limit = DEFAULT_LIMIT,
    page_token: Token = None,
) -> dict[str, Any]:
    """One version: stage, aliases, tags, signature, metrics, the Model artifact it points at and
    the link to that model's lineage, and a page of the changes that touched it (oldest first)."""
    return rv.version(ctx, model, version, limit=limit, page_token=page_token)


# write bodies -------------------------------------------------------------------------------
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        "", max_length=500, pattern=OneLine, description="Why: kept in the audit trail."
    )
    who: str = Field(
        "",
        max_length=100,
        pattern=OneLine,
        description="Who asks (recorded as web:<who>; the token grants the write, not a name).",
    )


class PromoteBody(_Body):
    """Move a version to a stage (production by default)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {"version": 3, "stage": "production", "reason": "canary +1%"}
        },
    )
    version: int = Field(strict=True, ge=1, le=2**31 - 1, description="The version to move.")
    stage: Stage = Field("production", description="The stage to move it to.")


class RollbackBody(_Body):
    """Put the fallback back in production (the body may be empty)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"example": {"reason": "alert auc_low", "from_version": 3}},
    )
    from_version: int | None = Field(
        None,
        strict=True,
        ge=1,
        le=2**31 - 1,
        description="Roll back only if this version is still in production (409 otherwise).",
    )


class AliasBody(_Body):
    """Point an alias at a version."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"example": {"alias": "champion", "version": 3}}
    )
    alias: str = Field(
        max_length=100,
        pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$",
        description="The alias (not a stage name: NAME@<stage> reads the stage).",
    )
    version: int = Field(strict=True, ge=1, le=2**31 - 1, description="The version it names.")


FIXES = {
    "version": 'send the version number as a JSON integer, e.g. "version": 3',
    "from_version": 'send the version number as a JSON integer, e.g. "from_version": 3',
    "stage": "use one of staging, shadow, canary, production, archived",
    "reason": "send one line of text, at most 500 characters",
    "who": "send one line of text, at most 100 characters",
    "alias": "start with a letter, then letters, digits, '_' or '-' (at most 100), e.g. champion",
}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Done: a message, the version as it is now, and the model's summary."},
    400: {"model": ErrorDetail, "description": "Body not JSON, or the registry refused."},
    401: {"model": ErrorDetail, "description": "No bearer token."},
    403: {"model": ErrorDetail, "description": "Wrong token, or writes disabled."},
    404: {"model": ErrorDetail, "description": "No such model or version."},
    409: {"model": ErrorDetail, "description": "Another writer changed the state first."},
    413: {"model": ErrorDetail, "description": "Body too large."},
    422: {"model": ErrorDetail, "description": "A field is missing or invalid; nothing written."},
    503: {"model": ErrorDetail, "description": "The store cannot be written right now."},
}


def _write_route(path: str, summary: str, body: type[_Body], required: bool) -> Callable[[F], F]:
    return router.post(
        path,
        summary=summary,
        dependencies=[Depends(require_token)],
        response_model=None,
        responses=WRITE_RESPONSES,
        openapi_extra={
            "requestBody": {
                "required": required,
                "content": {"application/json": {"schema": body.model_json_schema()}},
            }
        },
    )


async def parse_body(request: Request, body: type[_Body], empty_ok: bool = False) -> Any:
    """The body validated as ``body``; a 400/422 whose one line names the field and the fix."""
    raw = await read_body(request, MAX_BODY, "request body", "send only the documented fields")
    if not raw.strip() and empty_ok:
        return body.model_validate({})
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"the body is not JSON: send a JSON object such as {_example(body)}",
        ) from None
    try:
        return body.model_validate(doc)
    except ValidationError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, _problem(exc, body)) from None


def _example(body: type[_Body]) -> str:
    extra = body.model_config.get("json_schema_extra")
    return json.dumps(extra["example"]) if isinstance(extra, dict) else "{}"


def _problem(exc: ValidationError, body: type[_Body]) -> str:
    """The first problem of a validation error, in one line: field, what is wrong, the fix."""
    errors = exc.errors()
    first = errors[0]
    loc = ".".join(str(p) for p in first["loc"])
    field = str(first["loc"][0]) if first["loc"] else ""
    more = f" ({len(errors) - 1} more problem(s) after this one)" if len(errors) > 1 else ""
    if not loc:
        return f"the body must be a JSON object: send e.g. {_example(body)}"
    if first["type"] == "extra_forbidden":
        fields = ", ".join(body.model_fields)
        return f"field {loc!r} is not accepted: send only {fields}{more}"
    problem = "is missing" if first["type"] == "missing" else f"is invalid ({first['msg']})"
    fix = FIXES.get(field, f"see the example {_example(body)}")
    return f"field {loc!r} {problem}: {fix}{more}"


def _answer(doc: dict[str, Any]) -> JSONResponse:
    return JSONResponse(json_value(doc))


# writes -------------------------------------------------------------------------------------
@_write_route("/api/registry/{model}/promote", "Promote a version", PromoteBody, True)
async def post_promote(
    model: str, request: Request, ctx: WebContext = Depends(get_ctx)
) -> JSONResponse:
    """Move a version to a stage (``production`` by default): the stage's previous version is
    archived, and a replaced production version becomes the ``fallback``. Recorded in the audit
    trail. Needs ``Authorization: Bearer <GRAPHLETS_TOKEN>``."""
    b: PromoteBody = await parse_body(request, PromoteBody)
    doc = await run_in_threadpool(
        rv.promote, ctx, model, b.version, b.stage, why=b.reason, who=b.who
    )
    return _answer(doc)


@_write_route("/api/registry/{model}/rollback", "Roll back to the fallback", RollbackBody, False)
async def post_rollback(
    model: str, request: Request, ctx: WebContext = Depends(get_ctx)
) -> JSONResponse:
    """Archive the production version and put the ``fallback`` version back in production.
    Recorded in the audit trail. Needs ``Authorization: Bearer <GRAPHLETS_TOKEN>``."""
    b: RollbackBody = await parse_body(request, RollbackBody, empty_ok=True)
    doc = await run_in_threadpool(
        rv.rollback, ctx, model, why=b.reason, who=b.who, from_version=b.from_version
    )
    return _answer(doc)


@_write_route("/api/registry/{model}/alias", "Set an alias", AliasBody, True)
async def post_alias(
    model: str, request: Request, ctx: WebContext = Depends(get_ctx)
) -> JSONResponse:
    """Point an alias (e.g. ``champion``) at a version, moving it off any other; load it as
    ``NAME@ALIAS``. Recorded in the audit trail. Needs ``Authorization: Bearer
    <GRAPHLETS_TOKEN>``."""
    b: AliasBody = await parse_body(request, AliasBody)
    if b.alias.lower() in STAGES:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"field 'alias' is invalid ({b.alias!r} is a stage name, so {model}@{b.alias} would "
            "read the stage): choose another alias, e.g. champion",
        )
    doc = await run_in_threadpool(
        rv.set_alias, ctx, model, b.alias, b.version, why=b.reason, who=b.who
    )
    return _answer(doc)
