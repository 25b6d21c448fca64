"""``graphlets report``: the pipeline analytics of a store as HTML, figures and JSON.

Parses the options, makes one call to :func:`graphlets.analytics.build_report`, and prints where the
report is with its headline numbers (or, with ``--json``, the whole report as one JSON document).
Progress goes to stderr. Read only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from graphlets.analytics import build_report
from graphlets.cli.common import (
    JsonOpt,
    StoreOpt,
    emit_json,
    handle_errors,
    out,
    stage_progress,
)
from graphlets.store import MetadataStore

app = typer.Typer(help="Pipeline analytics of a store: report.html, figures and report.json.")


@app.command("report")
@handle_errors
def report_cmd(
    folder: Annotated[
        Path, typer.Option("--out", help="Folder for report.html, report.json and the PNGs.")
    ] = Path("report"),
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the analytics of --store (pipelines, graphlets, compute, pushes, waste) to --out."""
    with MetadataStore(store) as st, stage_progress("report") as stage:
        report = build_report(st, folder, progress=stage)
    if as_json:
        emit_json(report.data)
        return
    out.print(_headline(report.data))
    out.print(f"report: [bold]{escape(str(report.html))}[/] ({len(report.figures)} figures)")


def _headline(data: dict[str, Any]) -> Table:
    h = data["headline"]
    table = Table(title=f"pipeline analytics of {escape(data['store'])}", show_header=False)
    causes = ", ".join(f"{c} {s:.0%}" for c, s in h["waste_share_by_cause"].items())
    rows = [
        ("pipelines", f"{h['pipelines']:,}"),
        ("models trained", f"{h['models']:,}"),
        ("days covered", f"{h['days']:,.1f}"),
        ("push rate", f"{h['push_rate']:.1%}"),
        ("graphlets not pushed", f"{h['unpushed_share']:.1%}"),
        ("compute wasted", f"{h['waste_fraction']:.1%}"),
        ("waste by cause", causes),
        ("seconds", f"{data['seconds']['total'] + data['seconds'].get('figures', 0):,.1f}"),
    ]
    for k, v in rows:
        table.add_row(k, v)
    return table
