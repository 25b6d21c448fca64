"""Recording a node's end in the store: COMPLETE, FAILED, CACHED, CANCELED.

Mixed into :class:`graphlets.pipeline.scheduler.RunEngine`; every method here is one
``put_execution`` (one transaction), so a reader never sees half a step.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphlets.model import (
    Artifact,
    ArtifactState,
    Event,
    EventType,
    Execution,
    ExecutionState,
)
from graphlets.pipeline import cache
from graphlets.pipeline import record as rec
from graphlets.pipeline.artifacts import ArtifactRef
from graphlets.pipeline.clock import wall_ms
from graphlets.pipeline.environment import environment_json
from graphlets.pipeline.record import RunContexts
from graphlets.pipeline.session import NodeOutcome, Session
from graphlets.pipeline.task import TaskResult

log = logging.getLogger("graphlets.pipeline")
ArtifactMap = dict[str, list[Artifact]]


def now_ms() -> int:
    """Milliseconds since the epoch by the wall clock (cache ages; recorded times go through the
    session's clock)."""
    return wall_ms()


@dataclass
class Inflight:
    """A node handed to the executor: its RUNNING execution and PENDING outputs."""

    node: str
    execution: Execution
    pending: dict[str, Artifact]
    inputs: ArtifactMap


class Recorder:
    """The writes of one run; needs the attributes below from the engine."""

    s: Session
    ctx: RunContexts
    span_key: int | None
    attempts: dict[str, int]
    produced: set[int]
    outcomes: dict[str, NodeOutcome]

    def _base_props(
        self,
        node: str,
        params: Mapping[str, Any] | None = None,
        key: str | None = None,
        inputs: ArtifactMap | None = None,
    ) -> dict[str, Any]:
        props: dict[str, Any] = {
            "node": node,
            "pipeline": self.s.pipeline.name,
            "pipeline_run": str(self.ctx.run.name),
            rec.ENVIRONMENT_SHA256: self.s.env_sha,
            rec.START_TIME_MS: self.s.clock.now_ms(),
        }
        if self.span_key is not None:
            props[rec.SPAN] = self.span_key
        if key is not None:
            props[rec.CACHE_KEY] = key
            props[rec.CODE_FINGERPRINT] = self.s.code_fingerprint(node)
        for name, value in (params or {}).items():
            props[rec.PARAM + name] = _property_value(value)
        if inputs:
            props[rec.INPUT_FINGERPRINTS] = cache.input_digests(inputs)
        return props

    def _new_execution(self, node: str, state: ExecutionState, props: dict[str, Any]) -> Execution:
        n = self.attempts.get(node, 0) + 1
        self.attempts[node] = n
        name = f"{self.ctx.run.name}.{node}" + (f".{n}" if n > 1 else "")
        return Execution(
            type_id=self.s.types.executions[node],
            name=name,
            last_known_state=state,
            custom_properties=props,
        )

    def _record_complete(self, job: Inflight, result: TaskResult) -> None:
        pairs: list[tuple[Artifact, Event | None]] = []
        comp = self.s.pipeline.nodes[job.node]
        for k, pend in job.pending.items():
            r = result.outputs[k]
            type_name = comp.outputs[k].type_name
            props = dict(r.properties)
            for name, value in props.items():
                rec.check_property_size(f"output {k!r} of {job.node!r}", name, value)
            if self.span_key is not None:
                props.setdefault(rec.SPAN, self.span_key)
            fp = rec.hash_json({"type": type_name, "content": r.sha256, "properties": props})
            declared, custom = rec.split_properties(self.s.types.artifact_types[type_name], props)
            custom.update(
                {rec.CONTENT_SHA256: r.sha256, rec.SIZE_BYTES: r.size, rec.FINGERPRINT: fp}
            )
            live = dataclasses.replace(
                pend,
                type=type_name,
                uri=r.uri,
                state=ArtifactState.LIVE,
                properties=declared,
                custom_properties=custom,
            )
            pairs.append((live, rec.event(EventType.OUTPUT, k)))
        ex = rec.with_state(job.execution, ExecutionState.COMPLETE, **self._result_props(result))
        _, art_ids = rec.put_execution(self.s.store, ex, pairs, ())
        outputs = {
            k: [dataclasses.replace(a, id=i)]
            for (a, e), i, k in zip(pairs, art_ids, job.pending, strict=True)
        }
        self.produced.update(art_ids)
        self._set(NodeOutcome(job.node, ExecutionState.COMPLETE, ex.id, outputs))
        self._notify("after_execution", node=comp, execution=ex, inputs=job.inputs, outputs=outputs)

    def _result_props(self, result: TaskResult) -> dict[str, Any]:
        props: dict[str, Any] = {
            rec.END_TIME_MS: self.s.clock.from_wall(result.end_ms),
            rec.CPU_SECONDS: result.cpu_seconds,
            rec.ATTEMPTS: result.attempts,
            "host": result.host,
        }
        if result.env_sha and result.env_sha != self.s.env_sha:
            props[rec.ENVIRONMENT_SHA256] = result.env_sha
            if result.environment:
                blob = self.s.blobs.put_bytes(environment_json(result.environment))
                props[rec.ENVIRONMENT_URI] = blob.uri
        props.update({rec.METRIC + k: v for k, v in result.metrics.items()})
        props.update({rec.PARAM + k: v for k, v in result.params.items()})
        return props

    def _record_failed(self, job: Inflight, result: TaskResult) -> None:
        error = result.error or "failed"
        props = {**self._result_props(result), rec.ERROR: error}
        if result.traceback:
            props["error_traceback"] = result.traceback[-1500:]
        ex = rec.with_state(job.execution, ExecutionState.FAILED, **props)
        abandoned: list[tuple[Artifact, Event | None]] = [
            (rec.with_artifact_state(a, ArtifactState.ABANDONED), None)
            for a in job.pending.values()
        ]
        rec.put_execution(self.s.store, ex, abandoned, ())
        self._set(NodeOutcome(job.node, ExecutionState.FAILED, ex.id, error=error))
        self._notify(
            "on_execution_failure", node=self.s.pipeline.nodes[job.node], execution=ex, error=error
        )

    def _record_cached(
        self,
        node: str,
        inputs: ArtifactMap,
        params: dict[str, Any],
        key: str,
        hit: cache.CacheHit,
        seconds: float,
    ) -> None:
        props = {**hit.logged, **self._base_props(node, params, key, inputs)}
        props.update(
            {
                rec.END_TIME_MS: self.s.clock.now_ms(),
                rec.CPU_SECONDS: round(seconds, 6),
                rec.CACHED_EXECUTION_ID: hit.execution_id,
            }
        )
        ex = self._new_execution(node, ExecutionState.CACHED, props)
        pairs = rec.input_pairs(inputs)
        pairs += [
            (a, rec.event(EventType.OUTPUT, k, i))
            for k, arts in hit.outputs.items()
            for i, a in enumerate(arts)
        ]
        exec_id, _ = rec.put_execution(self.s.store, ex, pairs, self.ctx.for_node(node))
        ex = dataclasses.replace(ex, id=exec_id)
        outputs = {k: list(v) for k, v in hit.outputs.items()}
        self.produced.update(int(a.id or 0) for arts in outputs.values() for a in arts)
        self._set(
            NodeOutcome(node, ExecutionState.CACHED, exec_id, outputs, cached_from=hit.execution_id)
        )
        self._notify(
            "after_execution",
            node=self.s.pipeline.nodes[node],
            execution=ex,
            inputs=inputs,
            outputs=outputs,
        )

    def _cancel(self, node: str, reason: str, details: dict[str, Any], inputs: ArtifactMap) -> None:
        props = self._base_props(node, inputs=inputs)
        props.update(
            {
                rec.END_TIME_MS: self.s.clock.now_ms(),
                rec.SKIP_REASON: reason,
                rec.SKIP_DETAILS: rec.bounded(_jsonable(details)),
            }
        )
        ex = self._new_execution(node, ExecutionState.CANCELED, props)
        exec_id, _ = rec.put_execution(
            self.s.store, ex, rec.input_pairs(inputs), self.ctx.for_node(node)
        )
        self._set(NodeOutcome(node, ExecutionState.CANCELED, exec_id, skip_reason=reason))
        self._notify(
            "after_execution",
            node=self.s.pipeline.nodes[node],
            execution=dataclasses.replace(ex, id=exec_id),
            inputs=inputs,
            outputs={},
        )

    def _fail_now(self, node: str, error: str, inputs: ArtifactMap) -> None:
        props = self._base_props(node, inputs=inputs)
        props.update({rec.END_TIME_MS: self.s.clock.now_ms(), rec.ERROR: error})
        ex = self._new_execution(node, ExecutionState.FAILED, props)
        exec_id, _ = rec.put_execution(
            self.s.store, ex, rec.input_pairs(inputs), self.ctx.for_node(node)
        )
        self._set(NodeOutcome(node, ExecutionState.FAILED, exec_id, error=error))
        self._notify(
            "on_execution_failure",
            node=self.s.pipeline.nodes[node],
            execution=dataclasses.replace(ex, id=exec_id),
            error=error,
        )

    # helpers ------------------------------------------------------------------------------
    def _set(self, outcome: NodeOutcome) -> None:
        self.outcomes[outcome.node] = outcome
        state = outcome.state.name if outcome.state is not None else "NOT_RUN"
        self.s.progress(
            "node_done",
            {
                "node": outcome.node,
                "state": state,
                "error": outcome.error,
                "skip_reason": outcome.skip_reason,
            },
        )

    def _notify(self, hook: str, **kwargs: Any) -> None:
        """Call a notification hook; a plugin's error is logged, never fatal to the run."""
        try:
            getattr(self.s.hooks.hook, hook)(
                store=self.s.store, pipeline=self.s.pipeline, run_context=self.ctx.run, **kwargs
            )
        except Exception:
            log.exception("graphlets plugin hook %s failed", hook)


def ref_of(a: Artifact) -> ArtifactRef:
    return ArtifactRef(int(a.id or 0), str(a.type), a.uri, rec.merged_properties(a))


def _property_value(value: Any) -> Any:
    """A parameter value as a property: scalars as they are, the rest as JSON text."""
    if isinstance(value, bool | int | float | str):
        return value
    return json.dumps(
        cache.param_fingerprint(value) if isinstance(value, Path) else value,
        sort_keys=True,
        default=str,
    )


def _jsonable(doc: Mapping[str, Any]) -> dict[str, Any]:
    return dict(json.loads(json.dumps(doc, default=str)))


def outcome_outputs(store: Any, execution_id: int) -> dict[str, list[Artifact]]:
    """Output artifacts of a recorded execution, by key (for adopting finished steps)."""
    events = [
        e
        for e in store.get_events_by_execution_ids([execution_id])
        if e.type == EventType.OUTPUT and e.key is not None
    ]
    arts = {a.id: a for a in store.get_artifacts_by_id([int(e.artifact_id or 0) for e in events])}
    out: dict[str, list[Artifact]] = {}
    for e in events:
        if e.artifact_id in arts:
            out.setdefault(str(e.key), []).append(arts[e.artifact_id])
    return out
