"""The pipeline timeline's geometry (:mod:`graphlets.web.timeline`)."""

from __future__ import annotations

import pytest

from graphlets.web.timeline import MAX_LANES, WIDTH, run_status, timeline

pytestmark = pytest.mark.unit
H = 3_600_000


def test_runs_and_graphlets_share_one_time_axis() -> None:
    runs = [
        {
            "id": f"context:{i}",
            "start_ms": i * H,
            "end_ms": i * H + H // 2,
            "pushed": i % 2,
            "executions_by_state": {"COMPLETE": 3},
            "url": f"/runs/{i}",
        }
        for i in range(4)
    ]
    graphlets = [
        {
            "id": "graphlet:9",
            "start_ms": 0,
            "anchor_start_ms": 2 * H,
            "end_ms": 2 * H + 10,
            "outcome": "unpushed",
            "url": "/graphlets/9",
        }
    ]
    t = timeline(runs, graphlets)
    assert [b["x"] for b in t["runs"]] == pytest.approx([i / 3.5 * WIDTH for i in range(4)], 0.01)
    assert max(b["x"] + b["w"] for b in t["runs"]) == pytest.approx(WIDTH)
    assert [b["status"] for b in t["runs"]] == ["complete", "pushed", "complete", "pushed"]
    [g] = t["graphlets"]
    assert g["status"] == "unpushed" and g["x"] == pytest.approx(2 * H / (3.5 * H) * WIDTH, 0.01)
    assert t["ticks"][0]["label"] == "1970-01-01 00:00"


def test_overlapping_graphlets_stack_into_bounded_lanes() -> None:
    gs = [
        {"id": f"graphlet:{i}", "start_ms": 0, "end_ms": 100, "outcome": "pushed"}
        for i in range(MAX_LANES + 3)
    ]
    t = timeline([], gs)
    assert len({b["y"] for b in t["graphlets"]}) == MAX_LANES


def test_run_status_prefers_pushes_then_running_then_failures() -> None:
    assert run_status({"outcomes": ["unpushed", "pushed"]}) == "pushed"
    assert run_status({"executions_by_state": {"RUNNING": 1}}) == "running"
    assert run_status({"executions_by_state": {"FAILED": 1}}) == "failed"
    assert run_status({"outcomes": ["pending"]}) == "pending"
    assert timeline([], [])["runs"] == []
