"""Helpers for the benchmarks: timing, machine facts, a TFX-shaped store builder, the README table.

The store builder writes through graphlets' bulk writer; the shape follows a TFX pipeline run:
ExampleGen -> StatisticsGen -> SchemaGen -> Trainer -> Evaluator (with the previous run's model as
baseline) -> Pusher, each run in its own ``pipeline_run`` context under a ``pipeline`` context.
One run has 7 artifacts, 6 executions and 16 events (15 for a pipeline's first run).
"""

from __future__ import annotations

import os
import platform
import re
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphlets.model import (
    Artifact,
    ArtifactState,
    ArtifactType,
    Association,
    Attribution,
    Context,
    ContextType,
    Event,
    EventStep,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    ParentContext,
    PropertyType,
)
from graphlets.store import MetadataStore
from graphlets.store.bulk import BulkWriter

T0_MS = 1_700_000_000_000
ARTIFACT_TYPES = (
    "Examples", "ExampleStatistics", "Schema", "Model", "ModelEvaluation", "ModelBlessing",
    "PushedModel",
)  # fmt: skip
EXECUTION_TYPES = ("ExampleGen", "StatisticsGen", "SchemaGen", "Trainer", "Evaluator", "Pusher")
EVENTS_PER_RUN = 16


@contextmanager
def timer() -> Iterator[list[float]]:
    """``with timer() as t: ...`` then ``t[0]`` is the elapsed seconds."""
    out: list[float] = []
    start = time.perf_counter()
    try:
        yield out
    finally:
        out.append(time.perf_counter() - start)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation."""
    return float(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1])


def machine() -> str:
    """One line: CPU model, cores, memory, OS, Python, SQLite."""
    cpu = "unknown CPU"
    try:
        text = Path("/proc/cpuinfo").read_text()
        found = re.search(r"model name\s*:\s*(.+)", text)
        cpu = found.group(1).strip() if found else cpu
    except OSError:
        pass
    mem = ""
    try:
        kib = int(re.findall(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())[0])
        mem = f", {kib / 1024**2:.0f} GiB RAM"
    except (OSError, IndexError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


# TFX-shaped store -------------------------------------------------------------------------------
@dataclass
class TfxTypes:
    """Type ids of the TFX-shaped store."""

    artifact: dict[str, int] = field(default_factory=dict)
    execution: dict[str, int] = field(default_factory=dict)
    pipeline: int = 0
    run: int = 0


def put_tfx_types(store: MetadataStore) -> TfxTypes:
    """The artifact, execution and context types of a TFX pipeline."""
    t = TfxTypes()
    for name in ARTIFACT_TYPES:
        props = {"span": PropertyType.INT} if name == "Examples" else {}
        t.artifact[name] = store.put_artifact_type(ArtifactType(name, props))
    for name in EXECUTION_TYPES:
        t.execution[name] = store.put_execution_type(ExecutionType(name))
    t.pipeline = store.put_context_type(ContextType("pipeline"))
    t.run = store.put_context_type(ContextType("pipeline_run"))
    return t


@dataclass
class TfxStore:
    """What :func:`build_tfx_store` wrote."""

    runs: int
    events: int
    artifact_ids: list[int]
    model_ids: list[int]


def build_tfx_store(
    url: str, pipelines: int, runs_per_pipeline: int, *, chunk_runs: int = 2_000,
    on_chunk: Callable[[int, int], None] | None = None,
) -> TfxStore:  # fmt: skip
    """A new store at ``url`` with ``pipelines`` x ``runs_per_pipeline`` TFX runs, in bulk."""
    total = pipelines * runs_per_pipeline
    with MetadataStore(url, create=True) as store:
        types = put_tfx_types(store)
        with BulkWriter(store) as w:
            pipes = w.put_contexts(
                [Context(types.pipeline, name=f"pipeline-{p:04d}") for p in range(pipelines)]
            )
            last_model: dict[int, int] = {}
            out = TfxStore(total, 0, [], [])
            for start in range(0, total, chunk_runs):
                runs = range(start, min(start + chunk_runs, total))
                _write_runs(w, types, pipes, runs, last_model, out)
                if on_chunk:
                    on_chunk(runs.stop, total)
    return out


def _write_runs(
    w: BulkWriter, types: TfxTypes, pipes: list[int], runs: range, last_model: dict[int, int],
    out: TfxStore,
) -> None:  # fmt: skip
    n_pipes = len(pipes)
    arts: list[Artifact] = []
    execs: list[Execution] = []
    ctxs: list[Context] = []
    for g in runs:
        p, k, t = g % n_pipes, g // n_pipes, T0_MS + g * 60_000
        for name in ARTIFACT_TYPES:
            props: dict[str, Any] = {"span": k} if name == "Examples" else {}
            custom: dict[str, Any] = {"pushed": int(k % 3 == 0)} if name == "PushedModel" else {}
            arts.append(Artifact(
                types.artifact[name], uri=f"/pipelines/{p}/{name}/{k}", state=ArtifactState.LIVE,
                properties=props, custom_properties=custom, create_time_since_epoch=t,
            ))  # fmt: skip
        for i, name in enumerate(EXECUTION_TYPES):
            execs.append(Execution(
                types.execution[name], last_known_state=ExecutionState.COMPLETE,
                custom_properties={"start_time_ms": t + i * 1000, "cpu_seconds": 1.5 * (i + 1)},
                create_time_since_epoch=t,
            ))  # fmt: skip
        ctxs.append(Context(types.run, name=f"pipeline-{p:04d}-run-{k:06d}"))
    a_ids = w.put_artifacts(arts)
    e_ids = w.put_executions(execs)
    c_ids = w.put_contexts(ctxs)
    events: list[Event] = []
    attributions: list[Attribution] = []
    associations: list[Association] = []
    for j, g in enumerate(runs):
        p = g % n_pipes
        a, e = a_ids[7 * j : 7 * j + 7], e_ids[6 * j : 6 * j + 6]
        events += _run_events(a, e, last_model.get(p))
        last_model[p] = a[3]
        out.model_ids.append(a[3])
        for ctx in (pipes[p], c_ids[j]):
            attributions += [Attribution(ctx, x) for x in a]
            associations += [Association(ctx, x) for x in e]
    out.artifact_ids += a_ids
    out.events += len(events)
    w.put_events(events)
    w.put_attributions(attributions)
    w.put_associations(associations)
    nesting = [ParentContext(c, pipes[g % n_pipes]) for c, g in zip(c_ids, runs, strict=True)]
    w.put_parent_contexts(nesting)


def _run_events(a: list[int], e: list[int], baseline: int | None) -> list[Event]:
    examples, stats, schema, model, evaluation, blessing, pushed = a
    gen, sgen, schgen, trainer, evaluator, pusher = e
    inp, outp = EventType.INPUT, EventType.OUTPUT
    edges = [
        (examples, gen, outp, "examples"),
        (examples, sgen, inp, "examples"), (stats, sgen, outp, "statistics"),
        (stats, schgen, inp, "statistics"), (schema, schgen, outp, "schema"),
        (examples, trainer, inp, "examples"), (schema, trainer, inp, "schema"),
        (model, trainer, outp, "model"),
        (examples, evaluator, inp, "examples"), (model, evaluator, inp, "model"),
        (evaluation, evaluator, outp, "evaluation"), (blessing, evaluator, outp, "blessing"),
        (model, pusher, inp, "model"), (blessing, pusher, inp, "model_blessing"),
        (pushed, pusher, outp, "pushed_model"),
    ]  # fmt: skip
    if baseline is not None:
        edges.append((baseline, evaluator, inp, "baseline_model"))
    return [
        Event(art, ex, kind, (EventStep(key=key), EventStep(index=0)))
        for art, ex, kind, key in edges
    ]


# README -----------------------------------------------------------------------------------------
def rewrite_section(readme: Path, start: str, end: str, body: str) -> None:
    """Replace the text between two marker lines (appending both when missing)."""
    text = readme.read_text() if readme.exists() else ""
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    readme.write_text(text)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)
