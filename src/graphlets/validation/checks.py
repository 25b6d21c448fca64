"""Schema checks of one span's statistics: columns, types, missing rates, ranges, domains.

Each check returns the findings only (an empty list means the span passed), so a caller can
concatenate the lists of several checks and hand them to a policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from graphlets.validation.config import ValidationConfig
from graphlets.validation.result import AnomalyKind, Severity, ValidationResult, failure
from graphlets.validation.schema import SchemaDoc
from graphlets.validation.stats import Stats, cdf_at, missing_fraction

K = AnomalyKind
_NUMERIC = {"int", "float", "bool"}


def validate_statistics(
    stats: Stats, schema: SchemaDoc, config: ValidationConfig | None = None
) -> list[ValidationResult]:
    """Every schema finding for ``stats`` (TFDV's ``validate_statistics``)."""
    cfg = config or ValidationConfig()
    if int(stats["num_rows"]) == 0:
        return [failure(K.EMPTY, Severity.ERROR, None, "the span has no rows: check the source")]
    found: list[ValidationResult] = []
    have = stats["features"]
    for name, spec in schema["features"].items():
        if name not in have:
            if spec.get("required", True):
                found.append(
                    failure(
                        K.MISSING_COLUMN,
                        Severity.ERROR,
                        name,
                        f"feature {name!r} is missing from the data: the source changed its "
                        "columns; fix the source or update the schema",
                        expected_dtype=spec["dtype"],
                    )
                )
            continue
        found.extend(check_feature(name, have[name], spec, cfg))
    for name in have:
        if name not in schema["features"]:
            found.append(
                failure(
                    K.NEW_COLUMN,
                    Severity.WARNING,
                    name,
                    f"feature {name!r} is not in the schema: add it if it is meant to be used",
                    dtype=have[name]["dtype"],
                )
            )
    return found


def check_feature(
    name: str, f: Mapping[str, Any], spec: Mapping[str, Any], cfg: ValidationConfig
) -> list[ValidationResult]:
    """Type, missing-rate, range and domain findings for one feature."""
    mismatch = _type(name, f, spec)
    if mismatch is not None:
        return [mismatch]
    found = [r for r in (_missing(name, f, spec, cfg),) if r is not None]
    if f["type"] == "numeric" and "min" in spec:
        found.extend(_range(name, f, spec, cfg))
    if f["type"] == "categorical" and "domain" in spec:
        found.extend(_domain(name, f, spec, cfg))
    return found


def _type(name: str, f: Mapping[str, Any], spec: Mapping[str, Any]) -> ValidationResult | None:
    got, want = str(f["dtype"]), str(spec["dtype"])
    if got == want or (got in _NUMERIC and want == "float"):
        return None
    severity = Severity.WARNING if {got, want} <= _NUMERIC else Severity.ERROR
    return failure(
        K.TYPE_MISMATCH,
        severity,
        name,
        f"feature {name!r} has type {got}, the schema says {want}: fix the source's types",
        dtype=got,
        expected=want,
    )


def _missing(
    name: str, f: Mapping[str, Any], spec: Mapping[str, Any], cfg: ValidationConfig
) -> ValidationResult | None:
    frac = missing_fraction(f)
    allowed = float(spec.get("max_missing_fraction", 0.0))
    if frac <= allowed:
        return None
    bad = frac > allowed * cfg.missing_error_factor or frac > allowed + 0.1
    return failure(
        K.MISSING_RATE,
        Severity.ERROR if bad else Severity.WARNING,
        name,
        f"feature {name!r} is missing in {frac:.1%} of rows (schema allows {allowed:.1%})",
        missing_fraction=frac,
        allowed=allowed,
    )


def _range(
    name: str, f: Mapping[str, Any], spec: Mapping[str, Any], cfg: ValidationConfig
) -> list[ValidationResult]:
    lo, hi = float(spec["min"]), float(spec["max"])
    if f["min"] is None or (float(f["min"]) >= lo and float(f["max"]) <= hi):
        return []
    cdf = cdf_at(f["quantiles"], np.array([lo, hi]))
    share = float(cdf[0] + (1.0 - cdf[1]))
    share = max(share, 1.0 / max(int(f["count"]), 1))
    severity = Severity.ERROR if share > cfg.max_out_of_range else Severity.WARNING
    return [
        failure(
            K.OUT_OF_RANGE,
            severity,
            name,
            f"feature {name!r} has about {share:.1%} of values outside [{lo:.4g}, {hi:.4g}] "
            f"(seen {float(f['min']):.4g}..{float(f['max']):.4g})",
            share=share,
            min=f["min"],
            max=f["max"],
            schema_min=lo,
            schema_max=hi,
        )
    ]


def _domain(
    name: str, f: Mapping[str, Any], spec: Mapping[str, Any], cfg: ValidationConfig
) -> list[ValidationResult]:
    domain = set(spec["domain"])
    unseen = {v: int(n) for v, n in f["values"].items() if v not in domain}
    if not unseen:
        return []
    share = sum(unseen.values()) / max(int(f["count"]), 1)
    top = sorted(unseen, key=lambda v: -unseen[v])[:5]
    return [
        failure(
            K.UNSEEN_CATEGORY,
            Severity.ERROR if share > cfg.max_unseen else Severity.WARNING,
            name,
            f"feature {name!r} has {len(unseen)} value(s) outside its domain in {share:.1%} of "
            f"rows (e.g. {', '.join(map(repr, top))}): add them to the schema if they are valid",
            share=share,
            unseen=top,
        )
    ]
