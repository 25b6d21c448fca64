"""The runner: one pipeline, one lease, any number of runs (one per span).

``Runner(store, pipeline).run(span)`` records a ``pipeline_run`` context and every step's execution
(see :mod:`graphlets.pipeline.record`). Opening a runner takes the pipeline's lease (one runner per
pipeline) and records executions left RUNNING by a dead runner as FAILED. ``resume(run)`` finishes a
failed or killed run in place: steps that finished are kept, the others run again (and hit the cache
when their inputs did not change).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pluggy

from graphlets.errors import InvalidArgumentError
from graphlets.model import Context, ExecutionState
from graphlets.pipeline import record as rec
from graphlets.pipeline.clock import Clock, WallClock
from graphlets.pipeline.dag import Pipeline
from graphlets.pipeline.environment import (
    environment,
    environment_json,
    environment_sha256,
    git_commit,
)
from graphlets.pipeline.executors import Executor, InlineExecutor
from graphlets.pipeline.lease import STATE, Lease, fail_stale
from graphlets.pipeline.publish import outcome_outputs
from graphlets.pipeline.scheduler import RunEngine
from graphlets.pipeline.session import NodeOutcome, Progress, RunOptions, Session, plain_hooks
from graphlets.pipeline.spans import SpanValue, parse_span, span_key, span_label
from graphlets.store import MetadataStore
from graphlets.store.blobs import BlobStore, default_blob_url


@dataclass
class RunResult:
    """How a run ended."""

    run_id: int
    run_name: str
    pipeline: str
    span: SpanValue | None
    state: str
    outcomes: dict[str, NodeOutcome] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the run is COMPLETE (skips included)."""
        return self.state == "COMPLETE"

    def counts(self) -> dict[str, int]:
        """Nodes per final state (``NOT_RUN`` for those behind a failure)."""
        out: dict[str, int] = {}
        for o in self.outcomes.values():
            name = o.state.name if o.state is not None else "NOT_RUN"
            out[name] = out.get(name, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``graphlets run --json``."""
        return {
            "run": f"run:{self.run_id}",
            "name": self.run_name,
            "pipeline": self.pipeline,
            "span": span_label(self.span) if self.span is not None else None,
            "state": self.state,
            "error": self.error,
            "counts": self.counts(),
            "nodes": {
                n: {
                    "state": o.state.name if o.state is not None else "NOT_RUN",
                    "execution": f"execution:{o.execution_id}" if o.execution_id else None,
                    "cached_from": f"execution:{o.cached_from}" if o.cached_from else None,
                    "error": o.error,
                    "skip_reason": o.skip_reason,
                }
                for n, o in self.outcomes.items()
            },
        }


def _no_progress(_kind: str, _doc: dict[str, Any]) -> None:
    return None


class Runner:
    """Runs one pipeline against one store; use as a context manager to hold the lease across
    several runs (continuous mode).

    ``clock`` sets the times the runner records (executions' and runs' ``start_time_ms`` /
    ``end_time_ms``; plugins see them on the executions they are handed): the wall clock by
    default, a :class:`~graphlets.pipeline.clock.SpanClock` to record each run at its span's
    time. The lease, cache ages and timeouts always use the wall clock.
    """

    def __init__(
        self,
        store: MetadataStore,
        pipeline: Pipeline,
        *,
        blobs: BlobStore | str | None = None,
        executor: Executor | None = None,
        hooks: pluggy.PluginManager | None = None,
        options: RunOptions | None = None,
        progress: Progress | None = None,
        param_overrides: Mapping[str, Any] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.store = store
        self.clock: Clock = clock or WallClock()
        self.param_overrides = dict(param_overrides or {})
        self.pipeline = pipeline.with_params(self.param_overrides) if param_overrides else pipeline
        self.blobs = (
            blobs
            if isinstance(blobs, BlobStore)
            else BlobStore(blobs or default_blob_url(store.url.text))
        )
        self._own_executor = executor is None
        self.executor: Executor = executor or InlineExecutor()
        if (
            not self.blobs.is_local
            and "memory" in str(self.blobs.fs.protocol)
            and (not self.executor.local_only)
        ):
            raise InvalidArgumentError(
                f"blob store {self.blobs.url} lives in this process's memory, which "
                f"{self.executor.name} workers cannot see: use a folder (--blobs DIR)"
            )
        self.hooks = hooks or plain_hooks()
        self.options = options or RunOptions()
        self.progress = progress or _no_progress
        self.session: Session | None = None
        self.stale_executions: list[int] = []
        self._env_uri: str | None = None

    # lifecycle ----------------------------------------------------------------------------
    def __enter__(self) -> Runner:
        self.open()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def open(self) -> Session:
        """Take the lease, register types, fail a dead runner's leftovers."""
        if self.session is not None:
            return self.session
        lease = Lease(self.store, self.pipeline.name, self.options.lease_ttl_s)
        lease.acquire()
        try:
            types = rec.ensure_types(self.store, self.pipeline)
            pctx, nodes = rec.pipeline_contexts(self.store, types, self.pipeline)
            reason = (
                f"runner {lease.previous_owner or '(unknown)'} stopped before this finished "
                "(its lease expired): `graphlets resume` reruns it, finished steps are kept"
            )
            self.stale_executions, _ = fail_stale(self.store, int(pctx.id or 0), reason)
        except BaseException:
            lease.release()
            raise
        self.session = Session(
            self.store,
            self.pipeline,
            self.blobs,
            self.executor,
            self.hooks,
            self.options,
            types,
            lease,
            self.progress,
            environment_sha256(),
            environment(),
            pctx,
            nodes,
            clock=self.clock,
        )
        return self.session

    def close(self) -> None:
        """Release the lease (and the executor when the runner made it)."""
        if self.session is not None:
            self.session.lease.release()
            self.session = None
        if self._own_executor:
            self.executor.close()

    # runs ---------------------------------------------------------------------------------
    def run(self, span: SpanValue | None = None) -> RunResult:
        """One run of the pipeline for ``span``."""
        if self.session is None:
            with self:
                return self.run(span)
        s = self.session
        self.clock.begin_run(span)
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
        name = f"{self.pipeline.name}-{span_label(span) if span is not None else 'run'}-{stamp}"
        name += f"-{uuid.uuid4().hex[:6]}"
        contexts = rec.open_run(
            self.store, s.types, s.pipeline_context, s.node_contexts, name, self._run_props(span)
        )
        return self._execute(contexts, span, {}, {})

    def resume(self, run: Context) -> RunResult:
        """Finish ``run`` (a ``pipeline_run`` context of this pipeline) in place."""
        if self.session is None:
            with self:
                return self.resume(run)
        s = self.session
        [run] = self.store.get_contexts_by_id([int(run.id or 0)])  # re-read: open() may fail it
        if run.custom_properties.get("pipeline") != self.pipeline.name:
            raise InvalidArgumentError(
                f"run:{run.id} ({run.name}) belongs to pipeline "
                f"{run.custom_properties.get('pipeline')!r}, not {self.pipeline.name!r}: load "
                "that pipeline's file"
            )
        if run.custom_properties.get(STATE) == "COMPLETE":
            raise InvalidArgumentError(
                f"run:{run.id} ({run.name}) is already COMPLETE: start a new run instead"
            )
        adopted, attempts = self._adopt(run)
        run = rec.update_context(self.store, run, drop=(rec.ERROR,), **_resumed_props(run))
        span = _stored_span(run)
        self.clock.begin_run(span)
        contexts = rec.RunContexts(s.pipeline_context, run, s.node_contexts)
        return self._execute(contexts, span, adopted, attempts)

    def _run_props(self, span: SpanValue | None) -> dict[str, Any]:
        s = self.session
        assert s is not None
        src = self.pipeline.source_file
        props: dict[str, Any] = {
            "pipeline": self.pipeline.name,
            STATE: "RUNNING",
            rec.START_TIME_MS: self.clock.now_ms(),
            "executor": self.executor.name,
            "owner": s.lease.owner,
            "blobs": self.blobs.url,
            rec.ENVIRONMENT_URI: self._environment_uri(),
            rec.ENVIRONMENT_SHA256: s.env_sha,
            "python": str(s.environment["python"]),
            "host": str(s.environment["host"]),
            "options": self.options.to_dict(),
            # JSON text, not a struct: MLMD structs turn every number into a float
            "param_overrides": json.dumps(self.param_overrides, sort_keys=True, default=str),
        }
        if span is not None:
            props.update({rec.SPAN: span_key(span), "span_label": span_label(span)})
        if self.pipeline.spans is not None:
            props[rec.DATA_FOLDER] = str(self.pipeline.spans.folder())
        if src is not None:
            props["pipeline_file"] = str(src)
            commit = git_commit(src)
            if commit:
                props["git_commit"] = commit
        return props

    def _environment_uri(self) -> str:
        """The environment's JSON in the blob store (written once per runner)."""
        if self._env_uri is None:
            self._env_uri = self.blobs.put_bytes(environment_json()).uri
        return self._env_uri

    def _adopt(self, run: Context) -> tuple[dict[str, NodeOutcome], dict[str, int]]:
        latest: dict[str, Any] = {}
        attempts: dict[str, int] = {}
        for ex in self.store.get_executions_by_context(int(run.id or 0)):
            node = ex.custom_properties.get("node")
            if isinstance(node, str) and node in self.pipeline.nodes:
                attempts[node] = attempts.get(node, 0) + 1
                if node not in latest or int(ex.id or 0) > int(latest[node].id or 0):
                    latest[node] = ex
        adopted: dict[str, NodeOutcome] = {}
        for node, ex in latest.items():
            state = ex.last_known_state
            if state in (ExecutionState.COMPLETE, ExecutionState.CACHED):
                adopted[node] = NodeOutcome(node, state, ex.id, outcome_outputs(self.store, ex.id))
            elif state == ExecutionState.CANCELED:
                reason = ex.custom_properties.get(rec.SKIP_REASON)
                adopted[node] = NodeOutcome(node, state, ex.id, skip_reason=str(reason))
        return adopted, attempts

    def _execute(
        self,
        contexts: rec.RunContexts,
        span: SpanValue | None,
        adopted: dict[str, NodeOutcome],
        attempts: dict[str, int],
    ) -> RunResult:
        s = self.session
        assert s is not None
        span_path = None
        if span is not None and self.pipeline.spans is not None:
            span_path = self.pipeline.spans.path(span)
        key = None if span is None else span_key(span)
        self.progress(
            "run_started",
            {
                "run": contexts.run.name,
                "span": span_label(span),
                "nodes": len(self.pipeline.nodes),
                "done": len(adopted),
            },
        )
        self._notify("before_run", run_context=contexts.run)
        engine = RunEngine(s, contexts, span, key, span_path, adopted, attempts)
        try:
            outcomes = engine.execute()
        except BaseException as exc:
            fail_stale(
                self.store,
                int(contexts.pipeline.id or 0),
                f"runner interrupted: {type(exc).__name__}: {exc}"[:500],
            )
            raise
        return self._finish(contexts, span, outcomes)

    def _finish(
        self, contexts: rec.RunContexts, span: SpanValue | None, outcomes: dict[str, NodeOutcome]
    ) -> RunResult:
        failed = [o for n, o in outcomes.items() if o.state == ExecutionState.FAILED]
        state = "FAILED" if failed else "COMPLETE"
        error = None
        if failed:
            first = failed[0]
            error = f"{first.node} failed: {first.error} (execution:{first.execution_id})"
        props: dict[str, Any] = {STATE: state, rec.END_TIME_MS: self.clock.now_ms()}
        if error:
            props[rec.ERROR] = error
        run = rec.update_context(self.store, contexts.run, **props)
        result = RunResult(
            int(run.id or 0), str(run.name), self.pipeline.name, span, state, outcomes, error
        )
        self._notify("after_run", run_context=run, state=state)
        self.progress("run_done", result.to_dict())
        return result

    def _notify(self, hook: str, **kwargs: Any) -> None:
        getattr(self.hooks.hook, hook)(store=self.store, pipeline=self.pipeline, **kwargs)


def _resumed_props(run: Context) -> dict[str, Any]:
    """RUNNING again; the last attempt's error moves to ``previous_error`` (the run's ``error``
    is only ever the error of its latest attempt)."""
    p = run.custom_properties
    done = p.get(rec.RESUMES)
    resumes = (done if isinstance(done, int) else 0) + 1
    props: dict[str, Any] = {STATE: "RUNNING", rec.RESUMES: resumes}
    old = p.get(rec.ERROR)
    if isinstance(old, str) and old:
        props[rec.PREVIOUS_ERROR] = old
    return props


def _stored_span(run: Context) -> SpanValue | None:
    label = run.custom_properties.get("span_label")
    if isinstance(label, str) and label:
        return parse_span(label)
    value = run.custom_properties.get(rec.SPAN)
    return int(value) if isinstance(value, int) else None
