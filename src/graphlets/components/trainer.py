"""Trainer: scikit-learn or LightGBM on a rolling window of clean spans, warm-started from the
previous model where the estimator supports it.

Spans whose validation blocked (``blocking`` = 1) are dropped from the window, and the trainer does
not run at all for a blocked span (its ``when=``), so no model is ever trained on data with blocking
anomalies. The Model payload is a pickled scikit-learn ``Pipeline`` (fitted transform + estimator)
with ``graphlets_meta``: features, label, spans used, and the training window's statistics merged
from the cached per-span statistics (used later for training/serving skew).
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.pipeline import Pipeline as SkPipeline

from graphlets.components._io import blocked_spans, clean_window, read_window
from graphlets.components.statistics_gen import window_statistics
from graphlets.errors import InvalidArgumentError
from graphlets.pipeline import (
    ExampleAnomalies,
    Examples,
    ExampleStatistics,
    Input,
    Inputs,
    Model,
    Output,
    TransformGraph,
    component,
    previous,
    prop,
    rolling_window,
)

ALGORITHMS = ("logistic", "sgd", "lightgbm")


def make_estimator(algorithm: str, params: dict[str, Any]) -> Any:
    """A fresh estimator for ``algorithm`` (see ``ALGORITHMS``)."""
    if algorithm == "logistic":
        return LogisticRegression(max_iter=200, warm_start=True, **params)
    if algorithm == "sgd":
        return SGDClassifier(loss="log_loss", random_state=0, **params)
    if algorithm == "lightgbm":
        import lightgbm

        defaults = {"n_estimators": 60, "num_leaves": 15, "learning_rate": 0.1, "verbose": -1}
        return lightgbm.LGBMClassifier(**{**defaults, **params})
    raise InvalidArgumentError(f"trainer algorithm {algorithm!r} is unknown: use {ALGORITHMS}")


def fit(est: Any, base: Any, x: Any, y: np.ndarray, algorithm: str) -> tuple[Any, bool]:
    """Fit ``est``; warm start from ``base`` (a fitted estimator of the same kind) when
    possible. Returns the fitted estimator and whether it warm-started."""
    same = base is not None and type(base) is type(est) and _width(base) == x.shape[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if same and algorithm == "logistic":
            est = copy.deepcopy(base)
            return est.fit(x, y), True
        if same and algorithm == "sgd":
            est = copy.deepcopy(base)
            return est.partial_fit(x, y), True
        if same and algorithm == "lightgbm":
            return est.fit(x, y, init_model=base.booster_), True
        if algorithm == "sgd":
            return est.partial_fit(x, y, classes=np.array([0, 1])), False
        return est.fit(x, y), False


def _width(est: Any) -> int | None:
    return getattr(est, "n_features_in_", None)


@component(
    category="train",
    type_name="Trainer",
    inputs={
        "examples": rolling_window(7),
        "anomalies": rolling_window(7, "anomalies"),
        "window_statistics": rolling_window(7, "statistics"),
        "base_model": previous("model"),
    },
    when=prop("anomalies", "blocking") == 0,
)
def trainer(
    examples: Inputs[Examples],
    anomalies: Inputs[ExampleAnomalies],
    window_statistics: Inputs[ExampleStatistics],
    transform_graph: Input[TransformGraph],
    base_model: Input[Model] | None,
    model: Output[Model],
    label: str = "churned",
    algorithm: str = "logistic",
    warm_start: bool = True,
    hyperparameters: dict[str, Any] | None = None,
) -> dict[str, float]:
    """Fit the transform's features + an estimator on the clean spans of the window."""
    clean = clean_window(list(examples), anomalies)
    if not clean:
        raise InvalidArgumentError(
            f"no clean span in the window {examples.spans}: nothing to train"
        )
    pre = transform_graph.load_pickle()
    columns = [c for _, _, cols in pre.transformers_ for c in cols]
    df = read_window(clean, [*columns, label]).drop_nulls(label)
    x, y = pre.transform(df.select(columns)), df[label].to_numpy()
    base = base_model.load_pickle().named_steps["model"] if base_model and warm_start else None
    est, warmed = fit(make_estimator(algorithm, hyperparameters or {}), base, x, y, algorithm)
    pipe: Any = SkPipeline([("transform", pre), ("model", est)])
    used = {e.span for e in clean}
    stats = [s for s in window_statistics if s.span in used]
    pipe.graphlets_meta = {
        "features": columns,
        "label": label,
        "algorithm": algorithm,
        "spans": sorted(int(s) for s in used if s is not None),
        "training_statistics": window_statistics_or_none(stats),
    }
    model.write_pickle(pipe)
    model.set("algorithm", algorithm)
    model.set("warm_started", int(warmed))
    model.set("trained_on_spans", str(pipe.graphlets_meta["spans"]))
    model.set("blocked_spans_excluded", str(sorted(blocked_spans(anomalies))))
    return {"rows": float(len(y)), "warm_started": float(warmed)}


def window_statistics_or_none(stats: list[Input[ExampleStatistics]]) -> dict[str, Any] | None:
    """Merged statistics of the window, or None when no span's statistics are at hand."""
    return window_statistics(stats) if stats else None
