"""The FastAPI application: HTML pages and their JSON twins over one MLMD store.

``create_app(store_url, token)`` opens the store (reading never writes), wires the routers, and
returns an ASGI app; ``graphlets ui`` serves it with uvicorn on 127.0.0.1 unless told otherwise.
Expected errors (:mod:`graphlets.errors`) become HTTP statuses with their one-line message: JSON
``{"detail": ...}`` under ``/api``, an error page elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from graphlets import __version__
from graphlets.errors import (
    AlreadyExistsError,
    ConflictError,
    ExecutorError,
    GraphletsError,
    InvalidArgumentError,
    NotFoundError,
    StoreError,
    TypeMismatchError,
)
from graphlets.lineage import GraphletConfig
from graphlets.store import MetadataStore
from graphlets.store.blobs import default_blob_url
from graphlets.store.engine import DRIVER_ERRORS, map_db_error
from graphlets.web.context import GraphletCache, Settings, WebContext
from graphlets.web.pages import render
from graphlets.web.routers import analysis, lineage, nodes, openlineage, pipelines, registry
from graphlets.web.security import SecurityHeaders

STATIC = Path(__file__).parent / "static"
STATUS: tuple[tuple[type[GraphletsError], int], ...] = (
    (NotFoundError, 404),
    (InvalidArgumentError, 400),
    (AlreadyExistsError, 409),
    (ConflictError, 409),
    (TypeMismatchError, 422),
    (StoreError, 503),
    (ExecutorError, 503),
)


def create_app(
    store_url: str | None,
    token: str | None = None,
    *,
    blob_url: str | None = None,
    reports_dir: str | os.PathLike[str] | None = None,
    graphlets: GraphletConfig | None = None,
    allowed_hosts: list[str] | None = None,
) -> FastAPI:
    """The web UI and JSON API over the store at ``store_url``.

    Args:
        store_url: the MLMD store (``sqlite:///...``, ``postgresql://...``); must exist.
        token: the bearer token writes need (``GRAPHLETS_TOKEN``); None makes the server
            read-only.
        blob_url: the runner's blob store for payload downloads (default: beside the store).
        reports_dir: where the optimizer writes ``tradeoff.json``/``tradeoff.png`` (default:
            ``reports/`` beside a SQLite store file).
        graphlets: the graphlet definition for graphlet and waste pages (DESIGN.md's default).
        allowed_hosts: ``Host`` headers to accept (DNS-rebinding protection); None accepts any.
    """
    store = MetadataStore(store_url)
    settings = Settings(
        token=token or None,
        blob_url=blob_url or default_blob_url(store.url.text),
        reports_dir=_reports_dir(store, reports_dir),
        graphlets=graphlets or GraphletConfig(),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(
        lifespan=lifespan,
        title="graphlets",
        version=__version__,
        description="Provenance, pipelines, model graphlets and waste of one MLMD store. Every "
        "HTML page has a JSON twin under /api; writes need `Authorization: Bearer <token>`.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.ctx = WebContext(store, settings, GraphletCache(store, settings.graphlets))
    for module in (pipelines, nodes, lineage, analysis, registry, openlineage):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _install_error_handlers(app, store)
    app.add_middleware(SecurityHeaders)
    if allowed_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)
    return app


def app_from_env() -> FastAPI:
    """The app configured from the environment, for ``graphlets ui`` and for
    ``uvicorn --factory graphlets.web.app:app_from_env``.

    Reads ``GRAPHLETS_STORE``, ``GRAPHLETS_TOKEN``, ``GRAPHLETS_BLOBS``, ``GRAPHLETS_REPORTS`` and
    ``GRAPHLETS_ALLOWED_HOSTS`` (comma-separated ``Host`` names; ``*`` or unset accepts any).
    """
    hosts = [h for h in os.environ.get("GRAPHLETS_ALLOWED_HOSTS", "*").split(",") if h]
    return create_app(
        os.environ.get("GRAPHLETS_STORE"),
        os.environ.get("GRAPHLETS_TOKEN"),
        blob_url=os.environ.get("GRAPHLETS_BLOBS"),
        reports_dir=os.environ.get("GRAPHLETS_REPORTS"),
        allowed_hosts=None if "*" in hosts else hosts,
    )


def _reports_dir(store: MetadataStore, given: str | os.PathLike[str] | None) -> Path | None:
    if given is not None:
        return Path(given)
    if store.url.path is not None:
        return store.url.path.parent / "reports"
    return None


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def _error(request: Request, status_code: int, message: str, headers: Any = None) -> Any:
    if _is_api(request):
        return JSONResponse({"detail": message}, status_code=status_code, headers=headers)
    doc = {"status": status_code, "message": message}
    return render(request, "error.html", doc, status_code=status_code)


def _install_error_handlers(app: FastAPI, store: MetadataStore) -> None:
    async def graphlets_error(request: Request, exc: Exception) -> Any:
        code = next((c for cls, c in STATUS if isinstance(exc, cls)), 500)
        return _error(request, code, str(exc))

    async def db_error(request: Request, exc: Exception) -> Any:
        # a driver error outside the store's engine mapping (a reader with its own connection)
        orig = getattr(exc, "orig", None) or exc
        mapped = map_db_error(store.url, orig)
        if mapped is None:
            return _error(request, 500, "internal error: see the server log")
        return await graphlets_error(request, mapped)

    async def http_error(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, StarletteHTTPException)
        return _error(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    async def validation_error(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, RequestValidationError)
        if _is_api(request):
            return JSONResponse({"detail": _plain(exc.errors())}, status_code=422)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg')}"
            for e in exc.errors()
        )
        return _error(request, 422, problems or "invalid request")

    app.add_exception_handler(GraphletsError, graphlets_error)
    for driver_error in DRIVER_ERRORS:
        app.add_exception_handler(driver_error, db_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)


def _plain(errors: Any) -> Any:
    """Validation errors with their ``ctx``/``input`` reduced to JSON-safe values."""
    out = []
    for e in errors:
        item = {k: v for k, v in e.items() if k in ("type", "loc", "msg")}
        out.append(item)
    return out
