"""Validators: statistics merge, schema checks per anomaly kind, drift, skew, the policy."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from graphlets.validation import (
    AnomalyKind,
    Severity,
    ValidationConfig,
    ValidationPolicy,
    ValidationResult,
    compute_statistics,
    drift,
    infer_schema,
    mean_std,
    merge_statistics,
    skew,
    validate_statistics,
)

pytestmark = pytest.mark.unit


def frame(seed: int, n: int = 3000, shift: float = 0.0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "x": rng.normal(shift, 1.0, n),
            "k": rng.integers(0, 5, n),
            "c": rng.choice(["a", "b", "c"], n),
        }
    )


def kinds(results: list[ValidationResult]) -> set[AnomalyKind]:
    return {r.kind for r in results}


def test_merged_statistics_match_recomputed_within_sketch_error() -> None:
    parts = [frame(s) for s in range(7)]
    merged = merge_statistics([compute_statistics(p) for p in parts])
    whole = compute_statistics(pl.concat(parts))
    fm, fw = merged["features"]["x"], whole["features"]["x"]
    assert fm["count"] == fw["count"] and fm["min"] == fw["min"] and fm["max"] == fw["max"]
    assert mean_std(fm)[0] == pytest.approx(mean_std(fw)[0])
    assert np.max(np.abs(np.array(fm["quantiles"]) - np.array(fw["quantiles"]))[5:-5]) < 0.05
    assert merged["features"]["c"]["values"] == whole["features"]["c"]["values"]


def test_clean_span_passes_and_each_incident_kind_is_found() -> None:
    schema = infer_schema(compute_statistics(frame(0)))
    assert validate_statistics(compute_statistics(frame(1)), schema) == []
    renamed = compute_statistics(frame(2).rename({"c": "c2"}))
    found = validate_statistics(renamed, schema)
    assert AnomalyKind.MISSING_COLUMN in kinds(found) and AnomalyKind.NEW_COLUMN in kinds(found)
    holes = frame(3).with_columns(
        pl.when(pl.int_range(pl.len()) % 2 == 0).then(None).otherwise(pl.col("x")).alias("x")
    )
    [miss] = validate_statistics(compute_statistics(holes), schema)
    assert miss.kind is AnomalyKind.MISSING_RATE and miss.severity is Severity.ERROR
    far = frame(4, shift=9.0)
    assert AnomalyKind.OUT_OF_RANGE in kinds(validate_statistics(compute_statistics(far), schema))
    new_cat = frame(5).with_columns(pl.lit("zzz").alias("c"))
    [unseen] = validate_statistics(compute_statistics(new_cat), schema)
    assert unseen.kind is AnomalyKind.UNSEEN_CATEGORY and unseen.severity is Severity.ERROR
    typed = frame(6).with_columns(pl.col("x").cast(pl.String))
    assert AnomalyKind.TYPE_MISMATCH in kinds(
        validate_statistics(compute_statistics(typed), schema)
    )


def test_drift_numeric_and_categorical_without_false_alarm() -> None:
    ref = compute_statistics(frame(0))
    assert drift(ref, compute_statistics(frame(1))) == []
    moved = compute_statistics(frame(2, shift=0.8))
    [d] = drift(ref, moved)
    assert d.feature == "x" and d.diagnostics["metric"] == "jensen_shannon"
    cats = frame(3).with_columns(pl.lit("a").alias("c"))
    [c] = drift(ref, compute_statistics(cats))
    assert c.feature == "c" and c.diagnostics["metric"] == "linf"
    assert c.severity is Severity.WARNING


def test_skew_uses_its_own_thresholds() -> None:
    train, serve = compute_statistics(frame(0)), compute_statistics(frame(1, shift=0.8))
    assert [r.kind for r in skew(train, serve)] == [AnomalyKind.SKEW]
    assert skew(train, serve, ValidationConfig(skew_js=0.9)) == []


def test_policy_blocks_on_errors_and_overrides_kinds() -> None:
    ref = compute_statistics(frame(0))
    found = drift(ref, compute_statistics(frame(2, shift=0.8)))
    assert not ValidationPolicy().decide(found).blocked
    strict = ValidationPolicy.from_dict({"overrides": {"drift": "ERROR"}})
    decision = strict.decide(found)
    assert decision.blocked and decision.counts_by_kind() == {"drift": 1}
    assert ValidationResult.from_dict(decision.to_dict()["anomalies"][0]) == decision.results[0]


def test_unknown_config_key_names_the_known_ones() -> None:
    from graphlets.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="drift_js"):
        ValidationConfig.from_dict({"drift": 1})
