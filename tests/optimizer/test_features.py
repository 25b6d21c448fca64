"""Decision facts and features on a hand-built history, checked against hand-computed values."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from graphlets.optimizer.features import FEATURES, build_features
from graphlets.optimizer.payloads import StatsReader, columns, distance
from graphlets.optimizer.trace import History, load_history
from graphlets.store import MetadataStore
from tests.optimizer.scenario import DAY, DAYS, HOUR, T0, Built, build

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def scenario() -> Iterator[tuple[History, Built, pl.DataFrame]]:
    with MetadataStore("sqlite://", create=True) as store:
        built = build(store, DAYS)
        history = load_history(store)
    feats = build_features(history.decisions)
    yield history, built, feats


def _row(feats: pl.DataFrame, gid: int) -> dict[str, float]:
    return feats.filter(pl.col("gid") == gid).row(0, named=True)


def test_decision_facts(scenario: tuple[History, Built, pl.DataFrame]) -> None:
    history, built, _ = scenario
    d = history.decisions.sort("t")
    assert d["gid"].to_list() == built.trainers
    assert d["t"].to_list() == built.starts
    assert d["known"].to_list() == built.decided
    assert d["outcome"].to_list() == ["pushed", "unpushed", "unpushed", "pushed", "pushed",
                                      "pending"]  # fmt: skip
    assert d["label"].to_list() == [1, 0, 0, 1, 1, None]
    # The window is what the Trainer read (span 0 behind the schema is not part of it).
    assert d["spans"].to_list() == [[0], [0, 1], [1, 2], [2, 3], [3, 4], [4, 5]]
    assert d["series"].unique().to_list() == ["p.Trainer"]
    assert d["avoidable"].to_list()[:2] == [13.5, 13.5]  # trainer 10 + evaluator 3 + pusher 0.5
    codes = d["code_fp"].to_list()
    assert codes[0] == codes[3] != codes[4] == codes[5]
    structure = d["structure"].to_list()
    # Day 0 also ran SchemaGen; day 3 on add a Transform: both are structures of their own.
    assert structure[0] != structure[1] == structure[2] != structure[3] == structure[4]


def test_features_by_hand(scenario: tuple[History, Built, pl.DataFrame]) -> None:
    _, built, feats = scenario
    g = built.trainers
    first = _row(feats, g[0])
    assert first["ever_pushed"] == 0 and first["n_decided"] == 0
    assert math.isnan(first["hours_since_push"]) and math.isnan(first["hours_since_prev"])

    day1 = _row(feats, g[1])
    assert day1["hours_since_push"] == pytest.approx((DAY + HOUR - (3 * HOUR + 600_000)) / HOUR)
    assert day1["overlap_prev"] == pytest.approx(1 / 2)
    assert day1["new_frac_push"] == pytest.approx(1 / 2)
    assert day1["push_rate_all"] == 1.0

    # Day 2's verdict is only known on day 3 at 02:00, after day 3's trainer started (01:00).
    day3 = _row(feats, g[3])
    assert day3["undecided_prev"] == 1.0
    assert day3["n_decided"] == 2.0
    assert day3["push_rate_all"] == pytest.approx(0.5)
    assert day3["unpushed_streak"] == 1.0
    assert day3["structure_changed_prev"] == 1.0 and day3["structure_changed_push"] == 1.0
    assert day3["spans_since_push"] == 3.0 and day3["trainings_since_push"] == 2.0
    assert day3["push_rate_same_code"] == pytest.approx(0.5) and day3["n_same_code"] == 2.0

    day4 = _row(feats, g[4])
    assert day4["undecided_prev"] == 0.0
    assert day4["n_decided"] == 4.0 and day4["unpushed_streak"] == 0.0
    assert day4["last_pushed"] == 1.0 and day4["push_rate_all"] == pytest.approx(0.5)
    assert day4["code_changed_prev"] == 1.0 and day4["code_changed_push"] == 1.0
    assert day4["structure_changed_prev"] == 0.0 and day4["trainings_since_push"] == 0.0
    assert day4["overlap_prev"] == pytest.approx(1 / 3) and day4["new_spans_prev"] == 1.0
    assert day4["no_new_data"] == 0.0
    assert day4["hours_since_push"] == pytest.approx((DAY + HOUR - 3 * HOUR - 600_000) / HOUR)
    assert day4["min_push_gap_h"] == pytest.approx(3 * 24.0)
    assert day4["cost_est"] == pytest.approx(13.5)
    assert day4["pipeline_age_days"] == pytest.approx((4 * DAY + HOUR) / DAY)
    # The first training of code v2 has no verdict of its version yet; the next one has one.
    assert day4["n_same_code"] == 0.0 and math.isnan(day4["push_rate_same_code"])
    day5 = _row(feats, g[5])
    assert day5["n_same_code"] == 1.0 and day5["push_rate_same_code"] == 1.0
    # Metadata-only store: no statistics payloads, no anomaly counts.
    assert math.isnan(day4["stats_dist_push"]) and math.isnan(day4["anomalies"])


def test_feature_columns_are_all_there(scenario: tuple[History, Built, pl.DataFrame]) -> None:
    _, _, feats = scenario
    assert feats.columns == ["gid", "t", "model_type", *FEATURES]
    assert feats["model_type"].unique().to_list() == ["Trainer"]
    assert feats["t"].min() == T0 + HOUR


def test_statistics_distance_reads_payloads(tmp_path: Path) -> None:
    a = {"age": {"mean": 10.0, "std": 2.0}, "income": {"mean": 5.0, "std": 1.0}}
    b = {"features": {"age": {"mean": 12.0, "std": 2.0}, "income": {"mean": 5.0, "std": 1.0},
                      "new": {"mean": 1.0}}}  # fmt: skip
    for name, doc in (("a.json", a), ("b.json", b)):
        (tmp_path / name).write_text(json.dumps(doc))
    reader = StatsReader(
        pl.DataFrame(
            {
                "artifact_id": [1, 2, 3],
                "uri": [
                    str(tmp_path / "a.json"),
                    str(tmp_path / "b.json"),
                    str(tmp_path / "missing.json"),
                ],
            }
        )
    )
    # age moved by one pooled sd, income not at all: mean 0.5; one of three columns is new.
    assert reader(1, 2) == pytest.approx(0.5 + 1 / 3)
    assert math.isnan(reader(1, 3))
    assert columns([1, 2]) is None
    assert distance({"x": (1.0, 0.0)}, {"x": (1.0, 0.0)}) == 0.0


def test_same_facts_and_features_on_every_backend(store: MetadataStore) -> None:
    """The extra SELECTs (contexts, string properties) read the same on SQLite and PostgreSQL."""
    built = build(store, DAYS)
    d = load_history(store).decisions.sort("t")
    assert d["t"].to_list() == built.starts and d["known"].to_list() == built.decided
    assert d["series"].to_list() == ["p.Trainer"] * len(DAYS)
    codes, structure = d["code_fp"].to_list(), d["structure"].to_list()
    assert codes[0] == codes[3] != codes[4] and structure[1] == structure[2] != structure[3]
    feats = build_features(d)
    day4 = feats.filter(pl.col("gid") == built.trainers[4]).row(0, named=True)
    assert day4["code_changed_push"] == 1.0 and day4["push_rate_all"] == pytest.approx(0.5)
