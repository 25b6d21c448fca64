"""``graphlets store ...``: create, upgrade, inspect, copy and export MLMD stores.

Each command parses its arguments, makes one call into :mod:`graphlets.store` (a few for ``show``),
and renders the result: Rich on stdout, or one JSON document with ``--json``. Only ``init`` and
``upgrade`` write schema (``copy`` creates its destination through ``init``'s code); the other
commands only read.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from graphlets.cli import render
from graphlets.cli.common import (
    JsonOpt,
    StoreOpt,
    emit_json,
    err,
    handle_errors,
    out,
    table_progress,
)
from graphlets.cli.store_views import (
    collect_stats,
    not_found,
    show_doc,
    show_renderables,
    stats_renderables,
)
from graphlets.model import parse_id
from graphlets.store import (
    Direction,
    ListOptions,
    MetadataStore,
    OrderBy,
    bootstrap,
    parse_store_url,
)

app = typer.Typer(
    help="Create, inspect, copy and export MLMD provenance stores.", no_args_is_help=True
)


class Listable(str, enum.Enum):
    """What ``store ls`` lists."""

    artifacts = "artifacts"
    executions = "executions"
    contexts = "contexts"


class OrderField(str, enum.Enum):
    """``store ls --order-by`` choices (MLMD's ``OrderByField``)."""

    id = "id"
    create_time = "create_time"
    last_update_time = "last_update_time"


_ORDER = {
    OrderField.id: OrderBy.ID,
    OrderField.create_time: OrderBy.CREATE_TIME,
    OrderField.last_update_time: OrderBy.LAST_UPDATE_TIME,
}


@app.command()
@handle_errors
def init(store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """Create a store at --store (SQLite file or PostgreSQL database); an existing one is kept.

    Also applies graphlets' own migrations, so a store written by ml-metadata gains our indexes.
    """
    url = parse_store_url(store)
    if url.is_memory:
        err.print("note: sqlite:// lives in memory and is gone when this command exits")
    created = bootstrap.init_store(url)
    doc = {"url": url.redacted(), "created": created}
    if as_json:
        emit_json(doc)
        return
    verb = "created a new store" if created else "a store already exists, its data kept"
    out.print(f"{verb}: [bold]{escape(url.redacted())}[/]")


@app.command()
@handle_errors
def upgrade(store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """Apply graphlets' own migrations (indexes and tables ml-metadata ignores) to --store.

    MLMD's tables are never altered, so ml-metadata and TFX still open the store afterwards.
    """
    url = parse_store_url(store)
    applied = bootstrap.upgrade_store(url)
    if as_json:
        emit_json({"url": url.redacted(), "applied": applied})
        return
    if applied:
        out.print(f"applied migrations {', '.join(applied)} to {escape(url.redacted())}")
    else:
        out.print(f"{escape(url.redacted())} is up to date; nothing applied")


@app.command()
@handle_errors
def stats(store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """Count types, artifacts, executions, events and contexts, in total and per type and state."""
    with MetadataStore(store) as st:
        doc = collect_stats(st)
    if as_json:
        emit_json(doc)
        return
    for renderable in stats_renderables(doc):
        out.print(renderable)


@app.command("ls")
@handle_errors
def ls(
    kind: Annotated[
        Listable,
        typer.Argument(
            metavar="KIND", help="artifacts, executions or contexts.", show_default=False
        ),
    ],
    type_name: Annotated[
        str | None, typer.Option("--type", help="Only nodes of this type (e.g. Model).")
    ] = None,
    limit: Annotated[int, typer.Option(help="Page size; 0 lists everything.", min=0)] = 100,
    filter_query: Annotated[
        str | None,
        typer.Option(
            "--filter",
            help="MLMD filter_query, e.g. \"state = LIVE AND contexts_p.name = 'my-pipeline'\".",
        ),
    ] = None,
    page_token: Annotated[
        str | None, typer.Option("--page-token", help="next_page_token of the previous page.")
    ] = None,
    order_by: Annotated[OrderField, typer.Option(help="Sort field; ties by id.")] = OrderField.id,
    desc: Annotated[bool, typer.Option("--desc", help="Newest / largest first.")] = False,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List artifacts, executions or contexts, a page at a time (MLMD's ListOptions)."""
    singular = kind.value[:-1]
    with MetadataStore(store) as st:
        query = filter_query
        if type_name is not None:
            getattr(st, f"get_{singular}_type")(type_name)  # NotFoundError lists known types
            query = _and(_type_filter(type_name), filter_query)
        options = ListOptions(
            limit=limit or None,
            order_by=_ORDER[order_by],
            is_asc=not desc,
            filter_query=query,
            next_page_token=page_token,
        )
        nodes, token = getattr(st, f"list_{kind.value}")(options)
    if as_json:
        items = [render.node_to_dict(n) for n in nodes]
        emit_json({"kind": singular, "items": items, "next_page_token": token})
        return
    out.print(render.nodes_table(f"{len(nodes)} {kind.value}", nodes))
    if token:
        err.print(f"more: add --page-token {token}", soft_wrap=True, highlight=False)


def _type_filter(type_name: str) -> str:
    escaped = type_name.replace("\\", "\\\\").replace("'", "\\'")
    return f"type = '{escaped}'"


def _and(a: str, b: str | None) -> str:
    return f"{a} AND ({b})" if b else a


@app.command()
@handle_errors
def show(
    node_id: Annotated[
        str,
        typer.Argument(
            metavar="ID",
            help="A typed id: artifact:N, execution:N or context:N.",
            show_default=False,
        ),
    ],
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one node: its fields, properties, events (with the other side) and contexts."""
    tid = parse_id(node_id)
    with MetadataStore(store) as st:
        doc = show_doc(st, tid)
    if as_json:
        emit_json(doc)
        return
    for renderable in show_renderables(doc):
        out.print(renderable)


@app.command()
@handle_errors
def lineage(
    node_id: Annotated[
        str,
        typer.Argument(
            metavar="ID", help="A typed id: artifact:N or execution:N.", show_default=False
        ),
    ],
    direction: Annotated[
        Direction, typer.Option(help="up: where it came from; down: what used it; both.")
    ] = Direction.BIDIRECTIONAL,
    hops: Annotated[
        int, typer.Option(help="Event edges to follow (artifact->execution is one hop).", min=0)
    ] = 2,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the lineage of a node N hops up, down or both ways (MLMD's get_lineage_subgraph)."""
    tid = parse_id(node_id, allowed=("artifact", "execution"))
    arts, execs = ([tid.id], []) if tid.kind == "artifact" else ([], [tid.id])
    with MetadataStore(store) as st:
        graph = st.get_lineage_subgraph(arts, execs, direction=direction, max_hops=hops)
    found = {render.typed_id(n) for n in render.graph_nodes(graph)}
    if str(tid) not in found:
        raise not_found(tid)
    if as_json:
        doc = {"start": str(tid), "direction": direction.value, "hops": hops}
        emit_json(doc | render.lineage_to_dict(graph))
        return
    tree, cut = render.lineage_tree(graph, tid, direction.value)
    out.print(tree)
    out.print(
        f"[dim]{len(graph.artifacts)} artifacts, {len(graph.executions)} executions, "
        f"{len(graph.events)} events within {hops} hops ({direction.value})[/]"
    )
    if cut:
        err.print("the tree was cut at 500 lines; --json prints the whole subgraph")


@app.command()
@handle_errors
def copy(
    ctx: typer.Context,
    urls: Annotated[
        list[str],
        typer.Argument(
            metavar="[SRC_URL] DST_URL",
            help="Source and destination store URLs; with one URL, copy --store into it.",
            show_default=False,
        ),
    ],
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Copy every MLMD table of one store into another, in bulk (e.g. SQLite -> PostgreSQL).

    Any MLMD v10 store is a valid source, including one written by ml-metadata or TFX.
    """
    src, dst = _copy_urls(ctx, urls, store)
    from graphlets.store.transfer import copy_store

    with table_progress("copy") as update:
        rows = copy_store(src, dst, progress=update)
    src_shown, dst_shown = parse_store_url(src).redacted(), parse_store_url(dst).redacted()
    if as_json:
        doc = {"src": src_shown, "dst": dst_shown, "rows": rows, "total_rows": sum(rows.values())}
        emit_json(doc)
        return
    out.print(render.table(f"copied {src_shown} -> {dst_shown}", ("table", "rows"), rows.items()))


def _copy_urls(ctx: typer.Context, urls: list[str], store: str | None) -> tuple[str, str]:
    """SRC and DST from ``SRC DST`` or from ``DST`` plus ``--store``; anything else is misuse."""
    source = ctx.get_parameter_source("store")  # Typer may vendor Click: compare by name
    explicit = source is not None and source.name == "COMMANDLINE"
    if len(urls) == 2 and not explicit:
        return urls[0], urls[1]
    if len(urls) == 1:
        return parse_store_url(store).text, urls[0]
    raise typer.BadParameter(
        "give SRC_URL DST_URL, or DST_URL with --store SRC_URL", param_hint="[SRC_URL] DST_URL"
    )


@app.command()
@handle_errors
def export(
    parquet: Annotated[
        Path,
        typer.Option("--parquet", help="Folder for the Parquet files (created).", file_okay=False),
    ],
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Export every MLMD table of --store as one Parquet file per table, for DuckDB/polars."""
    from graphlets.store.export import export_parquet

    url = parse_store_url(store)
    with table_progress("export") as update:
        files = export_parquet(url.text, parquet, progress=update)
    if as_json:
        emit_json({"src": url.redacted(), "dir": str(parquet), "files": _str_paths(files)})
        return
    rows = ((t, p) for t, p in _str_paths(files).items())
    out.print(render.table(f"exported {url.redacted()}", ("table", "file"), rows))


def _str_paths(files: dict[str, Any]) -> dict[str, str]:
    return {table: str(path) for table, path in files.items()}
