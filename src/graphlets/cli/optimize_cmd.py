"""``graphlets optimize evaluate``: replay a store's history with the pruning gate on.

One call to :func:`graphlets.optimizer.replay.evaluate`; Rich progress on stderr, a summary on
stdout (or one JSON document with ``--json``). Read only.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from graphlets.cli.common import JsonOpt, StoreOpt, emit_json, err, handle_errors, out
from graphlets.lineage import LoadFilter
from graphlets.optimizer.policy import Guards, check_mode
from graphlets.optimizer.replay import ReplayConfig, evaluate
from graphlets.store import MetadataStore

app = typer.Typer(
    help="Predict which trainings will not be pushed, and measure what pruning them saves.",
    no_args_is_help=True,
)


class GateMode(str, enum.Enum):
    """How the gate ranks trainings (``--mode``)."""

    COST = "cost"
    PROBABILITY = "probability"


_STAGES = {"load": "loading store", "lightgbm": "replaying LightGBM",
           "logistic": "replaying logistic regression"}  # fmt: skip


@contextmanager
def _progress(quiet: bool) -> Iterator[Callable[[str, int, int], None]]:
    """One Rich bar per replay stage, on stderr."""
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=quiet,
    )
    tasks: dict[str, TaskID] = {}
    seen: dict[str, int] = {}

    def update(stage: str, done: int, total: int) -> None:
        # The oracle replays LightGBM again: give it its own bar.
        key = stage if done >= seen.get(stage, 0) else f"{stage}#"
        seen[stage] = done
        if key not in tasks:
            label = _STAGES.get(stage, stage) + (" (oracle)" if key.endswith("#") else "")
            tasks[key] = bar.add_task(escape(label), total=total)
        bar.update(tasks[key], completed=done, total=total)

    with bar:
        yield update


@app.command("evaluate")
@handle_errors
def evaluate_cmd(
    store: StoreOpt = None,
    as_json: JsonOpt = False,
    max_pushes_missed: Annotated[
        float,
        typer.Option(
            "--max-pushes-missed",
            min=0.0,
            max=0.99,
            help="Budget: fraction of pushed trainings the gate may skip; the threshold is "
            "chosen from the past for it.",
        ),
    ] = 0.02,
    mode: Annotated[
        GateMode,
        typer.Option(
            "--mode",
            help="cost: skip expensive long shots first (expected compute saved per push "
            "missed); probability: skip the lowest push probabilities first.",
        ),
    ] = GateMode.COST,
    pipeline: Annotated[
        str | None, typer.Option("--pipeline", help="Only this pipeline (a context name).")
    ] = None,
    max_staleness_hours: Annotated[
        float | None,
        typer.Option("--max-staleness-hours", help="Freshness guard (off unless given)."),
    ] = None,
    max_trainings_without_push: Annotated[
        int | None,
        typer.Option("--max-trainings-without-push", help="Cadence guard (off unless given)."),
    ] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write the tradeoff curve to this PNG.")
    ] = None,
    warmup: Annotated[
        float,
        typer.Option(
            "--warmup",
            min=0.05,
            max=0.95,
            help="Share of the history before the evaluated period (it only trains).",
        ),
    ] = 1 / 3,
    step_days: Annotated[
        float | None, typer.Option("--step-days", help="Days between refits (default: auto).")
    ] = None,
    baselines: Annotated[
        bool, typer.Option("--baselines/--no-baselines", help="Also replay the baselines.")
    ] = True,
    oracle: Annotated[
        bool,
        typer.Option("--oracle/--no-oracle", help="Replay the oracle on simulated traces."),
    ] = True,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the predictors.")] = 0,
) -> None:
    """Replay the store's history as if the pruning gate had been on, and report the tradeoff."""
    cfg = ReplayConfig(
        max_pushes_missed=max_pushes_missed,
        mode=check_mode(mode.value),
        warmup_fraction=warmup,
        step_days=step_days,
        guards=Guards(max_staleness_hours, max_trainings_without_push),
        baselines=baselines,
        oracle=None if oracle else False,
        plot=plot,
        seed=seed,
    )
    with MetadataStore(store) as s, _progress(False) as update:
        report = evaluate(s, cfg, LoadFilter(pipeline=pipeline), progress=update)
    if as_json:
        emit_json(report)
    else:
        _render(report)


def _pct(x: Any) -> str:
    return "-" if x is None else f"{100 * float(x):.1f}%"


def _render(r: dict[str, Any]) -> None:
    period = r["period"]
    out.print(
        f"[bold]{escape(r['store'])}[/]: {period['graphlets']:,} trainings evaluated "
        f"({escape(period['evaluate_from'])} .. {escape(period['to'])}), "
        f"{period['pushed']:,} pushed, {period['unpushed'] + period['failed']:,} wasted",
        highlight=False,
    )
    out.print(_headline(r), highlight=False)
    thr = r.get("threshold")
    ev = r.get("evidence") or {}
    out.print(
        f"gate: {r['mode']} mode, budget {_pct(r['max_pushes_missed'])} of pushes missed, "
        f"threshold {'-' if thr is None else f'{thr:.3g}'} (chosen from the past at each refit); "
        f"acts on a pipeline after {ev.get('min_trainings', '-')} trainings and "
        f"{ev.get('min_pushes', '-')} pushes, and a backtest within the budget",
        highlight=False,
    )
    table = Table(
        box=None,
        caption="saved: avoidable waste (anchor and downstream of skipped wasted trainings), "
        "waste (with their upstream shares), compute; missed: pushed trainings skipped",
        caption_justify="left",
    )
    table.add_column("policy", no_wrap=True)
    for name in ("skipped", "avoidable", "waste", "compute", "missed"):
        table.add_column(name, justify="right", no_wrap=True)
    _row(table, "gate", r)
    if r.get("oracle"):
        _row(table, "oracle (latent causes)", r["oracle"])
    for name, b in r["baselines"].items():
        _row(table, escape(name.replace("_", " ")), b)
    out.print(table)
    out.print(
        f"AUC {r['auc'] or 0:.3f}, precision {_pct(r['precision'])}, recall {_pct(r['recall'])}; "
        f"{r['pushes_delayed']} pushes delayed, {r['pushes_lost']} lost; staleness +"
        f"{r['staleness_increase_hours']['mean']:.1f} h mean, "
        f"+{r['staleness_increase_hours']['max']:.1f} h max",
        highlight=False,
    )
    _abstentions(r)
    if r.get("curve_png"):
        out.print(f"tradeoff curve: {escape(r['curve_png'])}", highlight=False)


def _headline(r: dict[str, Any]) -> str:
    """The gate's result, or its abstention: never a figure worse than not pruning."""
    if r.get("abstained"):
        return f"pruning gate {r.get('abstention_reason') or 'abstained'}; it skips nothing"
    return (
        f"pruning gate: saves {_pct(r.get('avoidable_waste_saved_fraction'))} of the waste "
        f"(anchor and downstream of skipped trainings; {_pct(r['waste_saved_fraction'])} with "
        f"their share of upstream), missing {_pct(r['pushes_missed_fraction'])} of pushes "
        f"(budget {_pct(r['max_pushes_missed'])}); the paper's figure: "
        f"{_pct(r['paper_waste_saved_fraction'])} of waste saved"
    )


def _row(table: Table, name: str, b: dict[str, Any]) -> None:
    table.add_row(name, _pct(b.get("skip_rate")), _pct(b.get("avoidable_waste_saved_fraction")),
                  _pct(b.get("waste_saved_fraction")), _pct(b.get("compute_saved_fraction")),
                  _pct(b.get("pushes_missed_fraction")))  # fmt: skip


def _abstentions(r: dict[str, Any], show: int = 5) -> None:
    """Where the gate abstained (the pipelines with the most trainings first)."""
    rows = r.get("abstentions") or []
    if not rows or r.get("abstained"):
        return
    out.print(
        f"abstained on {r['abstained_trainings']:,} trainings in {len(rows)} pipelines, e.g.:",
        highlight=False,
    )
    for e in rows[:show]:
        out.print(
            f"  {escape(str(e['pipeline']))}: {e['trainings']} of {e['of']} trainings, "
            f"{escape(str(e['reason']))}",
            highlight=False,
        )
