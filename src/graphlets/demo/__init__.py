"""The demo main job (README command 1): a real continuous-training pipeline over drifting spans.

``run_demo(folder)`` writes seeded daily span files (:mod:`graphlets.demo_data`: a schema break, a
missing-value spike, concept drift, a code change, each on a known span), then runs the standard
pipeline (:func:`graphlets.components.continuous_training`) span by span with the runner, into
an embedded SQLite store in ``folder``. Around each run, as a production system would: the staged
rollout moves pushed versions through shadow and canary on the span's traffic, and the monitor
serves the production model and measures it when the labels arrive ``label_delay`` spans later,
alerting once per incident. Every number of the returned report is read back from the store.

Span time: the 90 spans run in a minute, but each is recorded at its own day (a
:class:`~graphlets.pipeline.clock.SpanClock`: span ``d`` at day ``d`` after ``epoch_ms``, by default
so that the last span is today), with durations as measured. Executions, runs, registry changes
and alerts all carry that time, so the report, the timeline and the pruning gate read like 90 days
of operation. Leases and cache ages keep the wall clock.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from graphlets.components import continuous_training, registry_hook, transform
from graphlets.components.monitoring import AlertRule, Monitor
from graphlets.components.rollout import StagedRollout
from graphlets.demo.data import LABEL, Incidents, write_spans
from graphlets.demo.history import record_history
from graphlets.demo.report import summarize
from graphlets.errors import WouldOverwriteError
from graphlets.pipeline import Pipeline, Runner
from graphlets.pipeline.clock import SpanClock
from graphlets.pipeline.session import plain_hooks
from graphlets.registry import ModelRegistry
from graphlets.store import MetadataStore
from graphlets.store.blobs import BlobStore, default_blob_url

__all__ = ["MARKER", "MODEL", "PIPELINE", "demo_store_url", "prepare_folder", "record_history"]
__all__ += ["run_demo"]

MODEL = "churn"
PIPELINE = "churn-ct"
LOST_FEATURES = ["monthly_charges", "tenure_months"]
MARKER = ".graphlets-demo"
Advance = Callable[[str, int, int], None]


def demo_store_url(folder: Path) -> str:
    """The embedded SQLite store inside the demo folder."""
    return f"sqlite:///{folder.resolve() / 'store.sqlite'}"


def prepare_folder(folder: Path, force: bool = False) -> None:
    """Empty the demo's own files from ``folder`` and mark it as a demo folder.

    Only a folder that is missing, empty or marked by an earlier demo (:data:`MARKER`) is
    reused; anything else (``~/.graphlets``, a project folder) is refused unless ``force``, so
    the demo never deletes files it did not write.
    """
    if folder.exists() and not folder.is_dir():
        raise WouldOverwriteError(f"demo folder {folder} is a file: pass --dir a folder")
    marked = (folder / MARKER).is_file()
    if folder.exists() and not force and not marked and any(folder.iterdir()):
        raise WouldOverwriteError(
            f"demo folder {folder} is not empty and holds no earlier demo (no {MARKER} "
            "file): choose a new --dir, or pass --force to replace its store.sqlite, "
            "blobs/ and data/"
        )
    _reset(folder)
    (folder / MARKER).write_text("written by `graphlets demo`; the next demo may replace this\n")


def _reset(folder: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        (folder / f"store.sqlite{suffix}").unlink(missing_ok=True)
    for sub in ("blobs", "data"):
        shutil.rmtree(folder / sub, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)


def pipelines(data: Path) -> tuple[Pipeline, Pipeline]:
    """The normal pipeline and the one with the code change (a transform refactor that lost two
    features; its version bump changes the code fingerprint)."""
    spans = str(data / "span-{span}.csv")
    params = {"evaluator.slice_by": ["region", "plan"], "evaluator.max_auc_drop": 0.002}
    good = continuous_training(PIPELINE, spans, model_name=MODEL, params=params)
    refactor = transform.configure(version="2-refactor", params={"drop_features": LOST_FEATURES})
    bad = continuous_training(
        PIPELINE, spans, model_name=MODEL, params=params, transform_component=refactor
    )
    return good, bad


def run_demo(
    folder: Path,
    spans: int = 90,
    rows: int = 2000,
    *,
    seed: int = 7,
    label_delay: int = 3,
    replay: bool = True,
    advance: Advance | None = None,
    alert_sink: Callable[[str], None] | None = None,
    epoch_ms: int | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Run the demo into ``folder`` (replacing an earlier demo there, see
    :func:`prepare_folder`); returns the report.

    ``epoch_ms`` is the time of span 0 (default: ``spans`` days before today's midnight, UTC).
    """
    prepare_folder(folder, force)
    clock = SpanClock(epoch_ms) if epoch_ms is not None else SpanClock.ending_today(spans)
    incidents = Incidents.scaled(spans)
    data = folder / "data"
    tick = advance or (lambda _stage, _done, _total: None)
    write_spans(data, spans, rows, seed, incidents)
    url = demo_store_url(folder)
    good, bad = pipelines(data)
    alerts: list[str] = []

    def sink(message: str) -> None:
        alerts.append(message)
        if alert_sink is not None:
            alert_sink(message)

    with MetadataStore(url, create=True) as store:
        blobs = BlobStore(default_blob_url(url))
        registry = ModelRegistry(store, who="demo", clock=clock.now_ms)
        rollout = StagedRollout(registry, MODEL, blobs, label=LABEL)
        rules = (
            AlertRule("auc_low", "auc", "<", 0.72),
            AlertRule("serving_skew", "skewed_features", ">", 0.0),
        )
        monitor = Monitor(
            rollout, label_delay=label_delay, rules=rules, sink=sink, clock=clock.now_ms
        )
        hooks = plain_hooks()
        hooks.register(registry_hook)
        runner: Runner | None = None
        current: Pipeline | None = None
        try:
            for span in range(1, spans + 1):
                wanted = bad if incidents.code_change <= span < incidents.code_fix else good
                if wanted is not current:
                    if runner is not None:
                        runner.close()
                    runner = Runner(store, wanted, blobs=blobs, hooks=hooks, clock=clock)
                    current = wanted
                    runner.open()
                clock.begin_run(span)  # rollout and monitoring happen on the span's day too
                traffic = pl.read_csv(data / f"span-{span}.csv")
                rollout.advance(span, traffic)
                monitor.serve(span, traffic)
                monitor.labels_arrive(span)
                assert runner is not None
                runner.run(span)
                tick("spans", span, spans)
        finally:
            if runner is not None:
                runner.close()
        report = summarize(store, MODEL, incidents, replay=replay, progress=tick)
    report["store"] = url
    report["data"] = str(data)
    report["alerts_sent"] = monitor.alerts_sent
    report["alert_messages"] = alerts
    return report
