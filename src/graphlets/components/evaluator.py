"""Evaluator: the candidate against the registry's production model on the newest eval data,
overall and per slice; absolute thresholds and allowed change vs the baseline decide the blessing.

Outputs a ``ModelEvaluation`` (JSON metrics of both models, per slice, and every check) and a
``ModelBlessing`` with ``blessed`` = 1 or 0, as TFX's Evaluator writes them. Both carry ``checks``:
every check with its verdict (``passed``, ``failed``, or ``skipped`` for a slice too small to
judge), which ``graphlets runs show`` prints. Each slice is compared with the production model on
the same slice, not only with a fixed floor: a candidate better on average can hide a regression
on one region or plan, and that candidate is not blessed. The baseline input is
keyed ``baseline_model`` so lineage does not treat it as the candidate's downstream.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

from graphlets.components._io import read_examples
from graphlets.components.resolvers import production_model
from graphlets.pipeline import (
    Examples,
    Input,
    Model,
    ModelBlessing,
    ModelEvaluation,
    Output,
    component,
    log_metric,
)
from graphlets.pipeline.record import CHECKS

MAX_CHECKS_CHARS = 1500  # artifact properties are indexed; see record.MAX_PROPERTY_CHARS


def score(model: Any, df: pl.DataFrame, label: str) -> dict[str, float]:
    """AUC, accuracy and log loss of a model bundle on labelled rows."""
    meta = getattr(model, "graphlets_meta", {})
    cols = list(meta.get("features") or [c for c in df.columns if c != label])
    y = df[label].to_numpy()
    frame = df.select([pl.col(c) if c in df.columns else pl.lit(None).alias(c) for c in cols])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = model.predict_proba(frame)[:, 1]
    auc = float(roc_auc_score(y, p)) if len(set(y.tolist())) > 1 else float("nan")
    return {
        "auc": auc,
        "accuracy": float(accuracy_score(y, p > 0.5)),
        "log_loss": float(log_loss(y, np.clip(p, 1e-6, 1 - 1e-6), labels=[0, 1])),
        "rows": float(len(y)),
    }


def sliced(
    model: Any, df: pl.DataFrame, label: str, slice_by: list[str], min_size: int
) -> dict[str, dict[str, float]]:
    """Scores per value of each slicing feature (slices smaller than ``min_size`` skipped)."""
    return {
        key: score(model, part, label)
        for key, part in _slices(df, slice_by)
        if part.height >= min_size
    }


def _slices(df: pl.DataFrame, slice_by: list[str]) -> list[tuple[str, pl.DataFrame]]:
    """``(FEATURE=VALUE, rows)`` for every value of every slicing feature present, in order."""
    out: list[tuple[str, pl.DataFrame]] = []
    for feature in slice_by:
        if feature in df.columns:
            parts = [(f"{feature}={value[0]}", part) for value, part in df.group_by(feature)]
            out += sorted(parts, key=lambda kv: kv[0])
    return out


def _check(name: str, value: float, threshold: float) -> dict[str, Any]:
    """``value >= threshold``; undefined (NaN: a slice with one class) is skipped, not failed."""
    if np.isnan(value) or np.isnan(threshold):
        return _skipped(name, "metric undefined (only one class among the labels)", value)
    ok = bool(value >= threshold)
    verdict = "passed" if ok else "failed"
    return {"check": name, "value": value, "threshold": threshold, "passed": ok, "verdict": verdict}


def _skipped(name: str, reason: str, value: float | None = None) -> dict[str, Any]:
    return {"check": name, "value": value, "passed": True, "verdict": "skipped", "reason": reason}


@dataclass(frozen=True)
class SliceLimits:
    """How slices are judged: the smallest slice judged, an absolute AUC floor, and how much
    worse than production a slice may be."""

    min_size: int = 100
    min_auc: float = 0.5
    max_drop: float = 0.02


def slice_checks(
    cand: Any,
    base: Any | None,
    df: pl.DataFrame,
    label: str,
    slice_by: list[str],
    limits: SliceLimits,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Per slice: the candidate's AUC against ``min_slice_auc`` and, when there is a production
    model, against production's AUC on the same slice minus ``max_slice_auc_drop``. Slices with
    fewer than ``min_slice_size`` rows are too small to judge: recorded as skipped.

    Returns ``({"candidate": {slice: scores}, "baseline": {...}}, checks)``.
    """
    scores: dict[str, Any] = {"candidate": {}, "baseline": {}}
    checks: list[dict[str, Any]] = []
    for key, part in _slices(df, slice_by):
        if part.height < limits.min_size:
            why = f"{part.height} rows, fewer than min_slice_size {limits.min_size}"
            checks.append(_skipped(f"auc[{key}]", why))
            continue
        mine = scores["candidate"][key] = score(cand, part, label)
        checks.append(_check(f"auc[{key}]", mine["auc"], limits.min_auc))
        if base is not None:
            theirs = scores["baseline"][key] = score(base, part, label)
            floor = theirs["auc"] - limits.max_drop
            checks.append(_check(f"auc_vs_baseline[{key}]", mine["auc"], floor))
    return scores, checks


def judge(
    cand: Any,
    base: Any | None,
    df: pl.DataFrame,
    label: str,
    slice_by: list[str],
    min_auc: float,
    max_auc_drop: float,
    limits: SliceLimits,
) -> dict[str, Any]:
    """Every check of the candidate (overall and per slice, against thresholds and against
    production); ``blessed`` when none failed."""
    result: dict[str, Any] = {"candidate": score(cand, df, label)}
    checks = [_check("auc", result["candidate"]["auc"], min_auc)]
    if base is not None:
        result["baseline"] = score(base, df, label)
        floor = result["baseline"]["auc"] - max_auc_drop
        checks.append(_check("auc_vs_baseline", result["candidate"]["auc"], floor))
    per_slice, more = slice_checks(cand, base, df, label, slice_by, limits)
    result["slices"] = per_slice["candidate"]
    if base is not None:
        result["baseline_slices"] = per_slice["baseline"]
    result["checks"] = checks + more
    result["blessed"] = not any(c["verdict"] == "failed" for c in result["checks"])
    return result


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and bool(np.isfinite(value))


def compact_checks(checks: list[dict[str, Any]]) -> str:
    """The checks as JSON short enough for an artifact property: every check with its verdict
    (values to 4 places); when too long, the failed and skipped ones and a count of the rest."""
    rows = [
        {"check": c["check"], "verdict": c["verdict"]}
        | {k: round(float(c[k]), 4) for k in ("value", "threshold") if _finite(c.get(k))}
        | ({"reason": str(c["reason"])[:120]} if c.get("reason") else {})
        for c in checks
    ]
    text = json.dumps(rows, separators=(",", ":"))
    if len(text) <= MAX_CHECKS_CHARS:
        return text
    kept = [r for r in rows if r["verdict"] != "passed"][:20]
    kept.append({"check": "*", "verdict": "passed", "count": len(rows) - len(kept)})
    return json.dumps(kept, separators=(",", ":"))[:MAX_CHECKS_CHARS]


@component(
    category="evaluate",
    type_name="Evaluator",
    inputs={"baseline_model": production_model("default")},
)
def evaluator(
    examples: Input[Examples],
    model: Input[Model],
    baseline_model: Input[Model] | None,
    evaluation: Output[ModelEvaluation],
    blessing: Output[ModelBlessing],
    label: str = "churned",
    slice_by: list[str] | None = None,
    min_auc: float = 0.6,
    max_auc_drop: float = 0.0,
    min_slice_auc: float = 0.5,
    min_slice_size: int = 100,
    max_slice_auc_drop: float = 0.02,
) -> dict[str, float]:
    """Bless the candidate when it clears the thresholds and is not worse than production by
    more than ``max_auc_drop`` (AUC) overall, nor by more than ``max_slice_auc_drop`` on any
    slice of ``min_slice_size`` rows or more (production scored on the same slice's rows)."""
    df = read_examples(examples, "eval")
    base = baseline_model.load_pickle() if baseline_model is not None else None
    limits = SliceLimits(min_slice_size, min_slice_auc, max_slice_auc_drop)
    result = judge(
        model.load_pickle(), base, df, label, list(slice_by or []), min_auc, max_auc_drop, limits
    )
    if baseline_model is not None:
        result["baseline_artifact"] = baseline_model.id
    blessed = bool(result["blessed"])
    evaluation.write_json(result)
    evaluation.set("auc", result["candidate"]["auc"])
    failed = sum(c["verdict"] == "failed" for c in result["checks"])
    for out in (evaluation, blessing):
        out.set(CHECKS, compact_checks(result["checks"]))
        out.set("checks_failed", failed)
    if "baseline" in result:
        evaluation.set("baseline_auc", result["baseline"]["auc"])
    blessing.set("blessed", int(blessed))
    log_metric("auc", result["candidate"]["auc"])
    log_metric("checks_failed", failed)
    if "baseline" in result:
        log_metric("baseline_auc", result["baseline"]["auc"])
    return {"blessed": float(blessed)}
