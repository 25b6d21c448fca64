"""The evaluator compares every slice with the production model on the same slice."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import polars as pl
import pytest
from tests.components.conftest import SmallRun

from graphlets.components.evaluator import SliceLimits, compact_checks, judge, score
from graphlets.pipeline.runs import check_lines, show_run

pytestmark = pytest.mark.unit


class Scorer:
    """Predicts from one column; on ``bad_region`` from another (a hidden regression)."""

    def __init__(self, column: str, bad_region: str | None = None) -> None:
        self.graphlets_meta = {"features": ["region", "good", "okay", "junk"]}
        self.column, self.bad_region = column, bad_region

    def predict_proba(self, frame: pl.DataFrame) -> np.ndarray:
        p = frame[self.column].to_numpy().astype(float)
        if self.bad_region is not None:
            bad = frame["region"].to_numpy() == self.bad_region
            p = np.where(bad, frame["junk"].to_numpy(), p)
        return np.column_stack([1 - p, p])


def _rows(seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    regions = ["north"] * 400 + ["south"] * 400 + ["east"] * 400 + ["west"] * 400 + ["tiny"] * 30
    y = rng.integers(0, 2, len(regions))
    return pl.DataFrame(
        {
            "region": regions,
            "good": np.clip(y * 0.6 + rng.normal(0.2, 0.15, len(y)), 0, 1),  # AUC ~0.99
            "okay": np.clip(y * 0.2 + rng.normal(0.4, 0.2, len(y)), 0, 1),  # AUC ~0.75
            "junk": rng.random(len(y)),  # AUC ~0.5
            "churned": y,
        }
    )


def _judge(cand: Any, base: Any, df: pl.DataFrame) -> dict[str, Any]:
    return judge(cand, base, df, "churned", ["region"], 0.6, 0.0, SliceLimits(100, 0.4, 0.02))


def test_better_overall_but_worse_on_one_slice_is_not_blessed() -> None:
    df = _rows()
    cand, prod = Scorer("good", bad_region="south"), Scorer("okay")
    assert score(cand, df, "churned")["auc"] > score(prod, df, "churned")["auc"] + 0.05
    result = _judge(cand, prod, df)
    verdicts = {c["check"]: c["verdict"] for c in result["checks"]}
    assert verdicts["auc_vs_baseline"] == "passed"
    assert verdicts["auc_vs_baseline[region=south]"] == "failed"
    assert verdicts["auc[region=south]"] == "passed"  # 0.5 clears the absolute floor of 0.4
    assert verdicts["auc_vs_baseline[region=north]"] == "passed"
    assert verdicts["auc[region=tiny]"] == "skipped"  # 30 rows: too small to judge
    assert "auc_vs_baseline[region=tiny]" not in verdicts
    assert not result["blessed"]
    lines = check_lines(json.loads(compact_checks(result["checks"])))
    assert lines[0].startswith("1 failed") and "passed" in lines[0]
    assert any(ln.startswith("failed: auc_vs_baseline[region=south] (0.") for ln in lines)
    assert any(ln.startswith("skipped: auc[region=tiny]") and "30 rows" in ln for ln in lines)
    assert set(result["baseline_slices"]) == {"region=north", "region=south", "region=east",
                                              "region=west"}  # fmt: skip


def test_better_on_every_slice_is_blessed_and_without_production_only_floors_apply() -> None:
    df = _rows()
    assert _judge(Scorer("good"), Scorer("okay"), df)["blessed"]
    alone = _judge(Scorer("good", bad_region="south"), None, df)
    assert alone["blessed"] and not any("vs_baseline" in c["check"] for c in alone["checks"])


def test_compact_checks_fit_a_property() -> None:
    checks = [{"check": f"auc[f={i}]", "verdict": "passed", "value": 0.7, "threshold": 0.5}
              for i in range(300)]  # fmt: skip
    checks.append({"check": "auc[f=bad]", "verdict": "failed", "value": 0.4, "threshold": 0.5})
    text = compact_checks(checks)
    rows = json.loads(text)
    assert len(text) <= 1500 and rows[0]["check"] == "auc[f=bad]"
    assert rows[-1] == {"check": "*", "verdict": "passed", "count": 300}


def test_runs_show_lists_the_evaluators_checks(small_run: SmallRun) -> None:
    run = small_run.results[max(small_run.results)]
    doc = show_run(small_run.store, f"run:{run.run_id}")
    [ev] = [e for e in doc["executions"] if e["node"] == "evaluator"]
    names = {c["check"] for c in ev["checks"]}
    assert "auc" in names and any(n.startswith("auc_vs_baseline[region=") for n in names)
    blessing = small_run.store.get_artifacts_by_type("ModelBlessing")[-1]
    assert json.loads(str(blessing.custom_properties["checks"]))
