"""The pipeline analytics report of any store: ``report.json``, figures, ``report.html``.

:func:`compute_report` loads the store once (:func:`graphlets.analytics.data.load_report_data`),
computes every section as plain numbers, and :func:`build_report` writes them with the figures and
the page. Works on any MLMD store: simulated, the demo's, or one written by TFX; sections whose
inputs are missing (no node contexts, no spans, no blessings) report zeros rather than failing.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from graphlets.analytics.components import component_section, compute_section
from graphlets.analytics.data import ReportData, StageFn, _quiet, load_report_data
from graphlets.analytics.figures import draw_figures
from graphlets.analytics.fleet import fleet_section, pipeline_table
from graphlets.analytics.graphlet_stats import outcome_section, overlap_section, size_section
from graphlets.analytics.html import render_html
from graphlets.analytics.stats import rounded
from graphlets.errors import InvalidArgumentError
from graphlets.lineage import GraphletConfig
from graphlets.store import MetadataStore

DEFINITIONS = (
    "A model graphlet is a completed training (an execution that output a Model) with the "
    "executions upstream of it (back to ingest, not through earlier models) and downstream of it "
    "(evaluation, validation, push). It is pushed when a PushedModel descends from it and does "
    "not say pushed = 0, unpushed when evaluation and push completed without a push, failed when a "
    "step after the training failed, pending otherwise. Waste is the cost of unpushed and failed "
    "graphlets, with the cost of shared upstream executions split among the graphlets that share "
    "them. See docs/concepts/graphlets.md and docs/concepts/simulator.md."
)


@dataclass(frozen=True)
class Report:
    """Where a built report is and what it says."""

    folder: Path
    html: Path
    json: Path
    figures: list[str]
    data: dict[str, Any]


def compute_report(
    store: MetadataStore, config: GraphletConfig | None = None, progress: StageFn = _quiet
) -> dict[str, Any]:
    """Every number of the report, as one JSON-ready dict."""
    t0 = time.perf_counter()
    data = load_report_data(store, config, progress)
    t1 = time.perf_counter()
    sections: dict[str, Any] = {}
    progress("pipelines", 0)
    pipes = pipeline_table(data)
    sections["fleet"] = fleet_section(pipes)
    for name, fn in (
        ("components", component_section),
        ("compute", compute_section),
        ("graphlets", size_section),
        ("overlap", overlap_section),
        ("outcomes", outcome_section),
    ):
        progress(name, 0)
        sections[name] = fn(data)
    return {
        "store": store.url.redacted(),
        "generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "headline": _headline(data, sections),
        **sections,
        "pipelines": _pipeline_rows(pipes),
        "definitions": DEFINITIONS,
        "seconds": {
            **data.seconds,
            "analyse": round(time.perf_counter() - t1, 3),
            "total": round(time.perf_counter() - t0, 3),
        },
    }


def build_report(
    store: MetadataStore,
    out: str | Path,
    config: GraphletConfig | None = None,
    progress: StageFn = _quiet,
) -> Report:
    """Write ``out/report.json``, the figures and ``out/report.html``."""
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise InvalidArgumentError(f"report folder {folder} is a file: pass a folder path")
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    data = compute_report(store, config, progress)
    progress("figures", 0)
    figures = draw_figures(data, folder)
    data["figures"] = figures
    data["seconds"]["figures"] = round(time.perf_counter() - t0 - data["seconds"]["total"], 3)
    progress("html", 0)
    html = folder / "report.html"
    html.write_text(render_html(data, figures), encoding="utf-8")
    path = folder / "report.json"
    path.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
    return Report(folder, html, path, figures, data)


def _headline(data: ReportData, s: dict[str, Any]) -> dict[str, Any]:
    ex = data.executions
    span = ex.select(pl.col("end_ms").max() - pl.col("start_ms").min()).item() if ex.height else 0
    days = float(span or 0) / 86_400_000
    o = s["outcomes"]
    return {
        "pipelines": s["fleet"]["pipelines"],
        "models": o["graphlets"],
        "executions": ex.height,
        "days": rounded(days),
        "push_rate": o["push_rate"],
        "unpushed_share": o["unpushed_share"],
        "waste_fraction": o["waste_fraction"],
        "waste_share_by_cause": {c: v["share_of_waste"] for c, v in o["waste_by_cause"].items()},
        "cost_source": list(s["compute"]["cost_source"]),
    }


def _pipeline_rows(pipes: pl.DataFrame) -> list[dict[str, Any]]:
    cols = ["pipeline", "lifespan_days", "runs", "gap_hours", "frequency", "models", "pushed",
            "decided"]  # fmt: skip
    rows = pipes.select(cols).with_columns(pl.col("lifespan_days", "gap_hours").round(3))
    return rows.sort("pipeline").to_dicts()
