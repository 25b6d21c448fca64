"""The replay on a small simulated trace, recomputed by hand: thresholds from past pushes only,
skips, and the realised figures."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binom

from graphlets.errors import InvalidArgumentError
from graphlets.optimizer.evidence import Evidence
from graphlets.optimizer.features import FEATURES
from graphlets.optimizer.replay import (
    ModelReplay,
    ReplayConfig,
    evaluate,
    prepare,
    replay_model,
)
from graphlets.optimizer.trace import History
from graphlets.store import MetadataStore

pytestmark = pytest.mark.unit


def _reference_skips(m: ModelReplay, budget: float, alpha: float) -> list[bool]:
    """The gate's skips recomputed row by row (evidence counts off): per step and pipeline, the
    conformal threshold over the pipeline's past out-of-sample push scores at the level the
    pooled backtest allows, the pipeline's own backtest, and the pooled minimum."""
    r, d = m.r, m.r.d.to_dicts()
    step, start, good = m.scores.step, m.scores.step_start, m.scores.calibrated
    assert good is not None
    names = [row["pipeline"] for row in d]
    row_thr: dict[int, float] = {}
    missed: set[int] = set()
    skip = [False] * len(d)
    for k, t0 in enumerate(start):
        rows = [i for i in range(len(d)) if step[i] == k]
        past = [i for i, row in enumerate(d) if row["label"] == 1 and row["known"] is not None
                and row["known"] <= t0 and step[i] >= 0 and good[step[i]]
                and math.isfinite(m.ranking[i])]  # fmt: skip
        tested = [i for i in past if i in row_thr]
        failed = set()
        for p in set(names):
            mine = [i for i in tested if names[i] == p]
            misses = sum(i in missed for i in mine)
            if misses and binom.sf(misses - 1, len(mine), budget) < alpha:
                failed.add(p)
        pool = [i for i in tested if names[i] not in failed]
        rate = sum(i in missed for i in pool) / len(pool) if pool else 0.0
        level = budget if rate <= budget else budget * budget / rate
        for p in {names[i] for i in rows}:
            scores = sorted(m.ranking[i] for i in past if names[i] == p)
            rank = math.floor(level * (len(scores) + 1) + 1e-9)
            thr = scores[rank - 1] if good[k] and rank >= 1 else None
            ok = thr is not None and p not in failed and len(pool) >= math.ceil(1 / budget - 1)
            for i in rows:
                if names[i] != p or thr is None:
                    continue
                row_thr[i] = thr
                if d[i]["label"] == 1 and m.ranking[i] < thr:
                    missed.add(i)
                skip[i] = bool(ok and r.evaluated[i] and m.ranking[i] < thr)
    return skip


@pytest.mark.parametrize("mode", ["probability", "cost"])
def test_operating_point_matches_a_hand_computed_replay(small_history: History, mode: str) -> None:
    ev = Evidence(min_trainings=0, min_pushes=0, shift_alpha=0.0)
    cfg = ReplayConfig(max_pushes_missed=0.05, mode=mode, baselines=False, oracle=False,  # type: ignore[arg-type]
                       evidence=ev)  # fmt: skip
    r = prepare(small_history, cfg)
    m = replay_model(r, "lightgbm", r.feats, FEATURES)
    d = r.d.to_dicts()
    skip = _reference_skips(m, 0.05, cfg.evidence.alpha)
    assert skip == m.skip.tolist()
    assert sum(skip) > 0
    ev = [i for i in range(len(d)) if r.evaluated[i]]
    waste = sum(d[i]["waste"] for i in ev)
    pushed = [i for i in ev if d[i]["label"] == 1]
    report = m.report
    assert report["waste_saved_fraction"] == pytest.approx(
        sum(d[i]["waste"] for i in ev if skip[i]) / waste
    )
    assert report["pushes_missed_fraction"] == pytest.approx(
        sum(skip[i] for i in pushed) / len(pushed)
    )
    assert report["compute_saved_fraction"] == pytest.approx(
        sum(d[i]["avoidable"] for i in ev if skip[i]) / r.total_cost
    )
    assert report["precision"] == pytest.approx(
        sum(skip[i] and d[i]["label"] == 0 for i in ev)
        / sum(skip[i] for i in ev if d[i]["label"] is not None)
    )
    assert 0.5 < report["auc"] < 1.0


def test_evaluate_reports_the_tradeoff(small_trace: str, tmp_path: Path) -> None:
    png = tmp_path / "curve.png"
    with MetadataStore(small_trace) as store:
        report = evaluate(store, max_pushes_missed=0.02, plot=png)
    json.dumps(report)  # JSON-ready
    for key in ("waste_saved_fraction", "compute_saved_fraction", "pushes_missed_fraction",
                "threshold", "pushes_delayed", "staleness_increase_hours", "auc"):  # fmt: skip
        assert key in report
    assert set(report["baselines"]) >= {
        "no_pruning",
        "random_same_rate",
        "logistic",
        "skip_when_no_new_data",
    }
    assert report["baselines"]["no_pruning"]["waste_saved_fraction"] == 0.0
    rnd = report["baselines"]["random_same_rate"]
    assert rnd["waste_saved_fraction"] == pytest.approx(report["skip_rate"])
    assert report["oracle"] is not None and "sim_drift" in report["oracle"]["causes"]
    assert not {"sim_score", "sim_outcome", "sim_cause"} & set(report["oracle"]["causes"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    sweep = report["sweep"]
    assert [s["threshold"] for s in sweep] == sorted(s["threshold"] for s in sweep)
    missed = [s["pushes_missed_fraction"] for s in sweep]
    assert missed == sorted(missed)  # a higher threshold skips more
    assert report["period"]["graphlets"] > 300
    assert report["definitions"]["waste_saved_fraction"].startswith("waste of skipped")


def test_replay_needs_a_history(tmp_path: Path) -> None:
    with MetadataStore(f"sqlite:///{tmp_path / 'empty.sqlite'}", create=True) as store:
        with pytest.raises(InvalidArgumentError, match="fewer than 2 with a known outcome"):
            evaluate(store)
    with pytest.raises(InvalidArgumentError, match="max-pushes-missed"):
        ReplayConfig(max_pushes_missed=1.5)


def test_rows_before_the_evaluated_period_are_never_skipped(small_history: History) -> None:
    r = prepare(small_history, ReplayConfig(baselines=False, oracle=False))
    m = replay_model(r, "logistic", r.feats, FEATURES)
    assert not m.skip[~r.evaluated].any()
    assert np.isnan(m.scores.p[r.d["t"].to_numpy() < r.sched.start]).all()
