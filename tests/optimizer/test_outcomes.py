"""The replay's figures for a given set of skipped trainings, against numbers worked out by hand."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from graphlets.optimizer.outcomes import realised

pytestmark = pytest.mark.unit
H = 3_600_000


def _table() -> pl.DataFrame:
    """Series a: pushes at 1h (before the period), 11h, 31h, 41h; an unpushed one at 21h.
    Series b: unpushed at 13h, failed at 23h, pushed at 33h, pending at 42h."""
    rows = [
        # gid, series, t (h), known (h), outcome, waste, avoidable
        (1, "a", 0, 1, "pushed", 0.0, 5.0),
        (2, "a", 10, 11, "pushed", 0.0, 5.0),
        (3, "a", 20, 21, "unpushed", 8.0, 5.0),
        (4, "a", 30, 31, "pushed", 0.0, 5.0),
        (5, "a", 40, 41, "pushed", 0.0, 5.0),
        (6, "b", 12, 13, "unpushed", 6.0, 4.0),
        (7, "b", 22, 23, "failed", 6.0, 2.0),
        (8, "b", 32, 33, "pushed", 0.0, 4.0),
        (9, "b", 42, None, "pending", 0.0, 4.0),
    ]
    frame = pl.DataFrame(
        rows, schema=["gid", "series", "t", "known", "outcome", "waste", "avoidable"], orient="row"
    )
    return frame.with_columns(
        t=pl.col("t") * H,
        known=pl.col("known") * H,
        label=pl.when(pl.col("outcome") == "pending")
        .then(None)
        .otherwise((pl.col("outcome") == "pushed").cast(pl.Int8)),
    )


def test_figures_by_hand() -> None:
    d = _table()
    evaluated = (d["t"] >= 10 * H).to_numpy()
    skip = d["gid"].is_in([2, 3, 7, 9]).to_numpy()
    r = realised(d, evaluated, skip, total_cost=100.0, period=(10 * H, 50 * H))
    assert r["skipped"] == 4 and r["skip_rate"] == pytest.approx(4 / 8)
    assert r["waste_saved_fraction"] == pytest.approx((8 + 6) / 20)  # of 8 + 6 + 6
    assert r["avoidable_waste_saved_fraction"] == pytest.approx((5 + 2) / 20)
    assert r["compute_saved_fraction"] == pytest.approx((5 + 5 + 2 + 4) / 100)
    assert r["pushes_missed"] == 1 and r["pushes_missed_fraction"] == pytest.approx(1 / 4)
    # The push missed at 11h is made good by the push at 31h: delayed 20h. Meanwhile series a
    # serves the model pushed at 1h instead of 11h: 10h older for 20h; series a is watched for
    # 40h of the period (10h..50h) and series b for 17h (from its push at 33h).
    assert r["pushes_delayed"] == 1 and r["pushes_lost"] == 0
    assert r["delay_hours"] == {"mean": 20.0, "max": 20.0}
    assert r["staleness_increase_hours"]["max"] == pytest.approx(10.0)
    assert r["staleness_increase_hours"]["mean"] == pytest.approx(10 * 20 / (40 + 17))


def test_a_lost_push_and_no_pruning() -> None:
    d = _table()
    evaluated = (d["t"] >= 10 * H).to_numpy()
    lost = realised(d, evaluated, d["gid"].is_in([5]).to_numpy(), 100.0, (10 * H, 50 * H))
    assert lost["pushes_delayed"] == 0 and lost["pushes_lost"] == 1
    assert lost["staleness_increase_hours"]["max"] == pytest.approx(10.0)  # 41h vs 31h
    none = realised(d, evaluated, np.zeros(d.height, dtype=bool), 100.0, (10 * H, 50 * H))
    assert none["waste_saved_fraction"] == 0.0 and none["pushes_missed_fraction"] == 0.0
    assert none["staleness_increase_hours"] == {"mean": 0.0, "max": 0.0}
