"""Store OpenLineage run events as MLMD entities, one atomic write per event.

The mapping (TFX's shapes, so every graphlets page and analysis reads the result):

* **job** -> an execution type named ``namespace/name`` and a ``node`` context of the same name;
  the root job (the parent job of a ``parent`` run facet, else the job itself) -> a ``pipeline``
  context, the root run -> a ``pipeline_run`` context; both children of the pipeline.
* **run** -> one execution named by its ``runId``, updated by each later event of the run:
  START/RUNNING -> RUNNING, COMPLETE -> COMPLETE, FAIL -> FAILED, ABORT -> CANCELED. A late START
  never moves a finished run back. START's time is ``start_time_ms``, the end's ``end_time_ms``
  (the runner's names, so cost by wall time works).
* **datasets** -> artifacts of type ``Dataset`` with ``uri`` ``namespace/name``. An output is a new
  version (PENDING until the run completes, ABANDONED if it fails); an input links to the newest
  version of that dataset, or a new REFERENCE artifact if the store has none.
* **facets** -> struct custom properties: ``openlineage.run.<facet>`` and
  ``openlineage.job.<facet>`` on the execution, ``openlineage.dataset.<facet>`` on new artifacts
  (versions already stored are never rewritten by a later reader).

Types are created when missing, so events land in any MLMD-schema store, including one written by
ml-metadata; existing types are used as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from graphlets.errors import AlreadyExistsError, NotFoundError
from graphlets.interop.openlineage_event import DatasetIn, RunEventIn, parse_run_event
from graphlets.model import (
    Artifact,
    ArtifactBaseType,
    ArtifactState,
    ArtifactType,
    Context,
    ContextType,
    Event,
    EventStep,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    ParentContext,
    PropertyValue,
)
from graphlets.store import MetadataStore

PIPELINE, PIPELINE_RUN, NODE, DATASET = "pipeline", "pipeline_run", "node", "Dataset"
PREFIX = "openlineage."
STATES = {
    "START": ExecutionState.RUNNING,
    "RUNNING": ExecutionState.RUNNING,
    "COMPLETE": ExecutionState.COMPLETE,
    "FAIL": ExecutionState.FAILED,
    "ABORT": ExecutionState.CANCELED,
}
FINAL = (ExecutionState.COMPLETE, ExecutionState.FAILED, ExecutionState.CANCELED)
OUTPUT_STATES = {
    ExecutionState.RUNNING: ArtifactState.PENDING,
    ExecutionState.COMPLETE: ArtifactState.LIVE,
    ExecutionState.FAILED: ArtifactState.ABANDONED,
    ExecutionState.CANCELED: ArtifactState.ABANDONED,
}


@dataclass(frozen=True)
class Received:
    """What one event became: typed ids of the execution, its artifacts and contexts."""

    execution: str
    state: str
    artifacts: tuple[str, ...]
    contexts: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON for the HTTP answer."""
        return {
            "execution": self.execution,
            "state": self.state,
            "artifacts": list(self.artifacts),
            "contexts": list(self.contexts),
        }


@dataclass(frozen=True)
class _Types:
    pipeline: int
    run: int
    node: int
    dataset: int
    job: int


def receive_event(store: MetadataStore, doc: Any) -> Received:
    """Validate ``doc`` (a parsed JSON run event) and store it; nothing is written if it is
    malformed (:class:`graphlets.errors.InvalidArgumentError`)."""
    event = parse_run_event(doc)
    types = _ensure_types(store, event)
    try:
        return _store(store, event, types)
    except AlreadyExistsError:
        return _store(store, event, types)  # a concurrent event of the same run created it first


def _ensure_types(store: MetadataStore, event: RunEventIn) -> _Types:
    def ctx_type(name: str) -> int:
        return _ensure(store, "context", ContextType(name))

    return _Types(
        pipeline=ctx_type(PIPELINE),
        run=ctx_type(PIPELINE_RUN),
        node=ctx_type(NODE),
        dataset=_ensure(
            store, "artifact", ArtifactType(DATASET, base_type=ArtifactBaseType.DATASET)
        ),
        job=_ensure(store, "execution", ExecutionType(event.job.qualified)),
    )


def _ensure(store: MetadataStore, kind: str, t: Any) -> int:
    try:
        return int(getattr(store, f"get_{kind}_type")(t.name).id)
    except NotFoundError:
        put = getattr(store, f"put_{kind}_type")
        return int(put(t, can_add_fields=True, can_omit_fields=True))


def _store(store: MetadataStore, event: RunEventIn, types: _Types) -> Received:
    existing = store.get_execution_by_type_and_name(event.job.qualified, event.run_id)
    execution = _execution(event, types, existing)
    state = execution.last_known_state
    old = store.get_events_by_execution_ids([existing.id]) if existing and existing.id else []
    pairs = _input_pairs(store, event.inputs, types, old)
    pairs += _output_pairs(store, event.outputs, types, old, state)
    contexts = _contexts(event, types)
    exec_id, art_ids, ctx_ids = store.put_execution(
        execution, pairs, contexts, reuse_context_if_already_exist=True
    )
    pipeline_id, run_id, node_id = ctx_ids
    links = [ParentContext(c, pipeline_id) for c in {run_id, node_id} if c != pipeline_id]
    if links:
        store.put_parent_contexts(links)
    return Received(
        execution=f"execution:{exec_id}",
        state=state.name,
        artifacts=tuple(f"artifact:{a}" for a in art_ids),
        contexts=tuple(f"context:{c}" for c in ctx_ids),
    )


def _execution(event: RunEventIn, types: _Types, existing: Execution | None) -> Execution:
    props: dict[str, PropertyValue] = dict(existing.custom_properties) if existing else {}
    props[f"{PREFIX}run_id"] = event.run_id
    props[f"{PREFIX}job"] = event.job.qualified
    if event.producer:
        props[f"{PREFIX}producer"] = event.producer
    if event.event_type:
        props[f"{PREFIX}event_type"] = event.event_type
    for name, facet in event.run_facets.items():
        props[f"{PREFIX}run.{name}"] = facet
    for name, facet in event.job_facets.items():
        props[f"{PREFIX}job.{name}"] = facet
    old_state = existing.last_known_state if existing else ExecutionState.NEW
    state = STATES.get(event.event_type or "", old_state)
    if old_state in FINAL:
        state = old_state  # events can arrive out of order: a finished run stays finished
    if event.event_type == "START":
        props.setdefault("start_time_ms", event.event_time_ms)
    if event.event_type in ("COMPLETE", "FAIL", "ABORT"):
        props["end_time_ms"] = event.event_time_ms
    message = event.run_facets.get("errorMessage", {}).get("message")
    if event.event_type == "FAIL" and isinstance(message, str):
        props["error"] = message.splitlines()[0][:500] if message else "failed"
    if existing is not None:
        return replace(existing, last_known_state=state, custom_properties=props)
    return Execution(types.job, name=event.run_id, last_known_state=state, custom_properties=props)


def _contexts(event: RunEventIn, types: _Types) -> list[Context]:
    root_job = event.parent_job or event.job
    root_run = event.parent_run_id or event.run_id
    return [
        Context(types.pipeline, name=root_job.qualified),
        Context(types.run, name=root_run),
        Context(types.node, name=event.job.qualified),
    ]


def _dataset_props(ds: DatasetIn) -> dict[str, PropertyValue]:
    props: dict[str, PropertyValue] = {
        f"{PREFIX}namespace": ds.namespace,
        f"{PREFIX}name": ds.name,
    }
    for name, facet in ds.facets.items():
        props[f"{PREFIX}dataset.{name}"] = facet
    return props


def _input_pairs(
    store: MetadataStore, inputs: Sequence[DatasetIn], types: _Types, old: Sequence[Event]
) -> list[tuple[Artifact, Event | None]]:
    linked = {int(e.artifact_id or 0) for e in old if e.type == EventType.INPUT}
    pairs: list[tuple[Artifact, Event | None]] = []
    seen: set[str] = set()
    for i, ds in enumerate(inputs):
        if ds.uri in seen:
            continue
        seen.add(ds.uri)
        found = _newest_version(store, ds.uri, types.dataset, linked)
        if found is None:
            found = Artifact(
                types.dataset,
                uri=ds.uri,
                state=ArtifactState.REFERENCE,
                custom_properties=_dataset_props(ds),
            )
        is_linked = found.id is not None and found.id in linked
        ev = None if is_linked else Event(type=EventType.INPUT, path=_path("inputs", i))
        pairs.append((found, ev))
    return pairs


def _newest_version(
    store: MetadataStore, uri: str, dataset_type: int, linked: set[int]
) -> Artifact | None:
    """The version this run already reads, else the newest LIVE or REFERENCE one, else None."""
    versions = [a for a in store.get_artifacts_by_uri(uri) if a.type_id == dataset_type]
    for a in versions:
        if a.id in linked:
            return a
    usable = [a for a in versions if a.state in (ArtifactState.LIVE, ArtifactState.REFERENCE)]
    return max(usable, key=lambda a: int(a.id or 0)) if usable else None


def _output_pairs(
    store: MetadataStore,
    outputs: Sequence[DatasetIn],
    types: _Types,
    old: Sequence[Event],
    state: ExecutionState,
) -> list[tuple[Artifact, Event | None]]:
    mine: dict[int, set[EventType]] = {}
    for e in old:
        if e.type != EventType.INPUT:
            mine.setdefault(int(e.artifact_id or 0), set()).add(e.type)
    current = {a.uri: a for a in store.get_artifacts_by_id(sorted(mine))}
    art_state = OUTPUT_STATES.get(state, ArtifactState.PENDING)
    ev_type = EventType.OUTPUT if state == ExecutionState.COMPLETE else EventType.PENDING_OUTPUT
    pairs: list[tuple[Artifact, Event | None]] = []
    seen: set[str] = set()
    for i, ds in enumerate(outputs):
        if ds.uri in seen:
            continue
        seen.add(ds.uri)
        found = current.get(ds.uri)
        props = _dataset_props(ds)
        if found is None:
            art = Artifact(types.dataset, uri=ds.uri, state=art_state, custom_properties=props)
        else:
            keep = found.state if found.state == ArtifactState.LIVE else art_state
            merged = {**found.custom_properties, **props}
            art = replace(found, state=keep, custom_properties=merged)
        already = found is not None and ev_type in mine.get(int(found.id or 0), set())
        if found is not None and found.state == ArtifactState.LIVE:
            already = True  # a completed output keeps its OUTPUT event; late events add none
        pairs.append((art, None if already else Event(type=ev_type, path=_path("outputs", i))))
    return pairs


def _path(key: str, index: int) -> tuple[EventStep, ...]:
    return (EventStep(key=key), EventStep(index=index))
