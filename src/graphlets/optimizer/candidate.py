"""The decision row of a training that is about to start (the online twin of ``trace``).

When the runner asks the gate about a training, the training has no execution yet: its facts come
from what the runner hands over (the resolved input artifacts, the run context, the node's code and
parameters) and from the store (what consumed its newest Examples, what else ran in the run). Each
fact is computed the way :mod:`graphlets.optimizer.trace` computes it for recorded trainings, so the
same features come out for the same situation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from graphlets.lineage.categories import categorize
from graphlets.model import Artifact, EventType, Execution
from graphlets.optimizer.trace import (
    ANOMALY_PROPERTIES,
    DECISION_COLUMNS,
    SIZE_PROPERTY,
    STRUCTURE_CATEGORIES,
    fingerprint,
    structure_hash,
)
from graphlets.store import MetadataStore

COST_PROPERTIES = ("cost", "cost_cpu_seconds", "cpu_seconds")
CANDIDATE_GID = -1


@dataclass(frozen=True)
class Pending:
    """A training about to start, as the gate sees it.

    Attributes:
        pipeline: pipeline name.
        node: node name (its series is ``pipeline.node``, TFX's node context name).
        execution_type: the trainer's execution type name.
        inputs: input key -> resolved artifacts.
        run_context_id: id of the run's ``pipeline_run`` context (None: unknown).
        code: code properties as the runner records them (``code_fingerprint``).
        config: config properties as recorded (``param.<name>`` -> value as text).
        t: decision time (ms).
    """

    pipeline: str
    node: str
    execution_type: str
    inputs: Mapping[str, Sequence[Artifact]]
    run_context_id: int | None
    t: int
    code: dict[str, str] = field(default_factory=dict)
    config: dict[str, str] = field(default_factory=dict)


def candidate_row(store: MetadataStore, p: Pending, history: pl.DataFrame) -> pl.DataFrame:
    """One decision row (``trace.DECISION_COLUMNS``) for ``p``; outcome columns are null."""
    arts = [a for group in p.inputs.values() for a in group]
    examples = [a for a in arts if a.type == "Examples" and _span(a) is not None]
    newest = max(examples, key=lambda a: (_span(a), a.id or 0), default=None)
    spans = sorted({int(_span(a) or 0) for a in examples})
    sizes = [_number(a, SIZE_PROPERTY) for a in examples]
    schemas = [int(a.id or 0) for a in arts if a.type == "Schema"]
    stats_id = _made_from(store, newest.id if newest else None, "ExampleStatistics", p.t)
    anomaly_id = _made_from(store, stats_id, "ExampleAnomalies", p.t)
    mine = history.filter(pl.col("pipeline") == p.pipeline)["pipeline_first"].drop_nulls()
    row: dict[str, Any] = {
        "gid": CANDIDATE_GID,
        "pipeline": p.pipeline,
        "series": f"{p.pipeline}.{p.node}",
        "model_type": p.execution_type.split(".")[-1],
        "t": p.t,
        "spans": spans,
        "n_spans": len(spans),
        "span_max": spans[-1] if spans else None,
        "examples_id": newest.id if newest else None,
        "data_bytes": sum(s for s in sizes if s is not None)
        if any(s is not None for s in sizes)
        else float("nan"),
        "ingest_cost": _producer_cost(store, newest.id if newest else None),
        "schema_id": max(schemas) if schemas else None,
        "code_fp": fingerprint(p.code),
        "config_fp": fingerprint(p.config),
        "structure": _structure(store, p),
        "stats_id": stats_id,
        "anomalies": _anomalies(store, anomaly_id),
        "pipeline_first": int(mine.min()) if mine.len() else p.t,  # type: ignore[arg-type]
    }
    frame = pl.DataFrame([row], schema_overrides={"spans": pl.List(pl.Int64)})
    missing = [c for c in DECISION_COLUMNS if c not in frame.columns]
    frame = frame.with_columns([pl.lit(None).alias(c) for c in missing])
    return frame.select(DECISION_COLUMNS).cast(
        {c: history.schema[c] for c in DECISION_COLUMNS if c in history.schema}, strict=False
    )


def _span(a: Artifact) -> int | None:
    value = a.properties.get("span", a.custom_properties.get("span"))
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _number(a: Artifact | Execution, name: str) -> float | None:
    value = a.properties.get(name, a.custom_properties.get(name))
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok else None  # type: ignore[arg-type]


def _made_from(store: MetadataStore, artifact_id: int | None, kind: str, t: int) -> int | None:
    """Newest ``kind`` artifact (made by ``t``) output by an execution that read ``artifact_id``."""
    if artifact_id is None:
        return None
    readers = [
        int(e.execution_id or 0)
        for e in store.get_events_by_artifact_ids([artifact_id])
        if e.type == EventType.INPUT
    ]
    if not readers:
        return None
    made = [
        int(e.artifact_id or 0)
        for e in store.get_events_by_execution_ids(readers)
        if e.type == EventType.OUTPUT
    ]
    found = [
        int(a.id or 0)
        for a in store.get_artifacts_by_id(sorted(set(made)))
        if a.type == kind and a.create_time_since_epoch <= t
    ]
    return max(found) if found else None


def _anomalies(store: MetadataStore, artifact_id: int | None) -> float:
    if artifact_id is None:
        return float("nan")
    [a] = store.get_artifacts_by_id([artifact_id])
    values = [v for v in (_number(a, n) for n in ANOMALY_PROPERTIES) if v is not None]
    return max(values) if values else float("nan")


def execution_cost(e: Execution) -> float:
    """Recorded cost (the first cost property), else wall time, as lineage computes it."""
    for name in COST_PROPERTIES:
        if name in e.properties or name in e.custom_properties:
            value = _number(e, name)
            if value is not None:
                return value
    start, end = _number(e, "start_time_ms"), _number(e, "end_time_ms")
    if start is not None and end is not None:
        return (end - start) / 1000.0
    return (e.last_update_time_since_epoch - e.create_time_since_epoch) / 1000.0


def _producer_cost(store: MetadataStore, artifact_id: int | None) -> float | None:
    if artifact_id is None:
        return None
    makers = [
        int(e.execution_id or 0)
        for e in store.get_events_by_artifact_ids([artifact_id])
        if e.type == EventType.OUTPUT
    ]
    costs = [execution_cost(e) for e in store.get_executions_by_id(makers)]
    return max(costs) if costs else None


def _structure(store: MetadataStore, p: Pending) -> str | None:
    """Hash of the step types of the run that started by now (as ``trace._structure``)."""
    if p.run_context_id is None:
        return None
    names = []
    for e in store.get_executions_by_context(p.run_context_id):
        start = _number(e, "start_time_ms")
        began = start if start is not None else e.create_time_since_epoch
        if began <= p.t and categorize(str(e.type or "")) in STRUCTURE_CATEGORIES:
            names.append(str(e.type))
    if not names:
        return None
    frame = pl.DataFrame({"type": names}).select(structure_hash(pl.col("type")))
    return str(frame["type"][0])
