"""The pipeline page's timeline: runs and graphlets as bars on one time axis, coloured by outcome.

Laid out here, in Python, as plain coordinates: the template draws them as SVG rectangles, so the
timeline needs no script and its geometry is testable. A graphlet's bar runs from its training to
its last step (evaluation, push); bars that overlap in time are packed into a few lanes, first fit.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

WIDTH = 1000
BAR = 14
GAP = 4
MAX_LANES = 6
TICKS = 6


def run_status(run: dict[str, Any]) -> str:
    """What colours a run: its graphlets' best outcome, else its executions' states."""
    outcomes = set(run.get("outcomes", []))
    states = run.get("executions_by_state", {})
    if "pushed" in outcomes or run.get("pushed"):
        return "pushed"
    if states.get("RUNNING") or states.get("NEW"):
        return "running"
    if "failed" in outcomes or states.get("FAILED"):
        return "failed"
    if "unpushed" in outcomes:
        return "unpushed"
    if "pending" in outcomes:
        return "pending"
    return "complete"


def timeline(runs: list[dict[str, Any]], graphlets: list[dict[str, Any]]) -> dict[str, Any]:
    """Bars for ``runs`` (one lane) and ``graphlets`` (packed lanes) on a shared time scale."""
    spans = [(r["start_ms"], r["end_ms"]) for r in runs if r.get("start_ms") is not None]
    spans += [(_g_start(g), g["end_ms"]) for g in graphlets if _g_start(g) is not None]
    if not spans:
        return {"width": WIDTH, "height": 0, "runs": [], "graphlets": [], "ticks": []}
    t0 = float(min(s for s, _ in spans))
    t1 = float(max(max(e or s for s, e in spans), t0 + 1))

    def x(t: float) -> float:
        return round((float(t) - t0) / (t1 - t0) * WIDTH, 1)

    run_bars = [
        _bar(x(r["start_ms"]), x(r["end_ms"] or r["start_ms"]), 20, run_status(r), r)
        for r in runs
        if r.get("start_ms") is not None
    ]
    lanes: list[float] = []
    g_bars = []
    for g in sorted(graphlets, key=lambda g: _g_start(g) or 0):
        start = _g_start(g)
        if start is None:
            continue
        x0, x1 = x(start), x(max(g["end_ms"] or start, start))
        lane = _lane(lanes, x0, x1)
        g_bars.append(_bar(x0, x1, 60 + lane * (BAR + GAP), str(g["outcome"]), g))
    height = 60 + max(len(lanes), 1) * (BAR + GAP) + 20
    return {
        "width": WIDTH,
        "height": height,
        "runs": run_bars,
        "graphlets": g_bars,
        "ticks": _ticks(t0, t1, x),
    }


def _g_start(g: dict[str, Any]) -> Any:
    """Where a graphlet's bar starts: its training, not its oldest shared input (a schema from
    day one would stretch every bar across the whole timeline)."""
    return g.get("anchor_start_ms") if g.get("anchor_start_ms") is not None else g.get("start_ms")


def _lane(lanes: list[float], x0: float, x1: float) -> int:
    """First lane whose last bar ends before ``x0``; a new lane, or the last one when full."""
    for i, end in enumerate(lanes):
        if end < x0:
            lanes[i] = x1
            return i
    if len(lanes) < MAX_LANES:
        lanes.append(x1)
        return len(lanes) - 1
    lanes[-1] = max(lanes[-1], x1)
    return len(lanes) - 1


def _bar(x0: float, x1: float, y: int, status: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "x": x0,
        "y": y,
        "w": max(x1 - x0, 3.0),
        "h": BAR,
        "status": status,
        "url": item.get("url"),
        "title": f"{item['id']} {status}",
    }


def _ticks(t0: float, t1: float, x: Any) -> list[dict[str, Any]]:
    step = (t1 - t0) / (TICKS - 1)
    out = []
    for i in range(TICKS):
        t = t0 + i * step
        label = datetime.fromtimestamp(t / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")
        out.append({"x": x(t), "label": label})
    return out
