"""Production monitoring with late labels, and alerts that fire once per incident.

At serving time (:meth:`Monitor.serve`) the production version scores the span's traffic; its
predictions are kept and the serving data is compared with the model's training statistics
(training/serving skew). Labels arrive ``label_delay`` spans later (:meth:`Monitor.labels_arrive`):
then production performance is computed and stored as a ``ProductionMonitor`` execution.

Alert rules (:class:`AlertRule`) are checked on every measurement. A rule that starts failing opens
an incident and fires **once** (stderr sink, an ``Alert`` execution in the store, and an optional
webhook POST); while it keeps failing nothing more is sent; when it passes again the incident is
resolved (recorded, not alerted). This is the "no alert fatigue" rule of the interview study.
"""

from __future__ import annotations

import json
import operator
import sys
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from graphlets.components.evaluator import score
from graphlets.components.rollout import StagedRollout
from graphlets.model import Context, ContextType, Execution, ExecutionState, ExecutionType
from graphlets.model.names import END_TIME_MS, START_TIME_MS
from graphlets.validation import ValidationConfig, compute_statistics, skew

MONITOR_TYPE = "ProductionMonitor"
ALERT_TYPE = "Alert"
CONTEXT_TYPE = "monitoring"
_OPS: dict[str, Callable[[float, float], bool]] = {"<": operator.lt, ">": operator.gt}


@dataclass(frozen=True)
class AlertRule:
    """Fires while ``metric OP threshold`` holds, e.g. ``AlertRule("auc_low", "auc", "<", 0.7)``."""

    name: str
    metric: str
    op: str
    threshold: float

    def firing(self, metrics: dict[str, float]) -> bool:
        """True when the measurement breaks the rule (a missing or NaN metric never fires)."""
        value = metrics.get(self.metric)
        if value is None or not np.isfinite(value):
            return False
        return _OPS[self.op](value, self.threshold)


def stderr_sink(message: str) -> None:
    """Default alert sink: one line on stderr."""
    print(message, file=sys.stderr)


@dataclass
class Monitor:
    """Monitors the production version of one registered model."""

    rollout: StagedRollout
    label_delay: int = 3
    rules: Sequence[AlertRule] = (AlertRule("auc_low", "auc", "<", 0.7),)
    webhook: str | None = None
    sink: Callable[[str], None] = stderr_sink
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    served: dict[int, dict[str, Any]] = field(default_factory=dict)
    open_incidents: dict[str, int] = field(default_factory=dict)
    alerts_sent: int = 0
    measurements: list[dict[str, Any]] = field(default_factory=list)
    clock: Callable[[], int] | None = None  # recorded time (ms); None: MLMD's create time

    @property
    def store(self) -> Any:
        """The store the registry lives in."""
        return self.rollout.registry.store

    def serve(self, span: int, traffic: pl.DataFrame) -> dict[str, Any] | None:
        """Score ``traffic`` with the production version; remember it until the labels come."""
        prod = self.rollout.registry.production(self.rollout.name)
        if prod is None:
            return None
        model = self.rollout.load(prod)
        label = self.rollout.label
        feats = traffic.drop(label, strict=False)
        entry: dict[str, Any] = {"version": prod.version, "rows": traffic.height}
        train_stats = getattr(model, "graphlets_meta", {}).get("training_statistics")
        if train_stats:
            found = skew(train_stats, compute_statistics(feats), self.validation)
            entry["skewed_features"] = sorted(str(r.feature) for r in found)
        entry["traffic"] = traffic
        self.served[span] = entry
        return entry

    def labels_arrive(self, now: int) -> dict[str, Any] | None:
        """Labels of span ``now - label_delay`` arrived: measure, store, check the rules."""
        span = now - self.label_delay
        entry = self.served.pop(span, None)
        if entry is None:
            return None
        traffic = entry.pop("traffic")
        prod = self.rollout.registry.get(self.rollout.name, entry["version"])
        metrics = score(self.rollout.load(prod), traffic, self.rollout.label)
        metrics["skewed_features"] = float(len(entry.get("skewed_features", [])))
        doc = {"span": span, "measured_at_span": now, "version": entry["version"], **metrics}
        self._record(MONITOR_TYPE, {**doc, "skew": json.dumps(entry.get("skewed_features", []))})
        self.measurements.append(doc)
        for rule in self.rules:
            self._check(rule, metrics, span)
        return doc

    def _check(self, rule: AlertRule, metrics: dict[str, float], span: int) -> None:
        firing = rule.firing(metrics)
        if firing and rule.name not in self.open_incidents:
            self.open_incidents[rule.name] = span
            alert = {
                "rule": rule.name,
                "status": "firing",
                "model": self.rollout.name,
                "span": span,
                "metric": rule.metric,
                "value": metrics[rule.metric],
                "threshold": rule.threshold,
            }
            self._fire(alert)
        elif not firing and rule.name in self.open_incidents:
            opened = self.open_incidents.pop(rule.name)
            self._record(
                ALERT_TYPE,
                {"rule": rule.name, "status": "resolved", "span": span, "opened_span": opened},
            )

    def _fire(self, alert: dict[str, Any]) -> None:
        self.alerts_sent += 1
        self.sink(
            f"ALERT {alert['rule']}: {alert['model']} {alert['metric']}={alert['value']:.3f} "
            f"(threshold {alert['threshold']}) on span {alert['span']}"
        )
        self._record(ALERT_TYPE, alert)
        if self.webhook:
            post_json(self.webhook, alert, self.sink)

    def _record(self, kind: str, props: dict[str, Any]) -> None:
        store = self.store
        type_id = store.put_execution_type(ExecutionType(kind))
        ctx_type = store.put_context_type(ContextType(CONTEXT_TYPE))
        clean = {k: v for k, v in props.items() if isinstance(v, int | float | str)}
        clean = {k: v for k, v in clean.items() if not (isinstance(v, float) and np.isnan(v))}
        if self.clock is not None:
            clean[START_TIME_MS] = clean[END_TIME_MS] = self.clock()
        ex = Execution(type_id, last_known_state=ExecutionState.COMPLETE, custom_properties=clean)
        ctx = Context(ctx_type, name=self.rollout.name)
        store.put_execution(ex, [], [ctx], reuse_context_if_already_exist=True)


def post_json(url: str, doc: dict[str, Any], sink: Callable[[str], None] = stderr_sink) -> bool:
    """POST ``doc`` as JSON; a failing receiver is reported to ``sink``, never raised."""
    req = urllib.request.Request(
        url,
        data=json.dumps(doc, default=str).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=3) as resp:
            return 200 <= int(resp.status) < 300
    except OSError as exc:
        sink(f"alert webhook {url} failed: {exc}")
        return False
