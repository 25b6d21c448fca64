"""Continuous mode: backfill a span range, follow a folder of span files, or run on a schedule.

All three hold one runner (so one lease) for their whole life and make one run per span. A failed
run stops the loop unless ``keep_going``: later spans usually read earlier ones (rolling windows,
warm starts), so running past a failure would build on a hole.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

from graphlets.errors import InvalidArgumentError
from graphlets.pipeline import record as rec
from graphlets.pipeline.lease import STATE
from graphlets.pipeline.runner import Runner, RunResult
from graphlets.pipeline.spans import SpanFiles, SpanValue, span_key
from graphlets.store import ListOptions

OnRun = Callable[[RunResult], None]
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_interval(text: str) -> float:
    """``90``, ``90s``, ``5m``, ``1.5h``, ``1d`` -> seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text.lower())
    if not m or float(m[1]) <= 0:
        raise InvalidArgumentError(
            f"interval {text!r} is not a duration: write a positive number with s, m, h or d "
            "(e.g. 30s, 10m, 1h, 1d)"
        )
    return float(m[1]) * _UNITS[m[2]]


def backfill(
    runner: Runner,
    spans: list[SpanValue],
    *,
    keep_going: bool = False,
    on_run: OnRun | None = None,
) -> list[RunResult]:
    """One run per span, in span order."""
    results: list[RunResult] = []
    for span in sorted(spans, key=span_key):
        result = runner.run(span)
        results.append(result)
        if on_run:
            on_run(result)
        if not result.ok and not keep_going:
            break
    return results


def completed_spans(runner: Runner) -> set[int]:
    """Spans this pipeline already has a COMPLETE run for."""
    name = runner.pipeline.name
    query = (
        f"type = '{rec.PIPELINE_RUN}' AND custom_properties.pipeline.string_value = '{name}' "
        f"AND custom_properties.{STATE}.string_value = 'COMPLETE'"
    )
    runs = runner.store.get_contexts(ListOptions(filter_query=query))
    return {int(v) for r in runs if isinstance(v := r.custom_properties.get(rec.SPAN), int)}


def follow(
    runner: Runner,
    files: SpanFiles,
    *,
    poll_s: float = 5.0,
    max_runs: int | None = None,
    keep_going: bool = False,
    stop: threading.Event | None = None,
    on_run: OnRun | None = None,
) -> list[RunResult]:
    """Run every span file that has no COMPLETE run yet, oldest first, then wait for new ones.

    Returns after ``max_runs`` runs, when ``stop`` is set, or after a failed run (unless
    ``keep_going``).
    """
    stop = stop or threading.Event()
    done = completed_spans(runner)
    results: list[RunResult] = []
    while not stop.is_set():
        for span, _path in files.available():
            if span_key(span) in done:
                continue
            result = runner.run(span)
            results.append(result)
            if on_run:
                on_run(result)
            done.add(span_key(span))
            if (max_runs is not None and len(results) >= max_runs) or (
                not result.ok and not keep_going
            ):
                return results
        stop.wait(poll_s)
    return results


def every(
    runner: Runner,
    interval_s: float,
    *,
    max_runs: int | None = None,
    keep_going: bool = False,
    stop: threading.Event | None = None,
    on_run: OnRun | None = None,
) -> list[RunResult]:
    """A run every ``interval_s`` seconds (measured start to start) for the newest span file when
    the pipeline has span files, else without a span."""
    stop = stop or threading.Event()
    results: list[RunResult] = []
    while not stop.is_set():
        started = time.monotonic()
        spans = runner.pipeline.spans.available() if runner.pipeline.spans else []
        result = runner.run(spans[-1][0] if spans else None)
        results.append(result)
        if on_run:
            on_run(result)
        if (max_runs is not None and len(results) >= max_runs) or (
            not result.ok and not keep_going
        ):
            break
        stop.wait(max(0.0, interval_s - (time.monotonic() - started)))
    return results
