"""Numeric helpers shared by the report's sections: summaries and histograms as plain dicts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

QUANTILES = {"p10": 10, "p25": 25, "median": 50, "p75": 75, "p90": 90, "p99": 99}


def describe(values: np.ndarray | Sequence[float]) -> dict[str, float | int]:
    """Count, mean, min, quantiles and max of ``values`` (zeros when empty), JSON-ready."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"count": 0, "mean": 0.0, "min": 0.0, **dict.fromkeys(QUANTILES, 0.0), "max": 0.0}
    qs = np.percentile(v, list(QUANTILES.values()))
    return {
        "count": int(v.size),
        "mean": _r(v.mean()),
        "min": _r(v.min()),
        **{k: _r(q) for k, q in zip(QUANTILES, qs, strict=True)},
        "max": _r(v.max()),
    }


def histogram(values: np.ndarray | Sequence[float], edges: Sequence[float]) -> dict[str, Any]:
    """Counts of ``values`` in ``[edges[i], edges[i+1])`` (the last bin is closed)."""
    v = np.asarray(values, dtype=np.float64)
    counts, _ = np.histogram(v[np.isfinite(v)], bins=np.asarray(edges, dtype=np.float64))
    return {"edges": [_r(e) for e in edges], "counts": [int(c) for c in counts]}


def labelled(labels: Sequence[str], counts: Sequence[int]) -> dict[str, int]:
    """``{label: count}`` in label order."""
    return {str(k): int(n) for k, n in zip(labels, counts, strict=True)}


def share(part: float, whole: float) -> float:
    """``part / whole`` rounded, 0 when ``whole`` is 0."""
    return _r(part / whole) if whole else 0.0


def _r(x: float | np.floating[Any]) -> float:
    return round(float(x), 6)


def rounded(x: float | np.floating[Any]) -> float:
    """A float rounded for the JSON report."""
    return _r(x)
