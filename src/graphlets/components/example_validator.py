"""ExampleValidator: schema checks and drift against the previous span, judged by the policy.

The ExampleAnomalies output carries the findings (JSON) and the properties ``blocking`` (1 when
the policy blocks the span: training is skipped and the span never enters a training window),
``error_count``, ``warning_count`` and ``anomaly_kinds``.
"""

from __future__ import annotations

import json
from typing import Any

from graphlets.pipeline import (
    ExampleAnomalies,
    ExampleStatistics,
    Input,
    Output,
    Schema,
    component,
    previous,
)
from graphlets.validation import (
    ValidationConfig,
    ValidationPolicy,
    drift,
    validate_statistics,
)


@component(
    category="process",
    type_name="ExampleValidator",
    inputs={"previous_statistics": previous("statistics")},
)
def example_validator(
    statistics: Input[ExampleStatistics],
    schema: Input[Schema],
    previous_statistics: Input[ExampleStatistics] | None,
    anomalies: Output[ExampleAnomalies],
    config: dict[str, Any] | None = None,
    policy: dict[str, Any] | None = None,
) -> dict[str, float]:
    """Validate this span; its findings and the blocking verdict go into ``anomalies``."""
    cfg = ValidationConfig.from_dict(config)
    stats = statistics.read_json()
    results = validate_statistics(stats, schema.read_json(), cfg)
    if previous_statistics is not None:
        results += drift(previous_statistics.read_json(), stats, cfg)
    decision = ValidationPolicy.from_dict(policy).decide(results)
    anomalies.write_json(decision.to_dict())
    anomalies.set("split_names", '["all"]')
    anomalies.set("blocking", int(decision.blocked))
    anomalies.set("error_count", len(decision.errors))
    anomalies.set("warning_count", len(decision.warnings))
    anomalies.set("anomaly_kinds", json.dumps(decision.counts_by_kind(), sort_keys=True))
    return {"errors": float(len(decision.errors)), "warnings": float(len(decision.warnings))}
