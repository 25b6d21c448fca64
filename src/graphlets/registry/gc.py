"""Retention: ``graphlets gc`` deletes payloads past a policy, never what a rollback needs.

Kept always: every registered version's model that is in staging, shadow, canary or production,
carries an alias (``fallback`` included), or is among the last K versions that were in production.
Kept by policy: pipeline payloads of the newest ``keep_spans`` spans (windows and drift checks
read them). Everything else of the collected types is marked DELETED (MLMD's artifact state) and
its blob removed unless a kept artifact shares the bytes. Provenance rows (executions, events,
runs) are kept: the waste analysis and the audit trail read them. One ``GarbageCollection``
execution records what was deleted, in the same transaction as the state changes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from graphlets.errors import NotFoundError
from graphlets.model import Artifact, ArtifactState, Execution, ExecutionState, ExecutionType
from graphlets.registry.records import STAGES
from graphlets.registry.registry import ModelRegistry
from graphlets.store import MetadataStore
from graphlets.store.blobs import BlobStore

GC_TYPE = "GarbageCollection"
COLLECTED = (
    "Examples",
    "ExampleStatistics",
    "ExampleAnomalies",
    "TransformGraph",
    "Model",
    "ModelEvaluation",
    "PushedModel",
)


@dataclass(frozen=True)
class RetentionPolicy:
    """What gc keeps.

    Attributes:
        keep_spans: payloads of the newest N spans are kept.
        keep_last_production: the models of the last K versions that were in production are kept.
        types: artifact types whose payloads are collected.
    """

    keep_spans: int = 14
    keep_last_production: int = 3
    types: tuple[str, ...] = COLLECTED


@dataclass
class GcReport:
    """What gc did (or would do, with ``dry_run``)."""

    dry_run: bool
    cutoff_span: int | None
    artifacts_deleted: int = 0
    blobs_deleted: int = 0
    bytes_freed: int = 0
    spans_collected: int = 0
    protected_models: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return dataclasses.asdict(self)


def protected_models(registry: ModelRegistry, keep_last_production: int) -> set[int]:
    """Model artifact ids that gc must never delete."""
    keep: set[int] = set()
    live = set(STAGES) - {"archived"}
    for name in registry.models():
        history = registry.production_history(name)
        ordered: list[int] = []
        for number in reversed(history):
            if number not in ordered:
                ordered.append(number)
        recent = set(ordered[:keep_last_production])
        for v in registry.versions(name):
            wanted = v.stage in live or bool(v.aliases) or v.version in recent
            if wanted and v.model_artifact_id is not None:
                keep.add(v.model_artifact_id)
    return keep


def collect(
    store: MetadataStore,
    blobs: BlobStore,
    policy: RetentionPolicy | None = None,
    *,
    dry_run: bool = False,
) -> GcReport:
    """Apply ``policy`` to ``store`` and ``blobs``."""
    pol = policy or RetentionPolicy()
    registry = ModelRegistry(store)
    keep_ids = protected_models(registry, pol.keep_last_production)
    arts = [a for t in pol.types for a in _live(store, t)]
    spans = [s for a in arts if (s := _span(a)) is not None]
    cutoff = max(spans) - pol.keep_spans if spans else None
    report = GcReport(dry_run, cutoff, protected_models=sorted(keep_ids))
    if cutoff is None:
        return report
    doomed = [
        a
        for a in arts
        if int(a.id or 0) not in keep_ids and (_span(a) is not None and _span(a) <= cutoff)  # type: ignore[operator]
    ]
    kept_digests = {_digest(a) for a in arts if a not in doomed} - {None}
    report.artifacts_deleted = len(doomed)
    report.spans_collected = len({_span(a) for a in doomed})
    digests = {d for a in doomed if (d := _digest(a)) is not None} - kept_digests
    for d in sorted(digests):
        if blobs.exists(d):
            path = blobs.uri(d)
            report.bytes_freed += int(blobs.fs.size(path))
            report.blobs_deleted += 1
            if not dry_run:
                blobs.fs.rm(path)
    if not dry_run and doomed:
        _record(store, doomed, report)
    return report


def _record(store: MetadataStore, doomed: list[Artifact], report: GcReport) -> None:
    type_id = store.put_execution_type(ExecutionType(GC_TYPE))
    props: dict[str, Any] = {
        k: v for k, v in report.to_dict().items() if isinstance(v, int) and not isinstance(v, bool)
    }
    ex = Execution(type_id, last_known_state=ExecutionState.COMPLETE, custom_properties=props)
    pairs = [(dataclasses.replace(a, state=ArtifactState.DELETED), None) for a in doomed]
    store.put_execution(ex, pairs, [])


def _live(store: MetadataStore, type_name: str) -> list[Artifact]:
    try:
        arts = store.get_artifacts_by_type(type_name)
    except NotFoundError:  # the type was never registered
        return []
    return [a for a in arts if a.state == ArtifactState.LIVE]


def _span(a: Artifact) -> int | None:
    value = a.properties.get("span", a.custom_properties.get("span"))
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _digest(a: Artifact) -> str | None:
    value = a.custom_properties.get("content_sha256", a.properties.get("content_sha256"))
    return value if isinstance(value, str) else None
