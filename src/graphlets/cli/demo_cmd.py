"""``graphlets demo``: the main job of README command 1."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from graphlets.cli.common import JsonOpt, emit_json, err, handle_errors, out, progress
from graphlets.demo import run_demo

app = typer.Typer(help="Run the demo continuous-training history and report on it.")


@app.command("demo")
@handle_errors
def demo(
    folder: Annotated[Path, typer.Option("--dir", help="Folder for the demo store.")] = Path(
        "graphlets-demo"
    ),
    days: Annotated[int, typer.Option(help="Daily spans to record.", min=2)] = 30,
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="Not used: the demo always writes DIR/store.sqlite (accepted for uniformity).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a demo pipeline history in DIR/store.sqlite, then print its graphlet waste report."""
    with progress("recording daily runs", total=days) as advance:
        report = run_demo(folder, days=days, advance=advance)
    if as_json:
        emit_json(report)
        return
    _render(report)


def _render(r: dict[str, Any]) -> None:
    out.print(f"[bold]demo store[/] {r['store']}")
    counts = Table(title="What the store holds", show_header=False)
    for key in ("runs", "executions", "artifacts", "events", "contexts", "graphlets"):
        counts.add_row(key, str(r[key]))
    for outcome, n in r["outcomes"].items():
        counts.add_row(f"graphlets {outcome}", str(n))
    out.print(counts)
    waste = Table(title="Where compute went (CPU seconds)")
    waste.add_column("category")
    waste.add_column("cost", justify="right")
    for category, cost in r["cost_by_category"].items():
        if cost:
            waste.add_row(category, f"{cost:,.1f}")
    waste.add_row("[bold]total[/]", f"{r['total_cost']:,.1f}")
    waste.add_row(
        "[bold red]wasted on models never pushed[/]",
        f"{r['waste_cost']:,.1f} ({r['waste_fraction']:.1%})",
    )
    lost = r["failed_outside_graphlets"]
    waste.add_row("failed work outside graphlets", f"{lost['cost']:,.1f}")
    out.print(waste)
    url = r["store"]
    err.print(
        "explore:\n"
        f"  graphlets store stats --store {url}\n"
        f"  graphlets graphlets ls --outcome unpushed --store {url}\n"
        f"  graphlets graphlets summary --json --store {url}",
        soft_wrap=True,
        highlight=False,
    )
