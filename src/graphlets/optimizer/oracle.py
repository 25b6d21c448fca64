"""The oracle: the same predictor, also told the latent causes a simulated trace records.

The simulator (``graphlets simulate``) writes, on every Trainer execution, the causes behind its
verdict as ``sim_*`` custom properties (drift magnitude, the true share of new data, ...). An oracle
that sees them as extra features, trained and thresholded exactly like the real predictor, gives the
best saving the trace allows at the same budget of missed pushes: what a perfect view of the causes
would buy, short of knowing the noise. It is only a bound for the benchmark, never used to decide.

Not given to the oracle: ``sim_outcome`` and ``sim_cause`` (the verdict itself) and ``sim_score``
(the blessing score includes each training's own noise, so it reveals the verdict). When the trace
also records that noise (``sim_noise``), ``sim_score - sim_noise`` (the score's deterministic
part) is a cause like the others and the oracle gets it.
"""

from __future__ import annotations

import polars as pl

LEAKY = ("sim_score", "sim_noise", "sim_outcome", "sim_cause")
NOISE, SCORE, DETERMINISTIC = "sim_noise", "sim_score", "sim_expected_score"


def oracle_causes(latent: pl.DataFrame | None) -> pl.DataFrame | None:
    """``gid`` plus the latent cause columns an oracle may use (None when the trace has none)."""
    if latent is None or latent.height == 0:
        return None
    frame = latent
    if NOISE in frame.columns and SCORE in frame.columns:
        frame = frame.with_columns((pl.col(SCORE) - pl.col(NOISE)).alias(DETERMINISTIC))
    keep = [c for c in frame.columns if c != "gid" and c not in LEAKY]
    if not keep:
        return None
    return frame.select("gid", *[pl.col(c).cast(pl.Float64) for c in keep])


def with_causes(features: pl.DataFrame, causes: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """``features`` with the cause columns joined (NaN where a training has none), same order."""
    names = [c for c in causes.columns if c != "gid"]
    joined = features.join(causes, on="gid", how="left", maintain_order="left")
    return joined.with_columns(pl.col(names).fill_null(float("nan"))), names
