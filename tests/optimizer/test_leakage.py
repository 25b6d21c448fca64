"""Nothing from the future reaches a decision: features and walk-forward scores of the past do not
change when everything after a cut-off (later trainings, later verdicts) is altered or removed."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
import pytest

from graphlets.optimizer.features import FEATURES, build_features
from graphlets.optimizer.predictor import Predictor
from graphlets.optimizer.trace import History
from graphlets.optimizer.walk import schedule, walk

pytestmark = pytest.mark.unit


def _cut(d: pl.DataFrame) -> int:
    return int(d["t"].quantile(0.6) or 0)


def _alter_future(d: pl.DataFrame, cut: int, seed: int = 1) -> pl.DataFrame:
    """Shuffle and rewrite everything not yet known at ``cut``: later trainings entirely (inputs,
    code, structure, outcome), and the verdicts of earlier trainings that arrive after ``cut``."""
    rng = np.random.default_rng(seed)
    later = pl.col("t") > cut
    unknown = pl.col("known").is_null() | (pl.col("known") > cut)
    flip = pl.Series(rng.integers(0, 2, d.height)).cast(pl.Int8)
    outcome = pl.when(flip == 1).then(pl.lit("pushed")).otherwise(pl.lit("unpushed"))
    return d.with_columns(
        label=pl.when(unknown).then(flip).otherwise("label"),
        outcome=pl.when(unknown).then(outcome).otherwise("outcome"),
        known=pl.when(unknown)
        .then(pl.lit(cut + 1) + pl.Series(rng.integers(0, 10**8, d.height)))
        .otherwise("known"),
        avoidable=pl.when(unknown).then(pl.lit(1e9)).otherwise("avoidable"),
        spans=pl.when(later)
        .then(pl.col("spans").list.eval(pl.element() + 1000))
        .otherwise("spans"),
        span_max=pl.when(later).then(pl.col("span_max") + 1000).otherwise("span_max"),
        code_fp=pl.when(later).then(pl.lit("changed")).otherwise("code_fp"),
        structure=pl.when(later).then(pl.lit("changed")).otherwise("structure"),
        schema_id=pl.when(later).then(pl.lit(-5)).otherwise("schema_id"),
    ).sample(fraction=1.0, shuffle=True, seed=seed)


def _past(f: pl.DataFrame, cut: int) -> pl.DataFrame:
    return f.filter(pl.col("t") <= cut).sort("gid")


def test_features_of_the_past_ignore_the_future(small_history: History) -> None:
    d = small_history.decisions
    cut = _cut(d)
    base = _past(build_features(d), cut)
    assert base.height > 100
    for seed in (1, 2):
        altered = _past(build_features(_alter_future(d, cut, seed)), cut)
        assert altered.equals(base, null_equal=True)
    dropped = d.filter(pl.col("t") <= cut).with_columns(
        label=pl.when(pl.col("known") > cut).then(None).otherwise("label"),
        known=pl.when(pl.col("known") > cut).then(None).otherwise("known"),
    )
    assert _past(build_features(dropped), cut).equals(base, null_equal=True)


def test_the_alteration_does_change_the_future(small_history: History) -> None:
    """The check above can fail: the same alteration changes features after the cut-off."""
    d = small_history.decisions
    cut = _cut(d)
    later = lambda f: f.filter(pl.col("t") > cut).sort("gid").select(FEATURES)  # noqa: E731
    assert not later(build_features(_alter_future(d, cut))).equals(later(build_features(d)))


def test_walk_forward_scores_of_the_past_ignore_future_labels(small_history: History) -> None:
    d = small_history.decisions.sort("t", "gid")
    feats = d.select("gid").join(build_features(d), on="gid", maintain_order="left")
    t = d["t"].to_numpy()
    sched = schedule(t, warmup_fraction=0.3, step_days=2.0)
    label = d["label"].fill_null(-1).to_numpy().astype(np.int64)
    known = d["known"].cast(pl.Float64).fill_null(np.inf).to_numpy()
    cut = _cut(d)
    log: list[tuple[np.ndarray, np.ndarray]] = []
    first = walk(feats, label, known, sched, lambda: _Recording(log), min_train=10)
    row = {g: i for i, g in enumerate(d["gid"].to_list())}
    assert len(log) > 3
    for trained, tested in log:  # train and test never overlap in time
        train_known = known[[row[g] for g in trained]]
        test_start = t[[row[g] for g in tested]]
        assert train_known.size == 0 or train_known.max() <= test_start.min()
    rng = np.random.default_rng(3)
    future = known > cut
    label2 = np.where(future & (label >= 0), rng.integers(0, 2, len(label)), label)
    second = walk(feats, label2, known, sched, lambda: Predictor("lightgbm"), min_train=10)
    past = (t < cut) & (first.step >= 0)
    assert past.sum() > 50
    np.testing.assert_array_equal(first.raw[past], second.raw[past])
    np.testing.assert_array_equal(first.p[past], second.p[past])
    assert not np.array_equal(first.raw[~past & (first.step >= 0)],
                              second.raw[~past & (first.step >= 0)])  # fmt: skip


class _Recording(Predictor):
    """A LightGBM predictor that remembers what it was fitted on and what it was asked about."""

    def __init__(self, log: list[tuple[np.ndarray, np.ndarray]]) -> None:
        super().__init__("lightgbm")
        self.log, self.trained = log, np.zeros(0, dtype=np.int64)

    def fit(self, frame: pl.DataFrame, y: Sequence[int] | np.ndarray) -> Predictor:
        self.trained = frame["gid"].to_numpy()
        return super().fit(frame, y)

    def raw(self, frame: pl.DataFrame) -> np.ndarray:
        self.log.append((self.trained, frame["gid"].to_numpy()))
        return super().raw(frame)
