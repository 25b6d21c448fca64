"""Distribution distances between two statistics documents: drift (consecutive spans) and
training/serving skew. Both work on the mergeable sketches, never on rows.

Numeric features: Jensen-Shannon divergence (base 2, in [0, 1]) over the reference's quantile
bins (integer features with a small range use one bin per value). Categorical features:
L-infinity distance between value frequencies (TFDV's choice for both).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from graphlets.validation.config import ValidationConfig
from graphlets.validation.result import AnomalyKind, Severity, ValidationResult, failure
from graphlets.validation.stats import Stats, cdf_at

_MAX_INT_BINS = 64


def js_divergence(ref: Mapping[str, Any], cur: Mapping[str, Any], bins: int = 20) -> float:
    """Jensen-Shannon divergence of two numeric feature sketches (0 identical, 1 disjoint)."""
    if not ref.get("quantiles") or not cur.get("quantiles"):
        return 0.0
    edges = _edges(ref, bins)
    if edges.size == 0:
        return 0.0
    p, q = _masses(ref["quantiles"], edges), _masses(cur["quantiles"], edges)
    m = 0.5 * (p + q)
    return float(0.5 * _kl(p, m) + 0.5 * _kl(q, m))


def _edges(ref: Mapping[str, Any], bins: int) -> np.ndarray:
    lo, hi = float(ref["min"]), float(ref["max"])
    if ref["dtype"] in ("int", "bool") and hi - lo <= _MAX_INT_BINS:
        return np.arange(math.floor(lo) + 0.5, math.ceil(hi), 1.0)
    q = np.asarray(ref["quantiles"], dtype=np.float64)
    idx = np.linspace(0, q.size - 1, bins + 1).round().astype(int)[1:-1]
    return np.unique(q[idx])


def _masses(quantiles: Any, edges: np.ndarray) -> np.ndarray:
    cdf = np.concatenate([[0.0], cdf_at(quantiles, edges), [1.0]])
    return np.clip(np.diff(cdf), 0.0, None)


def _kl(p: np.ndarray, m: np.ndarray) -> float:
    mask = p > 0
    return float(np.sum(p[mask] * np.log2(p[mask] / m[mask])))


def linf_distance(ref: Mapping[str, Any], cur: Mapping[str, Any]) -> float:
    """Largest difference in frequency of any value between two categorical features."""
    n_ref, n_cur = max(int(ref["count"]), 1), max(int(cur["count"]), 1)
    values = set(ref["values"]) | set(cur["values"])
    return max(
        (abs(ref["values"].get(v, 0) / n_ref - cur["values"].get(v, 0) / n_cur) for v in values),
        default=0.0,
    )


def distance(ref: Mapping[str, Any], cur: Mapping[str, Any], bins: int = 20) -> tuple[str, float]:
    """(metric name, value) for one feature, chosen by its type."""
    if ref["type"] == "categorical":
        return "linf", linf_distance(ref, cur)
    return "jensen_shannon", js_divergence(ref, cur, bins)


def drift(
    reference: Stats, current: Stats, config: ValidationConfig | None = None
) -> list[ValidationResult]:
    """Features whose distribution moved between two consecutive spans beyond the thresholds."""
    cfg = config or ValidationConfig()
    return _compare(reference, current, cfg, AnomalyKind.DRIFT, cfg.drift_js, cfg.drift_linf)


def skew(
    training: Stats, serving: Stats, config: ValidationConfig | None = None
) -> list[ValidationResult]:
    """Features whose serving distribution differs from the training distribution."""
    cfg = config or ValidationConfig()
    return _compare(training, serving, cfg, AnomalyKind.SKEW, cfg.skew_js, cfg.skew_linf)


def _compare(
    ref: Stats,
    cur: Stats,
    cfg: ValidationConfig,
    kind: AnomalyKind,
    js_max: float,
    linf_max: float,
) -> list[ValidationResult]:
    severity = Severity[cfg.drift_severity.upper()]
    what = "drifted since the previous span" if kind is AnomalyKind.DRIFT else "differs"
    found: list[ValidationResult] = []
    for name, f_ref in ref["features"].items():
        f_cur = cur["features"].get(name)
        if f_cur is None or f_cur["type"] != f_ref["type"]:
            continue
        metric, value = distance(f_ref, f_cur, cfg.drift_bins)
        limit = linf_max if metric == "linf" else js_max
        if value > limit:
            found.append(
                failure(
                    kind,
                    severity,
                    name,
                    f"feature {name!r} {what}: {metric} {value:.3f} > {limit:.3f}",
                    metric=metric,
                    value=value,
                    threshold=limit,
                )
            )
    return found
