"""One view, two routes: the JSON API endpoint and the HTML page that renders the same document.

:func:`twin` registers a view function as ``GET /api/...`` (in the OpenAPI document) and, with the
same function as a dependency, as the HTML page: FastAPI resolves the page's path and query
parameters exactly as it does for the API, the view builds the document once, and the template
only lays it out. The page and its JSON twin can therefore never disagree.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from graphlets import __version__
from graphlets.model.serialize import json_value

DASH = "\u2013"  # shown for unknown numbers
F = TypeVar("F", bound=Callable[..., dict[str, Any]])


class ErrorDetail(BaseModel):
    """Every expected error: the one-line message that names the thing, the problem, the fix."""

    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorDetail, "description": "Invalid argument (bad id, page token, filter)."},
    404: {"model": ErrorDetail, "description": "No such record, pipeline or file."},
    503: {"model": ErrorDetail, "description": "The store cannot be used right now."},
}

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def format_ms(ms: Any) -> str:
    """Milliseconds since the epoch as ``YYYY-MM-DD HH:MM`` UTC; blank when unset."""
    if not ms:
        return ""
    return datetime.fromtimestamp(float(ms) / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")


def format_duration(ms: Any) -> str:
    """A duration in milliseconds as ``1h 02m``, ``3m 05s`` or ``4.2s``."""
    if ms is None:
        return ""
    secs = float(ms) / 1000
    if secs < 60:
        return f"{secs:.1f}s"
    if secs < 3600:
        return f"{int(secs // 60)}m {int(secs % 60):02d}s"
    return f"{int(secs // 3600)}h {int(secs % 3600 // 60):02d}m"


def format_pct(x: Any) -> str:
    """A fraction as a percentage; a dash when unknown."""
    return DASH if x is None else f"{100 * float(x):.1f}%"


def format_num(x: Any) -> str:
    """A number with thousands separators and at most one decimal."""
    if x is None:
        return DASH
    f = float(x)
    return f"{int(f):,}" if f.is_integer() else f"{f:,.1f}"


def format_value(v: Any) -> str:
    """A property value in one line (structs as compact JSON)."""
    return v if isinstance(v, str) else json.dumps(json_value(v), default=str)


TEMPLATES.env.filters.update(
    ms=format_ms, duration=format_duration, pct=format_pct, num=format_num, value=format_value
)
TEMPLATES.env.globals.update(version=__version__)


def render(request: Request, template: str, doc: dict[str, Any], status_code: int = 200) -> Any:
    """Render ``template`` with the view's document as ``doc``."""
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"doc": doc, "path": request.url.path, "query": request.url.query},
        status_code=status_code,
    )


def twin(
    router: APIRouter, *, page: str, api: str, template: str, summary: str
) -> Callable[[F], F]:
    """Register ``fn`` as ``GET api`` (JSON, documented) and ``GET page`` (HTML, same document)."""

    def deco(fn: F) -> F:
        def api_route(doc: dict[str, Any] = Depends(fn)) -> Any:
            return json_value(doc)

        api_route.__doc__ = fn.__doc__
        router.add_api_route(
            api,
            api_route,
            methods=["GET"],
            summary=summary,
            description=fn.__doc__ or summary,
            response_model=dict[str, Any],
            responses=ERRORS,
            name=f"api_{fn.__name__}",
        )

        def html_route(request: Request, doc: dict[str, Any] = Depends(fn)) -> Any:
            return render(request, template, json_value(doc))

        router.add_api_route(
            page,
            html_route,
            methods=["GET"],
            include_in_schema=False,
            response_class=HTMLResponse,
            name=f"page_{fn.__name__}",
        )
        return fn

    return deco
