"""``graphlets run``, ``graphlets resume`` and ``graphlets runs ls|show|diff``.

Each command parses its options, makes one call into :mod:`graphlets.pipeline` and renders the
result: Rich progress on stderr, results on stdout (one JSON document with ``--json``). A failed run
exits 1 with a one-line headline naming the failed step and how to resume.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from graphlets.cli.common import JsonOpt, StoreOpt, emit_json, err, fail, handle_errors, out
from graphlets.errors import InvalidArgumentError
from graphlets.pipeline import continuous, runs
from graphlets.pipeline.dag import Pipeline, coerce_params
from graphlets.pipeline.executors import make_executor
from graphlets.pipeline.lease import DEFAULT_TTL_S
from graphlets.pipeline.loader import load_pipeline
from graphlets.pipeline.record import DATA_FOLDER
from graphlets.pipeline.runner import Runner, RunResult
from graphlets.pipeline.session import RunOptions
from graphlets.pipeline.spans import SpanFiles, parse_span_range
from graphlets.plugins import get_plugin_manager
from graphlets.store import MetadataStore

app = typer.Typer(help="Run pipelines.")
runs_app = typer.Typer(help="List, show and compare pipeline runs.", no_args_is_help=True)

ExecutorOpt = Annotated[
    str | None,
    typer.Option("--executor", help="inline, process, dask-local or dask://HOST:PORT."),
]
WorkersOpt = Annotated[
    int | None, typer.Option("--workers", min=1, help="Parallel workers (process pool or Dask).")
]
BlobsOpt = Annotated[
    str | None,
    typer.Option(
        "--blobs", help="Blob store URL or folder (default: blobs/ beside a SQLite store)."
    ),
]


class _Progress:
    """Rich progress on stderr: one bar per run's steps, and a line per finished run."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=quiet,
        )
        self.task: Any = None

    def __call__(self, kind: str, doc: dict[str, Any]) -> None:
        if kind == "run_started":
            if self.task is not None:
                self.bar.remove_task(self.task)
            self.task = self.bar.add_task(
                escape(f"span {doc['span']}"), total=doc["nodes"], completed=doc["done"]
            )
        elif kind == "node_done" and self.task is not None:
            self.bar.advance(self.task)
        elif kind == "run_done" and not self.quiet:
            counts = ", ".join(f"{n} {s.lower()}" for s, n in sorted(doc["counts"].items()))
            colour = "green" if doc["state"] == "COMPLETE" else "red"
            self.bar.console.print(
                f"[{colour}]{doc['state']}[/] {escape(doc['name'])} ({doc['run']}): "
                f"{escape(counts)}",
                highlight=False,
            )


def _parse_params(items: list[str]) -> dict[str, str]:
    out_: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidArgumentError(f"--param {item!r}: write NAME=VALUE or NODE.NAME=VALUE")
        out_[key.strip()] = value
    return out_


def _with_data(pipeline: Pipeline, folder: Path | None) -> None:
    if folder is not None:
        base = pipeline.spans or SpanFiles(str(folder))
        pipeline.spans = base.in_folder(folder.expanduser().resolve())


def _finish(results: list[RunResult], as_json: bool) -> None:
    if as_json:
        emit_json({"runs": [r.to_dict() for r in results]})
    else:
        _print_results(results)
    failed = [r for r in results if not r.ok]
    if failed:
        r = failed[0]
        fail(
            f"run {r.run_name} (run:{r.run_id}) failed: {r.error}; fix it and run "
            f"`graphlets resume run:{r.run_id}`"
        )


def _print_results(results: list[RunResult]) -> None:
    table = Table("run", "span", "state", "steps", box=None)
    for r in results:
        counts = ", ".join(f"{n} {s.lower()}" for s, n in sorted(r.counts().items()))
        table.add_row(
            f"run:{r.run_id}", escape(str(r.to_dict()["span"] or "-")), r.state, escape(counts)
        )
    out.print(table)


@app.command("run")
@handle_errors
def run(
    pipeline_file: Annotated[
        str, typer.Argument(help="A .py file defining a Pipeline (FILE[:NAME]).")
    ],
    spans: Annotated[
        str | None, typer.Option("--spans", help="A..B (or one span): one run per span.")
    ] = None,
    data: Annotated[Path | None, typer.Option("--data", help="Folder of span files.")] = None,
    follow: Annotated[
        Path | None, typer.Option("--follow", help="Watch DIR: run each new span file.")
    ] = None,
    poll: Annotated[str, typer.Option("--poll", help="How often --follow looks (e.g. 5s).")] = "5s",
    every: Annotated[
        str | None, typer.Option("--every", help="Run on a schedule (e.g. 10m).")
    ] = None,
    max_runs: Annotated[
        int | None, typer.Option("--max-runs", min=1, help="Stop after N runs.")
    ] = None,
    keep_going: Annotated[
        bool, typer.Option("--keep-going", help="Go on after a failed run.")
    ] = False,
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Run every step.")] = False,
    no_cache_for: Annotated[
        list[str] | None, typer.Option("--no-cache-for", help="Always run NODE.")
    ] = None,
    cache_max_age: Annotated[
        str | None, typer.Option("--cache-max-age", help="Reuse only younger results (e.g. 7d).")
    ] = None,
    prune: Annotated[
        bool, typer.Option("--prune", help="Skip trainings the pruning gate predicts go unpushed.")
    ] = False,
    param: Annotated[
        list[str] | None, typer.Option("--param", help="NAME=VALUE or NODE.NAME=VALUE.")
    ] = None,
    blobs: BlobsOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a pipeline once, over a span range (backfill), following a folder, or on a schedule."""
    modes = [m for m in (spans, follow, every) if m is not None]
    if len(modes) > 1:
        raise InvalidArgumentError("use one of --spans, --follow and --every")
    pipeline = load_pipeline(pipeline_file)
    _with_data(pipeline, follow or data)
    overrides = coerce_params(pipeline, _parse_params(param or []))
    options = RunOptions(
        no_cache=no_cache,
        no_cache_for=frozenset(no_cache_for or ()),
        cache_max_age_s=continuous.parse_interval(cache_max_age) if cache_max_age else None,
        lease_ttl_s=DEFAULT_TTL_S,
    )
    unknown = set(options.no_cache_for) - set(pipeline.nodes)
    if unknown:
        raise InvalidArgumentError(
            f"--no-cache-for {sorted(unknown)[0]}: no such component; use one of "
            f"{', '.join(pipeline.nodes)}"
        )
    with ExitStack() as stack:
        s = stack.enter_context(MetadataStore(store))
        ex = make_executor(executor, workers)
        stack.callback(ex.close)
        prog = _Progress(quiet=False)
        runner = stack.enter_context(
            Runner(
                s,
                pipeline,
                blobs=blobs,
                executor=ex,
                hooks=get_plugin_manager(prune=prune),
                options=options,
                progress=prog,
                param_overrides=overrides,
            )
        )
        stack.enter_context(prog.bar)
        if spans is not None:
            results = continuous.backfill(runner, parse_span_range(spans), keep_going=keep_going)
        elif follow is not None:
            assert runner.pipeline.spans is not None
            results = continuous.follow(
                runner,
                runner.pipeline.spans,
                poll_s=continuous.parse_interval(poll),
                max_runs=max_runs,
                keep_going=keep_going,
            )
        elif every is not None:
            results = continuous.every(
                runner, continuous.parse_interval(every), max_runs=max_runs, keep_going=keep_going
            )
        else:
            results = [runner.run(_default_span(runner))]
    _finish(results, as_json)


def _default_span(runner: Runner) -> Any:
    spans = runner.pipeline.spans.available() if runner.pipeline.spans else []
    return spans[-1][0] if spans else None


@app.command("resume")
@handle_errors
def resume(
    run_ref: Annotated[
        str, typer.Argument(metavar="RUN", help="run:ID, context:ID or a run name.")
    ],
    pipeline_file: Annotated[
        str | None, typer.Option("--file", help="The pipeline file, when it moved.")
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Folder of span files (default: the one the run recorded)."),
    ] = None,
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
    prune: Annotated[
        bool, typer.Option("--prune", help="Skip trainings the pruning gate predicts go unpushed.")
    ] = False,
    blobs: BlobsOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Finish a failed or killed run: finished steps are kept, the rest run again."""
    with ExitStack() as stack:
        s = stack.enter_context(MetadataStore(store))
        run_ctx = runs.find_run(s, run_ref)
        props = run_ctx.custom_properties
        source = pipeline_file or props.get("pipeline_file")
        if not isinstance(source, str):
            raise InvalidArgumentError(
                f"run:{run_ctx.id} does not record its pipeline file: pass --file PIPELINE_FILE"
            )
        pipeline = load_pipeline(source)
        stored_data = props.get(DATA_FOLDER)
        _with_data(pipeline, data or (Path(stored_data) if isinstance(stored_data, str) else None))
        overrides = coerce_params(pipeline, runs.stored_overrides(run_ctx))
        opts = props.get("options")
        options = RunOptions.from_dict(opts if isinstance(opts, dict) else {})
        ex = make_executor(executor, workers)
        stack.callback(ex.close)
        stored_blobs = props.get("blobs")
        prog = _Progress(quiet=False)
        runner = stack.enter_context(
            Runner(
                s,
                pipeline,
                blobs=blobs or (stored_blobs if isinstance(stored_blobs, str) else None),
                executor=ex,
                hooks=get_plugin_manager(prune=prune),
                options=options,
                progress=prog,
                param_overrides=overrides,
            )
        )
        stack.enter_context(prog.bar)
        results = [runner.resume(run_ctx)]
    _finish(results, as_json)


@runs_app.command("ls")
@handle_errors
def runs_ls(
    pipeline: Annotated[str | None, typer.Option("--pipeline", help="Only this pipeline.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many (newest first).")] = 20,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List runs, newest first."""
    with MetadataStore(store) as s:
        rows = runs.list_runs(s, pipeline, limit)
    if as_json:
        emit_json({"runs": rows})
        return
    table = Table("run", "pipeline", "span", "state", "seconds", "steps", box=None)
    for r in rows:
        counts = ", ".join(f"{n} {k.lower()}" for k, n in sorted(r["counts"].items()))
        table.add_row(
            r["run"],
            escape(str(r["pipeline"])),
            escape(str(r["span"] or "-")),
            r["state"],
            str(r["duration_s"] or ""),
            escape(counts),
        )
    out.print(table)


@runs_app.command("show")
@handle_errors
def runs_show(
    run_ref: Annotated[
        str, typer.Argument(metavar="RUN", help="run:ID, context:ID or a run name.")
    ],
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One run and its executions."""
    with MetadataStore(store) as s:
        doc = runs.show_run(s, run_ref)
    if as_json:
        emit_json(doc)
        return
    out.print(
        f"[bold]{escape(str(doc['name']))}[/] {doc['run']}  pipeline "
        f"{escape(str(doc['pipeline']))}  span {escape(str(doc['span'] or '-'))}  "
        f"{doc['state']}",
        highlight=False,
    )
    if doc.get("error"):
        out.print(f"  error: {escape(str(doc['error']))}", highlight=False)
    if doc.get("previous_error"):
        resumed = f"resumed {doc['resumes']}x; " if doc.get("resumes") else ""
        out.print(
            f"  {resumed}previous attempt failed: {escape(str(doc['previous_error']))}",
            highlight=False,
        )
    table = Table("execution", "node", "state", "seconds", "cpu", "note", box=None)
    for e in doc["executions"]:
        note = (
            e["error"]
            or e["skip_reason"]
            or (f"from {e['cached_from']}" if e["cached_from"] else ", ".join(e["outputs"]))
        )
        table.add_row(
            e["execution"],
            escape(str(e["node"])),
            e["state"],
            str(e["duration_s"] if e["duration_s"] is not None else ""),
            str(e["cpu_seconds"] if e["cpu_seconds"] is not None else ""),
            escape(str(note)),
        )
    out.print(table)
    for e in doc["executions"]:
        if e.get("checks"):
            lines = runs.check_lines(e["checks"])
            out.print(f"{e['execution']} {escape(str(e['node']))} checks: {escape(lines[0])}")
            for line in lines[1:]:
                out.print(f"  {escape(line)}", highlight=False)


@runs_app.command("diff")
@handle_errors
def runs_diff(
    run_a: Annotated[str, typer.Argument(metavar="RUN_A")],
    run_b: Annotated[str, typer.Argument(metavar="RUN_B")],
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What differs between two runs: code, parameters, input data, environment."""
    with MetadataStore(store) as s:
        doc = runs.diff_runs(s, run_a, run_b)
    if as_json:
        emit_json(doc)
        return
    for line in runs.diff_lines(doc):
        out.print(escape(line), highlight=False)


def main() -> None:
    """Run these commands without the main app (``python -m graphlets.cli.run_cmd``)."""
    standalone = typer.Typer(
        no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False
    )
    standalone.registered_commands.extend(app.registered_commands)
    standalone.add_typer(runs_app, name="runs")
    standalone()


if __name__ == "__main__":
    main()
