"""Thresholds of the data checks, in one place (the pipeline passes them as a dict parameter)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from graphlets.errors import InvalidArgumentError


@dataclass(frozen=True)
class ValidationConfig:
    """Thresholds; every one has a default that suits daily tabular spans.

    Attributes:
        max_out_of_range: share of values outside the schema's range tolerated before an ERROR
            (a smaller non-zero share is a WARNING).
        max_unseen: share of rows with a category outside the domain tolerated before an ERROR.
        missing_error_factor: a missing fraction above the schema's allowance is an ERROR when it
            exceeds it by this factor (or by 0.1 absolute), else a WARNING.
        drift_js: Jensen-Shannon divergence (base 2, 0..1) between consecutive spans of a numeric
            feature above which drift is reported.
        drift_linf: L-infinity distance between category frequencies of consecutive spans above
            which drift is reported.
        drift_severity: severity of drift findings (``WARNING``: recorded, not blocking).
        skew_js, skew_linf: the same distances between training and serving data.
        drift_bins: quantile bins of the reference distribution used for Jensen-Shannon.
    """

    max_out_of_range: float = 0.01
    max_unseen: float = 0.01
    missing_error_factor: float = 2.0
    drift_js: float = 0.05
    drift_linf: float = 0.1
    drift_severity: str = "WARNING"
    skew_js: float = 0.05
    skew_linf: float = 0.1
    drift_bins: int = 20

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any] | None) -> ValidationConfig:
        """Build from a (partial) dict; unknown keys are an error naming the known ones."""
        doc = dict(doc or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(doc) - known)
        if unknown:
            raise InvalidArgumentError(
                f"validation config has unknown keys {unknown}: use {', '.join(sorted(known))}"
            )
        return cls(**doc)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for cache keys and reports)."""
        return asdict(self)
