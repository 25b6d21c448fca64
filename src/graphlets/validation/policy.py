"""The policy that acts on validation results: what blocks training and what is only recorded.

Validators report; the policy decides (configuration, not code): by default an ERROR blocks the
span and a WARNING is recorded. ``overrides`` re-rank a kind, e.g. ``{"drift": "ERROR"}`` to make
drift block, or ``{"new_column": "INFO"}`` to silence new columns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from graphlets.errors import InvalidArgumentError
from graphlets.validation.result import AnomalyKind, Severity, ValidationResult


@dataclass(frozen=True)
class PolicyDecision:
    """What the policy decided for one span."""

    blocked: bool
    results: tuple[ValidationResult, ...]

    @property
    def errors(self) -> list[ValidationResult]:
        """Findings at ERROR severity (the ones that block)."""
        return [r for r in self.results if r.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[ValidationResult]:
        """Findings at WARNING severity (recorded only)."""
        return [r for r in self.results if r.severity is Severity.WARNING]

    def counts_by_kind(self) -> dict[str, int]:
        """Findings per anomaly kind."""
        return dict(Counter(r.kind.value for r in self.results))

    def to_dict(self) -> dict[str, Any]:
        """JSON shape stored in the ExampleAnomalies payload."""
        return {
            "blocked": self.blocked,
            "counts_by_kind": self.counts_by_kind(),
            "anomalies": [r.to_dict() for r in self.results],
        }


@dataclass(frozen=True)
class ValidationPolicy:
    """Severity at or above ``block_at`` blocks; ``overrides`` change a kind's severity."""

    block_at: Severity = Severity.ERROR
    overrides: Mapping[AnomalyKind, Severity] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any] | None) -> ValidationPolicy:
        """``{"block_at": "ERROR", "overrides": {"drift": "ERROR"}}``."""
        doc = dict(doc or {})
        try:
            block = Severity[str(doc.get("block_at", "ERROR")).upper()]
            overrides = {
                AnomalyKind(k): Severity[str(v).upper()]
                for k, v in dict(doc.get("overrides") or {}).items()
            }
        except (KeyError, ValueError) as exc:
            raise InvalidArgumentError(
                f"validation policy {doc!r} is invalid ({exc}): severities are INFO, WARNING, "
                f"ERROR; kinds are {', '.join(k.value for k in AnomalyKind)}"
            ) from None
        return cls(block, overrides)

    def decide(self, results: Iterable[ValidationResult]) -> PolicyDecision:
        """Apply the overrides, then block when any finding reaches ``block_at``."""
        ranked = tuple(
            replace(r, severity=self.overrides[r.kind]) if r.kind in self.overrides else r
            for r in results
            if not r.passes
        )
        blocked = any(r.severity >= self.block_at for r in ranked)
        return PolicyDecision(blocked, ranked)
