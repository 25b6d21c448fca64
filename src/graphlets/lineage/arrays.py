"""Small numpy helpers used on arrays of millions of ids.

``np.unique`` in numpy 2.x picks a hash-based path for integers that is two orders of magnitude
slower here than sorting (4 s vs 0.03 s for 5M int64 on the bench machine), so de-duplication is
done by sorting and comparing neighbours.
"""

from __future__ import annotations

import numpy as np


def unique(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values of ``x``."""
    if x.size == 0:
        return x
    s = np.sort(x)
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def run_starts(sorted_values: np.ndarray) -> np.ndarray:
    """Mask of the first element of each run of equal values in a sorted array."""
    keep = np.ones(len(sorted_values), dtype=bool)
    if sorted_values.size:
        np.not_equal(sorted_values[1:], sorted_values[:-1], out=keep[1:])
    return keep


def merge_disjoint(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sorted union of two sorted arrays with no value in common."""
    return np.sort(np.concatenate([a, b]), kind="stable")


def positions(sorted_ids: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row of each of ``ids`` in ``sorted_ids`` (sorted, distinct) and a mask of those present."""
    n = len(sorted_ids)
    if n == 0:
        return np.zeros(len(ids), dtype=np.int64), np.zeros(len(ids), dtype=bool)
    if int(sorted_ids[-1]) - int(sorted_ids[0]) + 1 == n:  # contiguous ids: plain arithmetic
        pos = ids.astype(np.int64) - int(sorted_ids[0])
        ok = (pos >= 0) & (pos < n)
        return np.where(ok, pos, 0), ok
    pos = np.minimum(np.searchsorted(sorted_ids, ids), len(sorted_ids) - 1).astype(np.int64)
    return pos, sorted_ids[pos] == ids


def contains(sorted_haystack: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """Mask of the ``needles`` found in a sorted array."""
    if sorted_haystack.size == 0:
        return np.zeros(len(needles), dtype=bool)
    return positions(sorted_haystack, needles)[1]
