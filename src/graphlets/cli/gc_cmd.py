"""``graphlets gc``: delete payloads past the retention policy (never what rollback needs)."""

from __future__ import annotations

from typing import Annotated

import typer

from graphlets.cli.common import JsonOpt, StoreOpt, emit_json, handle_errors, out

app = typer.Typer(help="Retention: garbage-collect old payloads.")


@app.command("gc")
@handle_errors
def gc(
    keep_spans: Annotated[
        int, typer.Option(help="Keep payloads of the newest N spans.", min=0)
    ] = 14,
    keep_last_production: Annotated[
        int, typer.Option(help="Keep the models of the last K production versions.", min=1)
    ] = 3,
    blobs: Annotated[
        str | None, typer.Option(help="Blob store URL (default: beside the store).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report only; delete nothing.")
    ] = False,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Mark old artifacts DELETED and remove their blobs; production, fallback, aliased and
    live-stage models and the last K production versions are always kept."""
    from graphlets.registry import RetentionPolicy, collect
    from graphlets.store import MetadataStore
    from graphlets.store.blobs import BlobStore, default_blob_url

    with MetadataStore(store) as st:
        bs = BlobStore(blobs or default_blob_url(st.url.text))
        report = collect(st, bs, RetentionPolicy(keep_spans, keep_last_production), dry_run=dry_run)
    doc = report.to_dict()
    if as_json:
        emit_json(doc)
        return
    verb = "would delete" if dry_run else "deleted"
    out.print(
        f"{verb} {report.artifacts_deleted} artifacts of {report.spans_collected} spans "
        f"(<= span {report.cutoff_span}), {report.blobs_deleted} blobs, "
        f"{report.bytes_freed / 1e6:.1f} MB; kept {len(report.protected_models)} protected models",
        highlight=False,
    )
