"""``graphlets demo``: the main job of README command 1 (a real continuous-training pipeline)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from graphlets.cli.common import JsonOpt, emit_json, err, handle_errors, out

app = typer.Typer(help="Run the demo continuous-training pipeline and report on it.")


@app.command("demo")
@handle_errors
def demo(
    folder: Annotated[
        Path, typer.Option("--dir", help="Folder for the demo's data, store and blobs.")
    ] = Path("graphlets-demo"),
    spans: Annotated[int, typer.Option("--spans", "--days", help="Daily spans.", min=10)] = 90,
    rows: Annotated[int, typer.Option(help="Rows per span.", min=200)] = 2000,
    replay: Annotated[
        bool, typer.Option(help="Replay the pruning gate over the history at the end.")
    ] = True,
    store: Annotated[
        str | None,
        typer.Option("--store", help="Not used: the demo always writes DIR/store.sqlite."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace DIR's store.sqlite, blobs/ and data/ even if DIR holds no earlier demo.",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run a continuous-training pipeline over drifting daily spans with injected incidents
    (schema break, missing spike, concept drift, code change) into DIR/store.sqlite, then print
    what happened: runs, trainings, pushes, blocked spans, anomalies, alerts, waste, pruning.

    DIR must be new, empty or an earlier demo's folder (it holds a `.graphlets-demo` marker);
    anything else is refused without --force, so the demo never deletes files it did not write."""
    from graphlets.demo import prepare_folder

    prepare_folder(folder, force)  # refuse before any work, and before the progress display
    report = _run(folder, spans, rows, replay)
    if as_json:
        emit_json(report)
        return
    _render(report)


def _run(folder: Path, spans: int, rows: int, replay: bool) -> dict[str, Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from graphlets.demo import run_demo

    def alert(message: str) -> None:
        err.print(f"[yellow]{escape(message)}[/]", highlight=False)

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def tick(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        return run_demo(folder, spans, rows, replay=replay, advance=tick, alert_sink=alert)


def _table(title: str, rows: list[tuple[str, str]]) -> Table:
    t = Table(title=title, show_header=False, title_justify="left")
    for k, v in rows:
        t.add_row(k, v)
    return t


def _render(r: dict[str, Any]) -> None:
    w, reg, p = r["waste"], r["registry"], r["pruning"]
    out.print(f"[bold]demo store[/] {r['store']}")
    out.print(
        _table(
            "Continuous training",
            [
                ("runs", str(r["runs"])),
                ("executions / artifacts in the store", f"{r['executions']} / {r['artifacts']}"),
                ("models trained", str(r["models_trained"])),
                ("trainings skipped (blocked spans)", str(r["trainings_skipped"])),
                ("blessed / not blessed", f"{r['blessed']} / {r['not_blessed']}"),
                ("pushed", str(r["pushed"])),
                ("blocked spans", ", ".join(map(str, r["blocked_spans"])) or "none"),
                (
                    "anomalies by kind",
                    ", ".join(f"{k} {v}" for k, v in r["anomalies_by_kind"].items()),
                ),
                ("alerts sent (deduplicated)", str(r["alerts_sent"])),
            ],
        )
    )
    inc = Table(title="Incidents", title_justify="left")
    for col in ("incident", "injected on span", "detected on span", "by"):
        inc.add_column(col)
    for row in r["incidents"]:
        inc.add_row(row["incident"], str(row["injected"]), str(row["detected"]), row["by"])
    out.print(inc)
    out.print(
        _table(
            "Registry (model churn)",
            [
                ("versions", str(reg["versions"])),
                ("by stage", ", ".join(f"{k} {v}" for k, v in sorted(reg["by_stage"].items()))),
                ("promotions to production", str(reg["promotions"])),
                ("production / fallback", f"v{reg['production']} / v{reg['fallback']}"),
            ],
        )
    )
    rows = [
        ("graphlets (trainings)", str(w["graphlets"])),
        (
            "pushed / unpushed / failed / pending",
            f"{w['pushed']} / {w['unpushed']} / {w['failed']} / {w['pending']}",
        ),
        ("compute, total", f"{w['total_cost']:,.1f} s"),
        ("compute on models never pushed", f"{w['waste_cost']:,.1f} s ({w['waste_fraction']:.1%})"),
    ]
    from graphlets.demo.report import pruning_line

    rows.append(pruning_line(p))
    out.print(_table("Waste (graphlets)", rows))
    url = r["store"]
    err.print(
        "explore:\n"
        f"  graphlets store stats --store {url}\n"
        f"  graphlets registry ls --store {url}\n"
        f"  graphlets registry show churn --store {url}\n"
        f"  graphlets graphlets ls --outcome unpushed --store {url}\n"
        f"  graphlets report --store {url}\n"
        "  python -c \"import graphlets; print(graphlets.load_model('churn@production', "
        f"'{url}'))\"",
        soft_wrap=True,
        highlight=False,
    )
