"""Store OpenLineage run events as MLMD entities, one atomic write per event.

The mapping (TFX's shapes, so every graphlets page and analysis reads the result):

* **job** -> an execution type named ``namespace/name`` and a ``node`` context of the same name;
  the root job (the parent job of a ``parent`` run facet, else the job itself) -> a ``pipeline``
  context, the root run -> a ``pipeline_run`` context; both children of the pipeline.
* **run** -> one execution named by its ``runId``, updated by each later event of the run:
  START/RUNNING -> RUNNING, COMPLETE -> COMPLETE, FAIL -> FAILED, ABORT -> CANCELED. A late START
  never moves a finished run back. START's time is ``start_time_ms``, the end's ``end_time_ms``
  (the runner's names, so cost by wall time works).
* **datasets** -> artifacts with ``uri`` ``namespace/name``, of type ``Dataset``, or ``Model`` for
  models (:mod:`graphlets.interop.openlineage_map`). An output is a new version (PENDING until the
  run completes, ABANDONED if it fails); an input links to the version its ``version`` facet names,
  else the newest version of that dataset, else a new REFERENCE artifact
  (:mod:`graphlets.interop.openlineage_artifacts`).
* **cost**: a ``cost`` run facet's ``cpuSeconds`` -> ``cpu_seconds``.
* **facets** -> struct custom properties: ``openlineage.run.<facet>`` and
  ``openlineage.job.<facet>`` on the execution, ``openlineage.dataset.<facet>`` on new artifacts
  (versions already stored are never rewritten by a later reader).

Types are created when missing, so events land in any MLMD-schema store, including one written by
ml-metadata; existing types are used as they are. Each event is one transaction
(:meth:`MetadataStore.atomic`) holding a lock on its run, so concurrent events of one run apply one
after the other and a refused event leaves nothing behind, new types included.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from graphlets.errors import AlreadyExistsError, NotFoundError
from graphlets.interop.openlineage_artifacts import PREFIX, Linker, storable
from graphlets.interop.openlineage_event import RunEventIn, parse_run_event
from graphlets.interop.openlineage_map import (
    ReceiverConfig,
    cpu_seconds,
    execution_type_name,
    facet_text,
    facet_time,
    is_cached,
)
from graphlets.model import (
    Context,
    ContextType,
    Execution,
    ExecutionState,
    ExecutionType,
    ParentContext,
    PropertyValue,
)
from graphlets.pipeline.record import (
    CPU_SECONDS,
    END_TIME_MS,
    ERROR,
    NODE,
    PIPELINE,
    PIPELINE_RUN,
    SKIP_REASON,
    START_TIME_MS,
)
from graphlets.store import MetadataStore

STATES = {
    "START": ExecutionState.RUNNING,
    "RUNNING": ExecutionState.RUNNING,
    "COMPLETE": ExecutionState.COMPLETE,
    "FAIL": ExecutionState.FAILED,
    "ABORT": ExecutionState.CANCELED,
}
FINAL = (
    ExecutionState.COMPLETE,
    ExecutionState.CACHED,
    ExecutionState.FAILED,
    ExecutionState.CANCELED,
)
ATTEMPTS = 5  # concurrent events of other runs may create a shared context first


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
    job: int


def receive_event(store: MetadataStore, doc: Any, config: ReceiverConfig | None = None) -> Received:
    """Validate ``doc`` (a parsed JSON run event) and store it in one transaction; nothing is
    written if it is malformed (:class:`graphlets.errors.InvalidArgumentError`)."""
    event = parse_run_event(doc)
    cfg = config or ReceiverConfig.from_env()
    # the run first, then the inputs it may create as REFERENCE artifacts, in one global order
    locks = [f"openlineage.run:{event.run_id}"]
    locks += [f"openlineage.dataset:{uri}" for uri in sorted({d.uri for d in event.inputs})]
    for attempt in range(ATTEMPTS):
        try:
            return store.atomic(lambda st: _apply(st, event, cfg), locks=locks)
        except AlreadyExistsError:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _ensure(store: MetadataStore, kind: str, t: Any) -> int:
    try:
        return int(getattr(store, f"get_{kind}_type")(t.name).id)
    except NotFoundError:
        put = getattr(store, f"put_{kind}_type")
        return int(put(t, can_add_fields=True, can_omit_fields=True))


def _types(store: MetadataStore, type_name: str) -> _Types:
    return _Types(
        pipeline=_ensure(store, "context", ContextType(PIPELINE)),
        run=_ensure(store, "context", ContextType(PIPELINE_RUN)),
        node=_ensure(store, "context", ContextType(NODE)),
        job=_ensure(store, "execution", ExecutionType(type_name)),
    )


def _apply(store: MetadataStore, event: RunEventIn, config: ReceiverConfig) -> Received:
    type_name = execution_type_name(event)
    types = _types(store, type_name)
    existing = store.get_execution_by_type_and_name(type_name, event.run_id)
    execution = _execution(event, types, existing)
    state = execution.last_known_state
    old = store.get_events_by_execution_ids([existing.id]) if existing and existing.id else []
    linker = Linker(store, config, old)
    pairs = linker.inputs(event.inputs)
    pairs += linker.outputs(event.outputs, state, state == ExecutionState.CACHED)
    exec_id, art_ids, ctx_ids = store.put_execution(
        execution, pairs, _contexts(event, types), reuse_context_if_already_exist=True
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
    old_state = existing.last_known_state if existing else ExecutionState.NEW
    state = _next_state(event, old_state)
    _identity_props(props, event, late=old_state in FINAL and state == old_state)
    _time_props(props, event, finishing=state in FINAL and old_state not in FINAL)
    cpu = cpu_seconds(event)
    if cpu is not None:
        props[CPU_SECONDS] = cpu
    reason = facet_text(event, SKIP_REASON)
    if event.event_type == "ABORT" and reason:
        props[SKIP_REASON] = reason
    message = event.run_facets.get("errorMessage", {}).get("message")
    if event.event_type == "FAIL" and isinstance(message, str):
        props[ERROR] = message.splitlines()[0][:500] if message.strip() else "failed"
    if existing is not None:
        return replace(existing, last_known_state=state, custom_properties=props)
    return Execution(types.job, name=event.run_id, last_known_state=state, custom_properties=props)


def _next_state(event: RunEventIn, old: ExecutionState) -> ExecutionState:
    """Events can arrive out of order: a finished run stays finished."""
    if old in FINAL:
        return old
    new = STATES.get(event.event_type or "", old)
    if new == ExecutionState.COMPLETE and is_cached(event):
        return ExecutionState.CACHED
    return new


def _identity_props(props: dict[str, PropertyValue], event: RunEventIn, late: bool) -> None:
    props[f"{PREFIX}run_id"] = event.run_id
    props[f"{PREFIX}job"] = event.job.qualified
    if event.producer:
        props[f"{PREFIX}producer"] = event.producer
    if event.event_type and not late:
        props[f"{PREFIX}event_type"] = event.event_type
    for name, facet in event.run_facets.items():
        if not late or f"{PREFIX}run.{name}" not in props:
            props[f"{PREFIX}run.{name}"] = storable(facet)
    for name, facet in event.job_facets.items():
        if not late or f"{PREFIX}job.{name}" not in props:
            props[f"{PREFIX}job.{name}"] = storable(facet)


def _time_props(props: dict[str, PropertyValue], event: RunEventIn, finishing: bool) -> None:
    if event.event_type == "START":
        props.setdefault(START_TIME_MS, event.event_time_ms)
    start = facet_time(event, START_TIME_MS)
    if start is not None:
        props.setdefault(START_TIME_MS, start)
    if finishing:
        props[END_TIME_MS] = facet_time(event, END_TIME_MS) or event.event_time_ms


def _contexts(event: RunEventIn, types: _Types) -> list[Context]:
    root_job = event.parent_job or event.job
    root_run = event.parent_run_id or event.run_id
    return [
        Context(types.pipeline, name=root_job.qualified),
        Context(types.run, name=root_run),
        Context(types.node, name=event.job.qualified),
    ]
