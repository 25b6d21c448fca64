"""The ``graphlets`` command: one Typer app, one sub-app per command group (one module each)."""

from __future__ import annotations

import typer

from graphlets import __version__
from graphlets.cli import (
    demo_cmd,
    gc_cmd,
    graphlets_cmd,
    optimize_cmd,
    registry_cmd,
    report_cmd,
    run_cmd,
    simulate_cmd,
    store_cmd,
    ui_cmd,
)

app = typer.Typer(
    name="graphlets",
    help="MLMD-compatible provenance, continuous training, and model-graphlet waste analysis.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(store_cmd.app, name="store")
app.add_typer(graphlets_cmd.app, name="graphlets")
app.add_typer(registry_cmd.app, name="registry")
app.add_typer(run_cmd.runs_app, name="runs")
app.add_typer(optimize_cmd.app, name="optimize")
app.registered_commands.extend(demo_cmd.app.registered_commands)
app.registered_commands.extend(run_cmd.app.registered_commands)
app.registered_commands.extend(simulate_cmd.app.registered_commands)
app.registered_commands.extend(report_cmd.app.registered_commands)
app.registered_commands.extend(ui_cmd.app.registered_commands)
app.registered_commands.extend(gc_cmd.app.registered_commands)


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """graphlets: record, run, analyse and optimise production ML pipelines."""


def main() -> None:
    """Console-script entry point."""
    app()
