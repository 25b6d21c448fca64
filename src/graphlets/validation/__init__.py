"""Pure data validation: statistics, schemas, anomalies, drift, skew, and the policy that acts.

Nothing here touches the store (the runner records what validators return). See
docs/howto/validate-data.md.
"""

from graphlets.validation.checks import validate_statistics
from graphlets.validation.config import ValidationConfig
from graphlets.validation.drift import distance, drift, js_divergence, linf_distance, skew
from graphlets.validation.policy import PolicyDecision, ValidationPolicy
from graphlets.validation.result import AnomalyKind, Severity, ValidationResult
from graphlets.validation.schema import SchemaConfig, infer_schema, signature
from graphlets.validation.stats import (
    compute_statistics,
    histogram,
    mean_std,
    merge_statistics,
    missing_fraction,
    summary,
    top_k,
)

__all__ = [
    "AnomalyKind",
    "PolicyDecision",
    "SchemaConfig",
    "Severity",
    "ValidationConfig",
    "ValidationPolicy",
    "ValidationResult",
    "compute_statistics",
    "distance",
    "drift",
    "histogram",
    "infer_schema",
    "js_divergence",
    "linf_distance",
    "mean_std",
    "merge_statistics",
    "missing_fraction",
    "signature",
    "skew",
    "summary",
    "top_k",
    "validate_statistics",
]
