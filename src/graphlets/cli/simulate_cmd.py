"""``graphlets simulate``: write a simulated fleet's provenance into a new store.

Parses the options, loads the profile, makes one call to :func:`graphlets.simulate.simulate`, and
prints what was written (Rich on stdout, or one JSON document with ``--json``); progress goes to
stderr.
"""

from __future__ import annotations

from typing import Annotated

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
    table_progress,
)
from graphlets.simulate import SimulationResult, load_profile, profile_names, simulate

app = typer.Typer(help="Simulate the provenance of a fleet of production ML pipelines.")


@app.command("simulate")
@handle_errors
def simulate_cmd(
    profile: Annotated[
        str,
        typer.Option(
            "--profile",
            help=f"A profile name ({', '.join(profile_names())}) or a path to a .toml profile.",
        ),
    ] = "small",
    store: StoreOpt = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Random seed (default: the profile's).")
    ] = None,
    pipelines: Annotated[
        int | None,
        typer.Option(
            "--pipelines", min=1, help="Only the first N pipelines of the profile's fleet."
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", min=0, help="Generator processes (0: inline; default: by fleet size)."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Generate a fleet of TFX-shaped pipelines into --store (created when missing, must be empty).

    The same profile and seed always give the same store. Then run
    `graphlets report --store URL --out DIR` for the fleet's analytics.
    """
    cfg = load_profile(profile)
    changes: dict[str, int] = {}
    if seed is not None:
        changes["seed"] = seed
    if pipelines is not None:
        changes["pipelines"] = pipelines
    if changes:
        cfg = cfg.with_(**changes)
    # The bar appears with the first chunk written, so an early error prints only its line.
    with table_progress(f"simulating {cfg.name}") as update:
        result = simulate(
            cfg,
            store,
            workers=workers,
            progress=lambda done, total: update("pipelines", done, total),
        )
    if as_json:
        emit_json(result.to_dict())
        return
    out.print(_summary(result))
    err.print(f"next: graphlets report --store {escape(result.store)} --out report", soft_wrap=True)


def _summary(r: SimulationResult) -> Table:
    table = Table(title=f"simulated {escape(r.profile)} (seed {r.seed})", show_header=False)
    size = f"{r.store_bytes / 1e6:,.1f} MB" if r.store_bytes is not None else "n/a"
    rows = [
        ("store", escape(r.store)),
        ("pipelines", f"{r.pipelines:,}"),
        ("runs", f"{r.runs:,}"),
        ("models trained", f"{r.models:,} (profile expects {r.expected_models:,.0f})"),
        ("rows written", f"{r.rows:,}"),
        ("store size", size),
        ("seconds", f"{r.seconds:,.1f}"),
    ]
    rows += [(f"trainings {k}", f"{v:,}") for k, v in r.outcomes.items()]
    for k, v in rows:
        table.add_row(k, v)
    return table
