"""What a validator returns: a :class:`ValidationResult`, never an exception or a side effect.

Validators only look at statistics and schemas; the runner records what they return and a
:class:`~graphlets.validation.policy.ValidationPolicy` decides what blocks (Hamilton's split of
"check" from "act").
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.IntEnum):
    """How bad a finding is; the policy blocks on ERROR by default."""

    INFO = 0
    WARNING = 1
    ERROR = 2


class AnomalyKind(str, enum.Enum):
    """The kinds of findings, named like TFDV's anomaly families."""

    MISSING_COLUMN = "missing_column"
    NEW_COLUMN = "new_column"
    TYPE_MISMATCH = "type_mismatch"
    MISSING_RATE = "missing_rate"
    OUT_OF_RANGE = "out_of_range"
    UNSEEN_CATEGORY = "unseen_category"
    DRIFT = "drift"
    SKEW = "skew"
    EMPTY = "empty"


@dataclass(frozen=True)
class ValidationResult:
    """One check's outcome.

    Attributes:
        passes: True when the check found nothing worth reporting.
        message: one line naming the feature, the problem and the numbers.
        diagnostics: the numbers behind the verdict (JSON-ready).
        severity: how the finding ranks when ``passes`` is False.
        kind: which family of check produced it.
        feature: the feature concerned, or None for whole-dataset checks.
    """

    passes: bool
    message: str
    diagnostics: Mapping[str, Any] = field(default_factory=dict)
    severity: Severity = Severity.INFO
    kind: AnomalyKind = AnomalyKind.EMPTY
    feature: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON shape, as stored in an ExampleAnomalies payload."""
        return {
            "passes": self.passes,
            "message": self.message,
            "diagnostics": dict(self.diagnostics),
            "severity": self.severity.name,
            "kind": self.kind.value,
            "feature": self.feature,
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> ValidationResult:
        """Inverse of :meth:`to_dict`."""
        return cls(
            bool(doc["passes"]),
            str(doc["message"]),
            dict(doc.get("diagnostics") or {}),
            Severity[str(doc.get("severity", "INFO"))],
            AnomalyKind(str(doc.get("kind", "empty"))),
            doc.get("feature"),
        )


def failure(
    kind: AnomalyKind, severity: Severity, feature: str | None, message: str, **diag: Any
) -> ValidationResult:
    """A failed check (shorthand used by the validators)."""
    return ValidationResult(False, message, diag, severity, kind, feature)
