"""What every command shares: the ``--store`` and ``--json`` options, rendering, and the rule that
expected errors print one line on stderr and exit 1 (usage errors exit 2, from Typer)."""

from __future__ import annotations

import functools
import json
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.exc import DBAPIError

from graphlets.errors import GraphletsError

P = ParamSpec("P")
R = TypeVar("R")

# stdout carries results only; everything a human watches goes to stderr.
out = Console(soft_wrap=True)
err = Console(stderr=True)

StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="GRAPHLETS_STORE",
        help="Store URL: sqlite:///PATH, sqlite:// or postgresql://USER@HOST:PORT/DB "
        "(default: $GRAPHLETS_HOME/store.sqlite, ~/.graphlets when unset).",
        show_default=False,
    ),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout and nothing else.")
]


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn expected errors into a one-line headline on stderr and exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except GraphletsError as exc:
            fail(str(exc))
        except (sqlite3.Error, DBAPIError) as exc:
            # a reader that opened the database without the store's engine (so its errors were
            # not mapped there): the same one-line messages, naming the --store of the command
            mapped = _db_error(kwargs.get("store"), exc)
            if mapped is None:
                raise
            fail(str(mapped))
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(130) from None

    return wrapper


def _db_error(store: object, exc: Exception) -> GraphletsError | None:
    from graphlets.store.engine import map_db_error
    from graphlets.store.url import parse_store_url

    try:
        url = parse_store_url(store if isinstance(store, str) else None)
    except GraphletsError:
        return None
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return map_db_error(url, orig)


def fail(message: str) -> NoReturn:
    """Print ``error: MESSAGE`` as one unwrapped line on stderr and exit 1.

    The message is escaped (ids such as ``[artifact:3]`` are not Rich markup) and never wrapped at
    the terminal width, so scripts can ``grep`` the headline.
    """
    headline = " ".join(message.split())
    err.print(f"[bold red]error:[/] {escape(headline)}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def emit_json(doc: Any) -> None:
    """Write exactly one JSON document to stdout."""
    sys.stdout.write(json.dumps(doc, indent=2, default=str, sort_keys=False) + "\n")
    sys.stdout.flush()


@contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A Rich progress bar on stderr; yields ``advance(n)``."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)

        def advance(n: int = 1) -> None:
            bar.advance(task, n)

        yield advance


@contextmanager
def table_progress(title: str) -> Iterator[Callable[[str, int, int], None]]:
    """One Rich progress bar per table on stderr; yields ``update(table, done, total)``.

    The callback matches the ``progress=`` parameter of ``copy_store`` and ``export_parquet``: a
    table's bar appears the first time it is reported. The display starts with the first report,
    so a command that fails before any table prints only its error line.
    """
    bar = Progress(
        TextColumn(f"[bold]{escape(title)}[/] {{task.description}}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    )
    tasks: dict[str, TaskID] = {}

    def update(table: str, done: int, total: int) -> None:
        if not tasks:
            bar.start()
        if table not in tasks:
            tasks[table] = bar.add_task(escape(table), total=total)
        bar.update(tasks[table], completed=done, total=total)

    try:
        yield update
    finally:
        if tasks:
            bar.stop()


@contextmanager
def stage_progress(title: str) -> Iterator[Callable[[str, int], None]]:
    """Rich progress on stderr, one line per stage with its rows so far; yields
    ``advance(stage, rows)``.

    The callback matches the ``progress=`` parameter of ``segment_store`` and ``build_report``,
    whose stages have no known total. Like :func:`table_progress`, nothing is drawn before the
    first report, and the display is cleared when the block ends.
    """
    bar = Progress(
        SpinnerColumn(),
        TextColumn(f"[bold]{escape(title)}[/] {{task.description}}"),
        TextColumn("{task.completed:,.0f} rows"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    tasks: dict[str, TaskID] = {}

    def advance(stage: str, rows: int) -> None:
        if not tasks:
            bar.start()
        if stage not in tasks:
            tasks[stage] = bar.add_task(escape(stage), total=None)
        bar.advance(tasks[stage], rows)

    try:
        yield advance
    finally:
        if tasks:
            bar.stop()
