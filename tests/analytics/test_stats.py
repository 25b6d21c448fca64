"""Summary helpers of the report."""

from __future__ import annotations

import numpy as np
import pytest

from graphlets.analytics.stats import describe, histogram, share

pytestmark = pytest.mark.unit


def test_describe() -> None:
    d = describe([1, 2, 3, 4, float("nan")])
    assert d["count"] == 4 and d["mean"] == 2.5 and d["median"] == 2.5 and d["max"] == 4
    assert describe(np.array([]))["count"] == 0


def test_histogram_and_share() -> None:
    h = histogram([0, 0.5, 1, 1, 7], [0, 1, 2, 10])
    assert h == {"edges": [0.0, 1.0, 2.0, 10.0], "counts": [2, 2, 1]}
    assert share(1, 3) == pytest.approx(0.333333) and share(1, 0) == 0.0
