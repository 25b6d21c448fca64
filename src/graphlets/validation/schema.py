"""Schemas inferred from statistics: types, required features, numeric ranges, category domains.

A schema is plain JSON (stored as a ``Schema`` payload and as a registered model's signature)::

    {"features": {"age": {"dtype": "int", "type": "numeric", "required": true,
                          "max_missing_fraction": 0.0, "min": 18, "max": 95},
                  "plan": {"dtype": "string", "type": "categorical", "required": true,
                           "max_missing_fraction": 0.01, "domain": ["basic", "pro"]}}}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphlets.validation.stats import Stats, missing_fraction

SchemaDoc = dict[str, Any]


@dataclass(frozen=True)
class SchemaConfig:
    """How a schema is inferred.

    Attributes:
        range_slack: numeric ranges widen by this share of their width on each side, so that the
            next day's normal extremes do not count as out of range.
        missing_slack: allowed missing fraction = observed + this (absolute).
        max_domain: a string feature with at most this many values gets a domain.
    """

    range_slack: float = 0.25
    missing_slack: float = 0.05
    max_domain: int = 100


def infer_schema(stats: Stats, config: SchemaConfig | None = None) -> SchemaDoc:
    """A schema under which ``stats`` is valid (TFDV's ``infer_schema``)."""
    cfg = config or SchemaConfig()
    features: dict[str, Any] = {}
    for name, f in stats["features"].items():
        miss = missing_fraction(f)
        spec: dict[str, Any] = {
            "type": f["type"],
            "dtype": f["dtype"],
            "required": True,
            "max_missing_fraction": round(min(1.0, miss + cfg.missing_slack), 4),
        }
        if f["type"] == "numeric" and f["min"] is not None:
            width = float(f["max"]) - float(f["min"])
            pad = cfg.range_slack * (width if width > 0 else abs(float(f["max"])) or 1.0)
            spec["min"] = float(f["min"]) - pad
            spec["max"] = float(f["max"]) + pad
        elif f["type"] == "categorical" and len(f["values"]) <= cfg.max_domain:
            spec["domain"] = sorted(f["values"])
        features[name] = spec
    return {"features": features}


def signature(schema: Mapping[str, Any], exclude: tuple[str, ...] = ()) -> dict[str, str]:
    """Feature name -> dtype: the input signature a registered model records."""
    return {n: str(f["dtype"]) for n, f in schema["features"].items() if n not in exclude}
