"""Distance between two spans' statistics, read from their payloads when the store has them.

graphlets' runner stores every artifact's payload by content and records ``content_sha256`` on it;
a statistics payload is JSON, one entry per column with at least ``mean`` (and usually ``std``).
An imported TFX store has no such payloads (its statistics are protocol buffers at paths we cannot
read here), so the distance is NaN there and the predictor works from metadata alone.

The distance is the mean, over columns both sides describe, of ``|mean_a - mean_b|`` in units of
their pooled standard deviation (a standardised mean difference), plus the share of columns only
one side has (a column added or dropped is a large change).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import fsspec
import polars as pl

Columns = dict[str, tuple[float, float]]


class StatsReader:
    """Reads and compares statistics payloads by artifact id (each payload is read once)."""

    def __init__(self, payloads: pl.DataFrame) -> None:
        self.uris: dict[int, str] = dict(
            zip(payloads["artifact_id"].to_list(), payloads["uri"].to_list(), strict=True)
        )
        self._columns = lru_cache(maxsize=4096)(self._read)

    def __bool__(self) -> bool:
        return bool(self.uris)

    def __call__(self, a: int, b: int) -> float:
        """Distance between the statistics artifacts ``a`` and ``b`` (NaN when unreadable)."""
        ca, cb = self._columns(a), self._columns(b)
        if ca is None or cb is None:
            return float("nan")
        return distance(ca, cb)

    def _read(self, artifact_id: int) -> Columns | None:
        uri = self.uris.get(artifact_id)
        if not uri:
            return None
        try:
            with fsspec.open(uri, "rb") as fh:
                doc = json.loads(fh.read())
        except (OSError, ValueError):
            return None
        return columns(doc)


def columns(doc: Any) -> Columns | None:
    """``{column: (mean, std)}`` from a statistics document (``{"col": {"mean": .., "std": ..}}``,
    optionally under ``"features"`` or ``"columns"``), None when it has no such entries."""
    if isinstance(doc, Mapping):
        for key in ("features", "columns"):
            if isinstance(doc.get(key), Mapping):
                doc = doc[key]
                break
    if not isinstance(doc, Mapping):
        return None
    out: Columns = {}
    for name, entry in doc.items():
        if isinstance(entry, Mapping) and _number(entry.get("mean")):
            std = entry.get("std", entry.get("std_dev", 0.0))
            out[str(name)] = (float(entry["mean"]), float(std) if _number(std) else 0.0)
    return out or None


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def distance(a: Columns, b: Columns) -> float:
    """Mean standardised difference of shared columns plus the share of unshared columns."""
    shared = a.keys() & b.keys()
    every = a.keys() | b.keys()
    diffs = []
    for name in shared:
        (ma, sa), (mb, sb) = a[name], b[name]
        pooled = math.sqrt((sa * sa + sb * sb) / 2)
        scale = pooled if pooled > 0 else max(abs(ma), abs(mb), 1e-12)
        diffs.append(abs(ma - mb) / scale)
    mean = sum(diffs) / len(diffs) if diffs else 0.0
    return mean + (len(every) - len(shared)) / max(len(every), 1)
