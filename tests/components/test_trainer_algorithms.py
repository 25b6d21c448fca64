"""The trainer's estimators, each fitted cold and then warm-started from the previous fit."""

from __future__ import annotations

import numpy as np
import pytest

from graphlets.components.trainer import fit, make_estimator
from graphlets.errors import InvalidArgumentError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("algorithm", ["logistic", "sgd", "lightgbm"])
def test_cold_then_warm_start(algorithm: str) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 4))
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(0, 0.5, 400) > 0).astype(int)
    first, warmed = fit(make_estimator(algorithm, {}), None, x, y, algorithm)
    assert not warmed
    second, warmed = fit(make_estimator(algorithm, {}), first, x, y, algorithm)
    assert warmed
    assert ((second.predict_proba(x)[:, 1] > 0.5) == y).mean() > 0.8
    _narrower, warmed = fit(make_estimator(algorithm, {}), first, x[:, :3], y, algorithm)
    assert not warmed  # a base model of another width is not reused


def test_unknown_algorithm_names_the_known_ones() -> None:
    with pytest.raises(InvalidArgumentError, match="lightgbm"):
        make_estimator("xgboost", {})
