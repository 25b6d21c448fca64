"""Everything the runner writes to the store, in TFX's shapes.

Contexts: ``pipeline`` (the pipeline's name), ``pipeline_run`` (one per run, child of the pipeline)
and ``node`` (``PIPELINE.NODE``, child of the pipeline); every execution is associated with all
three and every artifact it touches is attributed to them. An execution goes RUNNING (with its INPUT
events and its outputs as PENDING artifacts behind PENDING_OUTPUT events) and then, in one
``put_execution``, COMPLETE with its outputs LIVE behind OUTPUT events, or FAILED with its outputs
ABANDONED. A cache hit is one ``put_execution`` in state CACHED linking the existing outputs; a skip
is one in state CANCELED with ``skip_reason``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphlets.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from graphlets.model import (
    Artifact,
    ArtifactState,
    ArtifactType,
    Context,
    ContextType,
    Event,
    EventStep,
    EventType,
    Execution,
    ExecutionState,
    ParentContext,
    PropertyValue,
)
from graphlets.model.names import END_TIME_MS, START_TIME_MS
from graphlets.store import MetadataStore

__all__ = ["END_TIME_MS", "START_TIME_MS"]  # re-exported: the runner's names, defined in model

PIPELINE, PIPELINE_RUN, NODE = "pipeline", "pipeline_run", "node"
# execution custom properties (the times are shared with the readers: graphlets.model.names)
CPU_SECONDS = "cpu_seconds"
ERROR, SKIP_REASON, SKIP_DETAILS = "error", "skip_reason", "skip_details"
CACHE_KEY, CODE_FINGERPRINT = "cache_key", "code_fingerprint"
ENVIRONMENT_SHA256, ENVIRONMENT_URI = "environment_sha256", "environment_uri"
CACHED_EXECUTION_ID, ATTEMPTS, INPUT_FINGERPRINTS = "cached_execution_id", "attempts", "inputs"
PARAM, METRIC = "param.", "metric."
# artifact custom property: the checks behind a verdict (JSON list of {check, verdict, ...})
CHECKS = "checks"
# run (pipeline_run context) custom properties, besides the times, ERROR and SPAN above
DATA_FOLDER, PREVIOUS_ERROR, RESUMES = "data_folder", "previous_error", "resumes"
# artifact custom properties
CONTENT_SHA256, SIZE_BYTES, FINGERPRINT, SPAN = (
    "content_sha256",
    "size_bytes",
    "fingerprint",
    "span",
)


# MLMD indexes every string property (idx_*_property_string); PostgreSQL's btree rows hold at
# most 2704 bytes, so no string or struct we write may be longer than this.
MAX_PROPERTY_CHARS = 2000


def check_property_size(owner: str, name: str, value: PropertyValue) -> None:
    """Refuse a property value too long for MLMD's indexes on PostgreSQL (on every backend, so
    SQLite users learn it too)."""
    size = len(json.dumps(value, default=str)) if isinstance(value, dict | list | str) else 0
    if size > MAX_PROPERTY_CHARS:
        raise InvalidArgumentError(
            f"{owner} property {name!r} is {size} characters; MLMD indexes properties and "
            f"PostgreSQL caps them near {MAX_PROPERTY_CHARS}: write large values into the payload"
        )


def bounded(doc: dict[str, Any]) -> dict[str, Any]:
    """A struct short enough to store (see :data:`MAX_PROPERTY_CHARS`); a long one is replaced by
    a truncated JSON text."""
    text = json.dumps(doc, sort_keys=True, default=str)
    if len(text) * 4 // 3 + 16 <= MAX_PROPERTY_CHARS:  # structs are stored base64-encoded
        return doc
    return {"truncated": True, "json": text[: MAX_PROPERTY_CHARS // 2]}


@dataclass
class TypeIds:
    """Type ids of one pipeline's contexts, executions (by node) and artifacts (by type name)."""

    contexts: dict[str, int] = field(default_factory=dict)
    executions: dict[str, int] = field(default_factory=dict)
    artifacts: dict[str, int] = field(default_factory=dict)
    artifact_types: dict[str, ArtifactType] = field(default_factory=dict)


def ensure_types(store: MetadataStore, pipeline: Any) -> TypeIds:
    """Register the pipeline's types; reads first, writes only what is missing or lacks fields."""
    ids = TypeIds()
    for name in (PIPELINE, PIPELINE_RUN, NODE):
        ids.contexts[name] = _ensure(store, "context", ContextType(name))
    for node, comp in pipeline.nodes.items():
        ids.executions[node] = _ensure(store, "execution", comp.execution_type())
        specs = [*comp.inputs.values(), *comp.outputs.values()]
        for spec in specs:
            t = spec.artifact_class.artifact_type()
            if t.name not in ids.artifacts:
                ids.artifacts[t.name] = _ensure(store, "artifact", t)
    for name in ids.artifacts:
        ids.artifact_types[name] = store.get_artifact_type(name)
    return ids


def _ensure(store: MetadataStore, kind: str, t: Any) -> int:
    try:
        existing = getattr(store, f"get_{kind}_type")(t.name)
        if set(t.properties) <= set(existing.properties):
            return int(existing.id)
    except NotFoundError:
        pass
    put = getattr(store, f"put_{kind}_type")
    return int(put(t, can_add_fields=True, can_omit_fields=True))


@dataclass(frozen=True)
class RunContexts:
    """The three contexts of one run, and the node contexts of the pipeline."""

    pipeline: Context
    run: Context
    nodes: Mapping[str, Context]

    def for_node(self, node: str) -> list[Context]:
        """Contexts to pass to ``put_execution`` (by type and name, so they are linked, not
        rewritten)."""
        return [_by_name(self.pipeline), _by_name(self.run), _by_name(self.nodes[node])]


def _by_name(ctx: Context) -> Context:
    return Context(type_id=ctx.type_id, name=ctx.name)


def node_context_name(pipeline: str, node: str) -> str:
    """TFX's node context name."""
    return f"{pipeline}.{node}"


def get_or_create_context(store: MetadataStore, type_name: str, type_id: int, name: str) -> Context:
    """The context of this type and name, created when missing (race-safe)."""
    found = store.get_context_by_type_and_name(type_name, name)
    if found is not None:
        return found
    try:
        [cid] = store.put_contexts([Context(type_id=type_id, name=name)])
    except AlreadyExistsError:
        found = store.get_context_by_type_and_name(type_name, name)
        assert found is not None
        return found
    [ctx] = store.get_contexts_by_id([cid])
    return ctx


def pipeline_contexts(
    store: MetadataStore, ids: TypeIds, pipeline: Any
) -> tuple[Context, dict[str, Context]]:
    """The pipeline's context and its node contexts (created once, then reused), nested."""
    ct = ids.contexts
    pctx = get_or_create_context(store, PIPELINE, ct[PIPELINE], pipeline.name)
    nodes = {
        n: get_or_create_context(store, NODE, ct[NODE], node_context_name(pipeline.name, n))
        for n in pipeline.nodes
    }
    assert pctx.id is not None
    store.put_parent_contexts([ParentContext(int(c.id or 0), pctx.id) for c in nodes.values()])
    return pctx, nodes


def open_run(
    store: MetadataStore,
    ids: TypeIds,
    pipeline_context: Context,
    nodes: Mapping[str, Context],
    run_name: str,
    props: Mapping[str, PropertyValue],
) -> RunContexts:
    """A new ``pipeline_run`` context, child of the pipeline's."""
    run = Context(type_id=ids.contexts[PIPELINE_RUN], name=run_name, custom_properties=dict(props))
    [rid] = store.put_contexts([run])
    store.put_parent_contexts([ParentContext(rid, int(pipeline_context.id or 0))])
    run = dataclasses.replace(run, id=rid, type=PIPELINE_RUN)
    return RunContexts(pipeline_context, run, dict(nodes))


def update_context(
    store: MetadataStore, ctx: Context, drop: Sequence[str] = (), **props: PropertyValue
) -> Context:
    """Write more custom properties on a context (and remove those named in ``drop``); returns
    the updated record."""
    merged = {k: v for k, v in {**ctx.custom_properties, **props}.items() if k not in drop}
    new = dataclasses.replace(ctx, custom_properties=merged)
    store.put_contexts([new])
    return new


# artifacts ----------------------------------------------------------------------------------
def split_properties(
    t: ArtifactType, props: Mapping[str, PropertyValue]
) -> tuple[dict[str, PropertyValue], dict[str, PropertyValue]]:
    """Properties the type declares, and the rest as custom properties."""
    declared = {k: v for k, v in props.items() if k in t.properties}
    custom = {k: v for k, v in props.items() if k not in t.properties}
    return declared, custom


def merged_properties(a: Artifact | Execution | Context) -> dict[str, PropertyValue]:
    """Properties and custom properties in one dict (properties win)."""
    return {**a.custom_properties, **a.properties}


def artifact_fingerprint(a: Artifact) -> str:
    """The content hash an input contributes to a cache key: the one recorded when the artifact was
    published, else one computed from its type, uri and properties (artifacts of other tools)."""
    stored = a.custom_properties.get(FINGERPRINT)
    if isinstance(stored, str):
        return stored
    return hash_json({"type": a.type, "uri": a.uri, "properties": merged_properties(a)})


def hash_json(doc: Any) -> str:
    """sha256 of canonical JSON."""
    raw = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(raw).hexdigest()


def event(kind: EventType, key: str, index: int = 0) -> Event:
    """An event with TFX's path ``[key, index]``."""
    return Event(type=kind, path=(EventStep(key=key), EventStep(index=index)))


def input_pairs(inputs: Mapping[str, Sequence[Artifact]]) -> list[tuple[Artifact, Event | None]]:
    """(artifact, INPUT event) pairs; an artifact read under two keys gets one event."""
    pairs: list[tuple[Artifact, Event | None]] = []
    seen: set[int | None] = set()
    for key, arts in inputs.items():
        for i, a in enumerate(arts):
            if a.id in seen:
                continue
            seen.add(a.id)
            pairs.append((a, event(EventType.INPUT, key, i)))
    return pairs


# executions ---------------------------------------------------------------------------------
def put_execution(
    store: MetadataStore,
    execution: Execution,
    pairs: Sequence[tuple[Artifact, Event | None]],
    contexts: Sequence[Context],
) -> tuple[int, list[int]]:
    """``put_execution`` with contexts linked by name; returns (execution id, artifact ids)."""
    exec_id, art_ids, _ = store.put_execution(
        execution, pairs, contexts, reuse_context_if_already_exist=True
    )
    return exec_id, art_ids


def with_state(execution: Execution, state: ExecutionState, **props: PropertyValue) -> Execution:
    """The execution in a new state with more custom properties."""
    merged = {**execution.custom_properties, **props}
    return dataclasses.replace(execution, last_known_state=state, custom_properties=merged)


def with_artifact_state(a: Artifact, state: ArtifactState, **changes: Any) -> Artifact:
    """The artifact in a new state."""
    return dataclasses.replace(a, state=state, **changes)
