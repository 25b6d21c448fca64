"""``graphlets graphlets ...``: model graphlets, their cost, outcome and the waste they add up to.

Each command loads the store (or one pipeline of it) in bulk, segments it with
:func:`graphlets.lineage.segment_store`, and renders: Rich tables on stdout, or one JSON document
with ``--json``. Loading shows Rich progress on stderr. Read only.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.markup import escape
from rich.table import Table

from graphlets.cli.common import (
    JsonOpt,
    StoreOpt,
    emit_json,
    err,
    handle_errors,
    out,
    stage_progress,
)
from graphlets.errors import NotFoundError
from graphlets.lineage import GraphletConfig, GraphletResult, LoadFilter, segment_store
from graphlets.lineage.result import COST_COLUMNS
from graphlets.model import parse_id
from graphlets.store import MetadataStore

app = typer.Typer(
    help="Model graphlets: the work around each model training, its cost, outcome and waste.",
    no_args_is_help=True,
)


class Outcome(str, enum.Enum):
    """Graphlet outcomes (``ls --outcome``)."""

    PUSHED = "pushed"
    UNPUSHED = "unpushed"
    FAILED = "failed"
    PENDING = "pending"


class Sharing(str, enum.Enum):
    """How the cost of a shared upstream execution is attributed."""

    SPLIT = "split"
    FULL = "full"
    FIRST = "first"


SharingOpt = Annotated[
    Sharing,
    typer.Option(
        "--sharing",
        help="Shared upstream cost: split evenly, full to each graphlet, or first graphlet only.",
    ),
]
PipelineOpt = Annotated[
    str | None, typer.Option("--pipeline", help="Only this pipeline (a pipeline context name).")
]


def _segment(store: str | None, pipeline: str | None, sharing: Sharing) -> GraphletResult:
    with MetadataStore(store) as st, stage_progress("loading") as advance:
        return segment_store(
            st,
            GraphletConfig(sharing=sharing.value),
            LoadFilter(pipeline=pipeline),
            progress=advance,
        )


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [
        {**r, "id": f"graphlet:{r['graphlet_id']}", "model": f"artifact:{r['model_artifact_id']}"}
        for r in frame.iter_rows(named=True)
    ]


@app.command("ls")
@handle_errors
def ls(
    store: StoreOpt = None,
    pipeline: PipelineOpt = None,
    outcome: Annotated[
        Outcome | None, typer.Option(help="Only graphlets with this outcome.")
    ] = None,
    parquet: Annotated[
        Path | None, typer.Option(help="Also write all matching graphlets to this Parquet file.")
    ] = None,
    limit: Annotated[int, typer.Option(min=0, help="Rows to print (0: all).")] = 50,
    sharing: SharingOpt = Sharing.SPLIT,
    as_json: JsonOpt = False,
) -> None:
    """List graphlets: pipeline, outcome, size, input spans, cost and waste (--json adds more)."""
    res = _segment(store, pipeline, sharing)
    frame = res.graphlets
    if outcome is not None:
        frame = frame.filter(pl.col("outcome") == outcome.value)
    if parquet is not None:
        frame.write_parquet(parquet)
    shown = frame.head(limit) if limit else frame
    if as_json:
        emit_json({"count": frame.height, "shown": shown.height, "graphlets": _rows(shown)})
        return
    out.print(_ls_table(shown))
    more = f" (first {shown.height}; --limit 0 for all)" if shown.height < frame.height else ""
    out.print(f"{frame.height} graphlets{more}", highlight=False)
    if parquet is not None:
        err.print(f"wrote {frame.height} rows to {parquet}")


def _ls_table(frame: pl.DataFrame) -> Table:
    t = Table(box=None, header_style="bold")
    for col in ("graphlet", "pipeline", "outcome", "execs", "arts"):
        t.add_column(col, no_wrap=True, justify="right" if col in ("execs", "arts") else "left")
    t.add_column("spans", overflow="fold")
    t.add_column("cost", justify="right", no_wrap=True)
    t.add_column("waste", justify="right", no_wrap=True)
    for r in frame.iter_rows(named=True):
        t.add_row(
            f"graphlet:{r['graphlet_id']}",
            escape(r["pipeline"] or ""),
            str(r["outcome"]),
            str(r["n_executions"]),
            str(r["n_artifacts"]),
            _spans(r["input_spans"]),
            f"{r['cost']:,.1f}",
            f"{r['waste']:,.1f}",
        )
    return t


def _spans(spans: list[int]) -> str:
    """Sorted spans as ranges: ``[1, 2, 3, 7]`` -> ``1-3,7``."""
    runs: list[list[int]] = []
    for s in spans:
        if runs and s == runs[-1][1] + 1:
            runs[-1][1] = s
        else:
            runs.append([s, s])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


@app.command()
@handle_errors
def show(
    graphlet_id: Annotated[str, typer.Argument(metavar="ID", help="A graphlet id: graphlet:N.")],
    store: StoreOpt = None,
    sharing: SharingOpt = Sharing.SPLIT,
    as_json: JsonOpt = False,
) -> None:
    """One graphlet: outcome, cost by category, and every member with its role and share."""
    gid = parse_id(graphlet_id, ("graphlet",)).id
    with MetadataStore(store) as st:
        pipes = [c.name for c in st.get_contexts_by_execution(gid) if c.type == "pipeline"]
    if not pipes and not _exists(store, gid):
        raise NotFoundError(
            f"graphlet:{gid} does not exist: a graphlet id is its anchor execution's id; list "
            "them with `graphlets graphlets ls`"
        )
    res = _segment(store, pipes[0] if pipes else None, sharing)
    found = res.graphlet(gid)
    row, members = found["graphlet"], found["members"]
    member_rows = [
        {**m, "id": f"{m['node_kind']}:{m['node_id']}"} for m in members.iter_rows(named=True)
    ]
    if as_json:
        emit_json({"graphlet": _rows(pl.DataFrame([row]))[0], "members": member_rows})
        return
    out.print(_show_table(row))
    out.print(_members_table(member_rows))


def _exists(store: str | None, execution_id: int) -> bool:
    with MetadataStore(store) as st:
        return bool(st.get_executions_by_id([execution_id]))


def _show_table(row: dict[str, Any]) -> Table:
    t = Table(box=None, show_header=False)
    t.add_column(style="bold")
    t.add_column()
    t.add_row("graphlet", f"graphlet:{row['graphlet_id']}")
    t.add_row("pipeline", escape(row["pipeline"] or ""))
    t.add_row("anchor", f"execution:{row['anchor_execution_id']} ({escape(row['anchor_type'])})")
    t.add_row("model", f"artifact:{row['model_artifact_id']}")
    t.add_row("outcome", str(row["outcome"]))
    t.add_row("input spans", _spans(row["input_spans"]))
    t.add_row("cost", f"{row['cost']:,.2f} (shared part {row['shared_cost']:,.2f})")
    for col in COST_COLUMNS:
        if row[col]:
            t.add_row(f"  {col.removeprefix('cost_')}", f"{row[col]:,.2f}")
    t.add_row("waste", f"{row['waste']:,.2f}")
    return t


def _members_table(rows: list[dict[str, Any]]) -> Table:
    t = Table(title="members", box=None, header_style="bold")
    for col in ("id", "type", "role", "share", "cost"):
        t.add_column(col, justify="right" if col in ("share", "cost") else "left")
    for m in rows:
        short = str(m["type"]).rsplit(".", 1)[-1]  # tfx.components...Trainer -> Trainer
        t.add_row(m["id"], escape(short), str(m["role"]), f"{m['share']:.3g}", f"{m['cost']:,.2f}")
    return t


@app.command()
@handle_errors
def summary(
    store: StoreOpt = None,
    pipeline: PipelineOpt = None,
    sharing: SharingOpt = Sharing.SPLIT,
    as_json: JsonOpt = False,
) -> None:
    """Graphlets by outcome, waste and its fraction of all compute, and lost work beside it."""
    s = _segment(store, pipeline, sharing).summary
    if as_json:
        emit_json(s)
        return
    t = Table(box=None, show_header=False)
    t.add_column(style="bold")
    t.add_column(justify="right")
    for key in ("graphlets", "pushed", "unpushed", "failed", "pending"):
        t.add_row(key, f"{s[key]:,}")
    t.add_row("waste", f"{s['waste_cost']:,.1f} ({s['waste_fraction']:.1%} of all compute)")
    t.add_row("total compute", f"{s['total_cost']:,.1f}")
    t.add_row("outside graphlets", f"{s['unattributed_cost']:,.1f}")
    lost = s["failed_outside_graphlets"]
    t.add_row("failed outside graphlets", f"{lost['executions']:,} ({lost['cost']:,.1f})")
    skipped = s["skipped_trainings"]
    t.add_row("skipped trainings", f"{skipped['count']:,} ({skipped['cost']:,.1f})")
    t.add_row("cost source", escape(", ".join(f"{k}: {v:,}" for k, v in s["cost_source"].items())))
    out.print(t)
