"""Push predictors: LightGBM and a logistic-regression baseline, with calibration and metrics.

A predictor maps the features of a training at its decision point to the probability that it ends
in a push. LightGBM is the main model (it takes missing values as they are: a TFX store without
payloads has no statistics distance, a new pipeline no push history); the logistic regression is
the baseline it must beat. Calibration is a separate, monotone step (isotonic regression) fitted on
predictions made *out of sample*, so a probability threshold means what it says; it never changes
the ranking.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import polars as pl

from graphlets.errors import InvalidArgumentError
from graphlets.optimizer.features import CATEGORICAL, FEATURES

Kind = Literal["lightgbm", "logistic"]
KINDS: tuple[Kind, ...] = ("lightgbm", "logistic")
MIN_CALIBRATION = 50


@dataclass
class Predictor:
    """A push-probability model over a feature frame.

    Attributes:
        kind: ``lightgbm`` or ``logistic``.
        features: numeric feature columns used (the categorical ``model_type`` is added).
        seed: random seed (LightGBM bagging), so a replay is repeatable.
        threads: LightGBM threads.
    """

    kind: Kind = "lightgbm"
    features: tuple[str, ...] = FEATURES
    seed: int = 0
    threads: int = 1
    model: Any = None
    constant: float | None = None
    vocab: dict[str, int] = field(default_factory=dict)
    calibrator: Any = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidArgumentError(
                f"predictor kind {self.kind!r} is unknown: use one of {', '.join(KINDS)}"
            )

    def matrix(self, frame: pl.DataFrame) -> np.ndarray:
        """Feature matrix: the numeric features, then each categorical as a vocabulary code."""
        cols = [frame[c].cast(pl.Float64).fill_null(np.nan).to_numpy() for c in self.features]
        for c in CATEGORICAL:
            values = frame[c].to_list() if c in frame.columns else [None] * frame.height
            cols.append(np.array([self.vocab.get(str(v), -1) for v in values], dtype=np.float64))
        return np.column_stack(cols) if cols else np.zeros((frame.height, 0))

    def fit(self, frame: pl.DataFrame, y: Sequence[int] | np.ndarray) -> Predictor:
        """Fit on ``frame`` with labels ``y`` (1 = pushed); one class only: predict its rate."""
        target = np.asarray(y, dtype=np.int64)
        self.calibrator = None
        if target.size == 0 or target.min() == target.max():
            self.model, self.constant = None, float(target.mean()) if target.size else 0.5
            return self
        for c in CATEGORICAL:
            if c in frame.columns:
                self.vocab = {v: i for i, v in enumerate(sorted({str(x) for x in frame[c]}))}
        x = self.matrix(frame)
        self.constant = None
        self.model = _lightgbm(x, target, self) if self.kind == "lightgbm" else _logistic(x, target)
        return self

    def raw(self, frame: pl.DataFrame) -> np.ndarray:
        """Uncalibrated push probability of each row."""
        if self.model is None:
            return np.full(frame.height, 0.5 if self.constant is None else self.constant)
        if frame.height == 0:
            return np.zeros(0)
        proba = self.model.predict_proba(self.matrix(frame))
        return np.asarray(proba[:, 1], dtype=np.float64)

    def calibrate(self, raw: np.ndarray, y: np.ndarray) -> Predictor:
        """Fit the isotonic map from out-of-sample ``raw`` predictions to outcomes ``y``."""
        self.calibrator = calibrator(raw, y)
        return self

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        """Calibrated push probability of each row."""
        return apply_calibration(self.calibrator, self.raw(frame))


def calibrator(raw: np.ndarray, y: np.ndarray) -> Any:
    """An isotonic map fitted on out-of-sample predictions, or None when there are too few."""
    ok = np.isfinite(raw)
    raw, y = raw[ok], np.asarray(y)[ok]
    if raw.size < MIN_CALIBRATION or y.min() == y.max():
        return None
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    iso.fit(raw, y.astype(np.float64))
    return iso


def apply_calibration(iso: Any, raw: np.ndarray) -> np.ndarray:
    """``raw`` through the isotonic map (unchanged without one)."""
    if iso is None or raw.size == 0:
        return raw
    return np.asarray(iso.predict(raw), dtype=np.float64)


def _lightgbm(x: np.ndarray, y: np.ndarray, p: Predictor) -> Any:
    import lightgbm as lgb

    n = len(y)
    model = lgb.LGBMClassifier(
        n_estimators=120,
        learning_rate=0.08,
        max_bin=127,
        num_leaves=31,
        min_child_samples=max(5, min(40, n // 50)),
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        reg_lambda=1.0,
        random_state=p.seed,
        n_jobs=p.threads,
        deterministic=True,
        force_row_wise=True,
        verbose=-1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model.fit(x, y)
    return model


def _logistic(x: np.ndarray, y: np.ndarray) -> Any:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    # All-missing columns (no payloads in the store) are kept as zeros, so shapes stay fixed.
    model = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(C=1.0, max_iter=2000),
    )
    x = np.clip(np.nan_to_num(x, nan=np.nan, posinf=1e9, neginf=-1e9), -1e9, 1e9)
    model.fit(x, y)
    return _Clipped(model)


@dataclass
class _Clipped:
    """Clip infinities before the logistic pipeline (ratios of zero gaps are infinite)."""

    model: Any

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        x = np.clip(np.nan_to_num(x, nan=np.nan, posinf=1e9, neginf=-1e9), -1e9, 1e9)
        return np.asarray(self.model.predict_proba(x))


def classification_metrics(p_push: np.ndarray, y: np.ndarray, skip: np.ndarray) -> dict[str, Any]:
    """AUC of the push probability, Brier score, and precision / recall of skipping as a
    prediction of "not pushed" (precision: skipped trainings that were indeed not pushed)."""
    y = np.asarray(y, dtype=np.int64)
    ok = np.isfinite(p_push)
    out: dict[str, Any] = {"auc": None, "brier": None, "precision": None, "recall": None}
    if ok.sum() and y[ok].min() != y[ok].max():
        from sklearn.metrics import roc_auc_score

        out["auc"] = float(roc_auc_score(y[ok], p_push[ok]))
    if ok.sum():
        out["brier"] = float(np.mean((p_push[ok] - y[ok]) ** 2))
    wasted = y == 0
    if skip.sum():
        out["precision"] = float((skip & wasted).sum() / skip.sum())
    if wasted.sum():
        out["recall"] = float((skip & wasted).sum() / wasted.sum())
    return out
