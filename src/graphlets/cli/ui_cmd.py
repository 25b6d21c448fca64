"""``graphlets ui``: serve the web UI and JSON API over a store.

It binds 127.0.0.1 unless ``--host`` says otherwise, and then only accepts requests addressed to
that host (DNS-rebinding protection). Writes (OpenLineage ingest, registry changes) need the token
in ``GRAPHLETS_TOKEN``; without it the server is read-only.

``cli`` and ``web`` are sibling adapters that never import each other (DESIGN.md's layers), so the
command hands uvicorn the app factory by name (:data:`APP_FACTORY`) and its settings through the
environment variables the factory reads; the store is opened here first, so a wrong ``--store``
fails with the usual one-line error instead of a server traceback.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated

import typer

from graphlets.cli.common import JsonOpt, StoreOpt, emit_json, err, handle_errors
from graphlets.store import MetadataStore

app = typer.Typer(help="Serve the web UI.")
APP_FACTORY = "graphlets.web.app:app_from_env"
LOOPBACK_NAMES = ["127.0.0.1", "localhost"]


def allowed_hosts(host: str) -> list[str] | None:
    """``Host`` headers to accept: loopback names for a loopback bind, else any (None).

    IPv6 binds accept any: Starlette's host check cannot parse bracketed ``[::1]:port`` headers.
    """
    if ":" in host:
        return None
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    return list(dict.fromkeys([*LOOPBACK_NAMES, host])) if loopback else None


@app.command("ui")
@handle_errors
def ui(
    store: StoreOpt = None,
    host: Annotated[
        str, typer.Option(help="Interface to bind; 0.0.0.0 exposes the UI to the network.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port.")] = 8080,
    blobs: Annotated[
        str | None,
        typer.Option(help="Blob store URL for payload downloads (default: beside the store)."),
    ] = None,
    reports: Annotated[
        Path | None,
        typer.Option(help="Folder with the optimizer's tradeoff.json / tradeoff.png."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Serve the pipelines, lineage, graphlet and waste pages and their JSON API (/api/...)."""
    import uvicorn

    with MetadataStore(store) as st:  # fail here, in one line, on a missing or foreign store
        url = st.url.text
    os.environ["GRAPHLETS_STORE"] = url
    if blobs:
        os.environ["GRAPHLETS_BLOBS"] = blobs
    if reports is not None:
        os.environ["GRAPHLETS_REPORTS"] = str(reports)
    hosts = allowed_hosts(host)
    os.environ["GRAPHLETS_ALLOWED_HOSTS"] = ",".join(hosts) if hosts else "*"
    shown = f"[{host}]" if ":" in host else host
    if as_json:  # for scripts: where the server listens, before it starts serving
        emit_json({"url": f"http://{shown}:{port}/", "store": url, "host": host, "port": port})
    err.print(f"graphlets ui on http://{shown}:{port}/  (Ctrl+C to stop)", soft_wrap=True)
    if not os.environ.get("GRAPHLETS_TOKEN"):
        err.print(
            "read-only: set GRAPHLETS_TOKEN to accept writes "
            "(registry promote/rollback/alias, OpenLineage ingest)"
        )
    uvicorn.run(
        APP_FACTORY, factory=True, host=host, port=port, log_level="warning", server_header=False
    )
