"""Evaluator: the candidate against the registry's production model on the newest eval data,
overall and per slice; absolute thresholds and allowed change vs the baseline decide the blessing.

Outputs a ``ModelEvaluation`` (JSON metrics of both models, per slice, and every check) and a
``ModelBlessing`` with ``blessed`` = 1 or 0, as TFX's Evaluator writes them. The baseline input is
keyed ``baseline_model`` so lineage does not treat it as the candidate's downstream.
"""

from __future__ import annotations

import warnings
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
    out: dict[str, dict[str, float]] = {}
    for feature in slice_by:
        if feature not in df.columns:
            continue
        for value, part in df.group_by(feature):
            if part.height >= min_size:
                out[f"{feature}={value[0]}"] = score(model, part, label)
    return out


def _check(name: str, value: float, threshold: float) -> dict[str, Any]:
    ok = bool(np.isnan(value) or value >= threshold)
    return {"check": name, "value": value, "threshold": threshold, "passed": ok}


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
) -> dict[str, float]:
    """Bless the candidate when it clears the thresholds and is not worse than production by
    more than ``max_auc_drop`` (AUC), overall and on every slice."""
    df = read_examples(examples, "eval")
    cand = model.load_pickle()
    slices = list(slice_by or [])
    result: dict[str, Any] = {
        "candidate": score(cand, df, label),
        "slices": sliced(cand, df, label, slices, min_slice_size),
    }
    checks = [_check("auc", result["candidate"]["auc"], min_auc)]
    checks += [_check(f"auc[{k}]", m["auc"], min_slice_auc) for k, m in result["slices"].items()]
    if baseline_model is not None:
        base = baseline_model.load_pickle()
        result["baseline"] = score(base, df, label)
        result["baseline_artifact"] = baseline_model.id
        floor = result["baseline"]["auc"] - max_auc_drop
        checks.append(_check("auc_vs_baseline", result["candidate"]["auc"], floor))
    blessed = all(c["passed"] for c in checks)
    result["checks"] = checks
    evaluation.write_json(result)
    evaluation.set("auc", result["candidate"]["auc"])
    if "baseline" in result:
        evaluation.set("baseline_auc", result["baseline"]["auc"])
    blessing.set("blessed", int(blessed))
    log_metric("auc", result["candidate"]["auc"])
    if "baseline" in result:
        log_metric("baseline_auc", result["baseline"]["auc"])
    return {"blessed": float(blessed)}
