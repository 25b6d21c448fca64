"""The demo's data: a seeded, drifting customer-churn table, one CSV file per daily span.

Why our own generator: the demo must run offline and reproducibly, and it needs incidents on known
spans, which generic drift streams do not give. Every span is drawn from a fixed seed and the span
number, so a span's file is the same on every machine. The world it draws from:

- features: ``tenure_months`` (int), ``monthly_charges`` (float), ``support_calls`` (int),
  ``usage_drop`` (float), ``age`` (int), ``data_gb`` (float), ``region``, ``plan``, ``payment``
  (strings); label ``churned`` (0/1) from a logistic model of the features;
- slow background drift: prices creep up by 0.05 a day (never enough to raise an alarm);
- incidents (:class:`Incidents`), each on a known span:
  * **schema break**: the source renames ``plan`` to ``plan_tier`` for one span;
  * **missing spike**: 40% of ``monthly_charges`` and 25% of ``tenure_months`` are null for one
    span;
  * **concept drift**: from that span on, what drives churn changes (support calls stop mattering,
    price sensitivity doubles, the base rate rises) and prices jump by 15: models trained before
    it lose accuracy, and the label's distribution moves;
  * **code change**: not in the data; the demo ships a trainer change that drops two features on
    that span and reverts it ``code_fix`` spans later (see :mod:`graphlets.demo`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import polars as pl

LABEL = "churned"
REGIONS = ("north", "south", "east", "west")
PLANS = ("basic", "standard", "premium")
PAYMENTS = ("card", "bank", "invoice")


@dataclass(frozen=True)
class Incidents:
    """The spans on which incidents start (the code change lasts until ``code_fix``)."""

    schema_break: int = 25
    missing_spike: int = 45
    concept_drift: int = 60
    code_change: int = 75
    code_fix: int = 80

    @classmethod
    def scaled(cls, spans: int) -> Incidents:
        """Incidents placed at the same relative positions in a run of ``spans`` spans."""
        if spans >= 90:
            return cls()
        at = [max(3, round(spans * f)) for f in (0.28, 0.5, 0.67, 0.83, 0.9)]
        for i in range(1, len(at)):
            at[i] = max(at[i], at[i - 1] + 1)
        return cls(*at)

    def to_dict(self) -> dict[str, int]:
        """Plain dict (for the demo report)."""
        return asdict(self)


def make_span(
    span: int, rows: int = 2000, seed: int = 7, incidents: Incidents | None = None
) -> pl.DataFrame:
    """One day of customers for ``span`` (1-based), with the incidents that fall on it."""
    inc = incidents or Incidents()
    rng = np.random.default_rng([seed, span])
    drifted = span >= inc.concept_drift
    price_shift = 0.05 * span + (15.0 if drifted else 0.0)
    tenure = rng.integers(0, 73, rows)
    charges = np.clip(rng.normal(70 + price_shift, 20, rows), 20, 160)
    calls = np.clip(rng.poisson(1.5, rows), 0, 12)
    usage = rng.beta(2, 5, rows)
    age = rng.integers(18, 81, rows)
    data_gb = np.clip(rng.gamma(2.0, 12.0, rows), 0, 250)
    region = rng.choice(np.array(REGIONS), rows, p=[0.3, 0.25, 0.25, 0.2])
    plan = rng.choice(np.array(PLANS), rows, p=[0.5, 0.35, 0.15])
    payment = rng.choice(np.array(PAYMENTS), rows)
    z = _logit(tenure, charges - price_shift, calls, usage, region, plan, drifted)
    label = (rng.random(rows) < 1 / (1 + np.exp(-z))).astype(np.int64)
    df = pl.DataFrame(
        {
            "tenure_months": tenure,
            "monthly_charges": np.round(charges, 2),
            "support_calls": calls,
            "usage_drop": np.round(usage, 4),
            "age": age,
            "data_gb": np.round(data_gb, 2),
            "region": region,
            "plan": plan,
            "payment": payment,
            LABEL: label,
        }
    )
    return _incidents(df, span, inc, rng)


def _logit(
    tenure: np.ndarray,
    charges: np.ndarray,
    calls: np.ndarray,
    usage: np.ndarray,
    region: np.ndarray,
    plan: np.ndarray,
    drifted: bool,
) -> np.ndarray:
    plan_effect = np.select([plan == "basic", plan == "premium"], [0.4, -0.6], 0.0)
    south = np.where(region == "south", 0.5, 0.0)
    z: np.ndarray
    if drifted:
        z = -0.03 * tenure + 0.06 * (charges - 70) - 0.1 * calls + 1.0 * usage + plan_effect + 0.3
        return z
    z = (
        -0.05 * tenure
        + 0.03 * (charges - 70)
        + 0.6 * calls
        + 3.0 * usage
        + plan_effect
        + south
        - 1.2
    )
    return z


def _incidents(
    df: pl.DataFrame, span: int, inc: Incidents, rng: np.random.Generator
) -> pl.DataFrame:
    if span == inc.schema_break:
        df = df.rename({"plan": "plan_tier"})
    if span == inc.missing_spike:
        for col, share in (("monthly_charges", 0.4), ("tenure_months", 0.25)):
            mask = rng.random(df.height) < share
            df = df.with_columns(
                pl.when(pl.Series(mask)).then(None).otherwise(pl.col(col)).alias(col)
            )
    return df


def write_spans(
    folder: Path,
    spans: int,
    rows: int = 2000,
    seed: int = 7,
    incidents: Incidents | None = None,
) -> list[Path]:
    """Write ``folder/span-1.csv`` ... ``span-N.csv``; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for span in range(1, spans + 1):
        path = folder / f"span-{span}.csv"
        make_span(span, rows, seed, incidents).write_csv(path)
        paths.append(path)
    return paths
