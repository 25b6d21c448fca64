"""``graphlets demo``: the main job of README command 1."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from graphlets.cli.common import JsonOpt, emit_json, err, handle_errors, out, progress
from graphlets.demo import demo_store_url, record_history
from graphlets.store import MetadataStore

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
        typer.Option("--store", help="Ignored store URL (the demo always uses --dir's store)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a demo pipeline history in DIR/store.sqlite, then print what the store holds."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    url = demo_store_url(folder)
    with MetadataStore(url, create=True) as s:
        with progress("recording daily runs", total=days) as advance:
            runs = record_history(s, days=days, advance=advance)
        summary = {
            "store": url,
            "runs": runs,
            "artifacts": s.count("artifact"),
            "executions": s.count("execution"),
            "events": s.count("event"),
            "contexts": s.count("context"),
            "models": len(s.get_artifacts_by_type("Model")),
            "pushed": len(s.get_artifacts_by_type("PushedModel")),
        }
    if as_json:
        emit_json(summary)
        return
    out.print(f"[bold]demo store[/] {url}")
    for key, value in summary.items():
        if key != "store":
            out.print(f"  {key:<11} {value}")
    err.print(
        f"explore: graphlets store stats --store {url}\n"
        f"         graphlets store ls executions --type Trainer --store {url}",
        soft_wrap=True,
    )
