"""Per-feature statistics that merge: compute them once per span, combine them for any window.

Every field is additive or mergeable: count, missing, sum, sum of squares, min, max, a quantile
sketch (101 quantiles: a piecewise-linear CDF; merged by mixing the CDFs weighted by counts, which
keeps the rank error of the inputs, about 1%), and capped category counts. So the statistics of a
7-span window are :func:`merge_statistics` of 7 cached per-span results, not a pass over the rows.
Histograms, means, standard deviations and top-k lists are derived from these fields on demand.

The layout is plain JSON, stored as an ``ExampleStatistics`` payload::

    {"num_rows": N, "features": {"age": {"type": "numeric", "dtype": "float", "count": ...}}}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from graphlets.errors import InvalidArgumentError

Stats = dict[str, Any]
QUANTILES = 101
MAX_CATEGORIES = 1000
_PROBS = np.linspace(0.0, 1.0, QUANTILES)


def dtype_name(dtype: pl.DataType) -> str:
    """``int``, ``float``, ``bool`` or ``string`` (what a schema records)."""
    if dtype.is_integer():
        return "int"
    if dtype.is_float():
        return "float"
    if dtype == pl.Boolean:
        return "bool"
    return "string"


def compute_statistics(df: pl.DataFrame) -> Stats:
    """Statistics of every column of ``df`` (numeric and categorical), in vectorised passes."""
    numeric = [c for c in df.columns if df[c].dtype.is_numeric()]
    other = [c for c in df.columns if c not in numeric]
    features: dict[str, Any] = {}
    if numeric:
        features.update(_numeric(df.select(numeric)))
    for name in other:
        features[name] = _categorical(df[name])
    return {"num_rows": df.height, "features": features}


def _numeric(df: pl.DataFrame) -> dict[str, Any]:
    """One sort per column gives min, max and the exact quantiles; NaN counts as missing."""
    out: dict[str, Any] = {}
    for c in df.columns:
        raw = df[c].cast(pl.Float64).to_numpy()
        values = np.sort(raw[~np.isnan(raw)])
        out[c] = {
            "type": "numeric",
            "dtype": dtype_name(df[c].dtype),
            "count": int(values.size),
            "missing": int(df.height - values.size),
            "sum": float(values.sum()),
            "sum_sq": float(np.dot(values, values)),
            "min": float(values[0]) if values.size else None,
            "max": float(values[-1]) if values.size else None,
            "quantiles": _quantiles(values),
        }
    return out


def _quantiles(values: np.ndarray) -> list[float]:
    """101 quantiles of sorted ``values`` (nearest rank)."""
    if values.size == 0:
        return []
    idx = np.round(_PROBS * (values.size - 1)).astype(np.int64)
    return [float(v) for v in values[idx]]


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _categorical(series: pl.Series) -> dict[str, Any]:
    s = series.cast(pl.String)
    count = s.len() - s.null_count()
    vc = s.drop_nulls().value_counts(sort=True)
    names, counts = vc[vc.columns[0]].to_list(), vc["count"].to_list()
    kept = dict(zip(names[:MAX_CATEGORIES], (int(x) for x in counts[:MAX_CATEGORIES]), strict=True))
    return {
        "type": "categorical",
        "dtype": dtype_name(series.dtype),
        "count": int(count),
        "missing": int(s.null_count()),
        "values": kept,
        "other": int(sum(counts[MAX_CATEGORIES:])),
    }


# merging ------------------------------------------------------------------------------------
def merge_statistics(parts: Sequence[Stats]) -> Stats:
    """Statistics of the union of the datasets behind ``parts`` (no rows needed)."""
    if not parts:
        raise InvalidArgumentError("merge_statistics needs at least one statistics document")
    names: list[str] = []
    for p in parts:
        names.extend(n for n in p["features"] if n not in names)
    total = sum(int(p["num_rows"]) for p in parts)
    features: dict[str, Any] = {}
    for name in names:
        present = [
            (p["features"][name], int(p["num_rows"])) for p in parts if name in p["features"]
        ]
        absent_rows = total - sum(rows for _, rows in present)
        features[name] = _merge_feature([f for f, _ in present], absent_rows)
    return {"num_rows": total, "features": features}


def _merge_feature(fs: Sequence[Mapping[str, Any]], absent_rows: int) -> dict[str, Any]:
    first = fs[0]
    count = sum(int(f["count"]) for f in fs)
    missing = sum(int(f["missing"]) for f in fs) + absent_rows
    if first["type"] == "categorical":
        values: dict[str, int] = {}
        for f in fs:
            for v, n in f["values"].items():
                values[v] = values.get(v, 0) + int(n)
        ranked = sorted(values.items(), key=lambda kv: -kv[1])
        other = sum(int(f["other"]) for f in fs) + sum(n for _, n in ranked[MAX_CATEGORIES:])
        return {
            **{k: first[k] for k in ("type", "dtype")},
            "count": count,
            "missing": missing,
            "values": dict(ranked[:MAX_CATEGORIES]),
            "other": other,
        }
    mins = [f["min"] for f in fs if f["min"] is not None]
    maxs = [f["max"] for f in fs if f["max"] is not None]
    return {
        **{k: first[k] for k in ("type", "dtype")},
        "count": count,
        "missing": missing,
        "sum": sum(float(f["sum"]) for f in fs),
        "sum_sq": sum(float(f["sum_sq"]) for f in fs),
        "min": min(mins) if mins else None,
        "max": max(maxs) if maxs else None,
        "quantiles": _merge_quantiles(fs),
    }


def _merge_quantiles(fs: Sequence[Mapping[str, Any]]) -> list[float]:
    sketches = [(np.asarray(f["quantiles"]), int(f["count"])) for f in fs if f["quantiles"]]
    if not sketches:
        return []
    grid = np.unique(np.concatenate([q for q, _ in sketches]))
    weight = sum(n for _, n in sketches)
    cdf = sum(n * cdf_at(q, grid) for q, n in sketches) / weight
    return [float(v) for v in np.interp(_PROBS, cdf, grid)]


def cdf_at(quantiles: Sequence[float] | np.ndarray, x: np.ndarray) -> np.ndarray:
    """The sketch's CDF at points ``x`` (linear between quantiles, 0 below, 1 above)."""
    q = np.asarray(quantiles, dtype=np.float64)
    probs = np.linspace(0.0, 1.0, q.size)
    right = np.interp(x, q, probs, left=0.0, right=1.0)
    # at a repeated knot (a discrete value) take the mass up to the last repeat
    return np.asarray(right)


# derived views ------------------------------------------------------------------------------
def mean_std(f: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """Mean and population standard deviation of a numeric feature."""
    n = int(f["count"])
    if n == 0:
        return None, None
    mean = float(f["sum"]) / n
    var = max(float(f["sum_sq"]) / n - mean * mean, 0.0)
    return mean, math.sqrt(var)


def missing_fraction(f: Mapping[str, Any]) -> float:
    """Share of rows where the feature is null."""
    rows = int(f["count"]) + int(f["missing"])
    return int(f["missing"]) / rows if rows else 0.0


def histogram(f: Mapping[str, Any], bins: int = 10) -> list[dict[str, float]]:
    """Equal-width histogram of a numeric feature, from its sketch."""
    if not f.get("quantiles") or f["min"] is None:
        return []
    edges = np.linspace(float(f["min"]), float(f["max"]), bins + 1)
    cdf = cdf_at(f["quantiles"], edges)
    cdf[0], cdf[-1] = 0.0, 1.0
    mass = np.diff(cdf) * int(f["count"])
    return [
        {"low": float(lo), "high": float(hi), "count": float(m)}
        for lo, hi, m in zip(edges[:-1], edges[1:], mass, strict=True)
    ]


def top_k(f: Mapping[str, Any], k: int = 10) -> list[tuple[str, int]]:
    """The ``k`` most frequent values of a categorical feature."""
    return sorted(f["values"].items(), key=lambda kv: -kv[1])[:k]


def summary(stats: Stats) -> dict[str, Any]:
    """A human-sized view: mean, std, missing fraction, histogram or top-k per feature."""
    out: dict[str, Any] = {}
    for name, f in stats["features"].items():
        row: dict[str, Any] = {"type": f["type"], "missing_fraction": missing_fraction(f)}
        if f["type"] == "numeric":
            row["mean"], row["std"] = mean_std(f)
            row.update(min=f["min"], max=f["max"], histogram=histogram(f))
        else:
            row["top_k"] = top_k(f)
        out[name] = row
    return out
