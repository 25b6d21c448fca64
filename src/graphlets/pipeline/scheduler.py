"""One pipeline run: resolve, decide (condition, hooks, cache), run, record; node by node.

The scheduler is the only writer. A node starts when every upstream node of this run is done; it is
skipped with "upstream skipped" when a required upstream output was skipped, and not run at all when
an upstream node failed (independent branches still run, so a resume has less left to do).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path
from typing import Any

from graphlets.errors import (
    ConcurrencyError,
    GraphletsError,
    InvalidArgumentError,
    NotFoundError,
)
from graphlets.model import (
    Artifact,
    ArtifactState,
    EventType,
    ExecutionState,
)
from graphlets.pipeline import cache
from graphlets.pipeline import record as rec
from graphlets.pipeline.artifacts import Input, Inputs
from graphlets.pipeline.component import Component
from graphlets.pipeline.conditions import CallableCondition
from graphlets.pipeline.publish import ArtifactMap, Inflight, Recorder, now_ms, ref_of
from graphlets.pipeline.record import RunContexts
from graphlets.pipeline.resolvers import ResolveContext
from graphlets.pipeline.session import NodeOutcome, Session
from graphlets.pipeline.spans import SpanValue
from graphlets.pipeline.task import InputValue, TaskResult, TaskSpec, headline


class _Skip(Exception):
    def __init__(self, reason: str, details: dict[str, Any]) -> None:
        super().__init__(reason)
        self.reason, self.details = reason, details


class RunEngine(Recorder):
    """Runs the nodes of one run that are not already finished (``adopted`` on resume)."""

    def __init__(
        self,
        session: Session,
        contexts: RunContexts,
        span: SpanValue | None,
        span_key: int | None,
        span_path: Path | None,
        adopted: Mapping[str, NodeOutcome],
        attempts: Mapping[str, int],
    ) -> None:
        self.s = session
        self.ctx = contexts
        self.span, self.span_key, self.span_path = span, span_key, span_path
        self.outcomes: dict[str, NodeOutcome] = dict(adopted)
        self.attempts = dict(attempts)
        self.produced: set[int] = {
            int(a.id) for o in adopted.values() for arts in o.outputs.values() for a in arts if a.id
        }
        self.inflight: dict[Future[TaskResult], Inflight] = {}

    # loop ---------------------------------------------------------------------------------
    def execute(self) -> dict[str, NodeOutcome]:
        """Run to the end; returns every node's outcome."""
        pending = [n for n in self.s.pipeline.order if n not in self.outcomes]
        while True:
            self._start_ready(pending)
            if not self.inflight:
                break
            done, _ = wait(list(self.inflight), return_when=FIRST_COMPLETED)
            for fut in done:
                self._finish(self.inflight.pop(fut), fut)
        return self.outcomes

    def _start_ready(self, pending: list[str]) -> None:
        progressed = True
        while progressed:
            progressed = False
            for node in list(pending):
                if len(self.inflight) >= self.s.executor.workers:
                    return
                if self.s.lease.lost:
                    raise ConcurrencyError(
                        f"pipeline {self.s.pipeline.name!r}: another runner took the lease: "
                        "this run stopped; see `graphlets runs ls`"
                    )
                ups = self.s.pipeline.upstream[node]
                if all(u in self.outcomes and self.outcomes[u].done for u in ups):
                    pending.remove(node)
                    progressed = True
                    self._start(node)

    # starting -----------------------------------------------------------------------------
    def _start(self, node: str) -> None:
        comp = self.s.pipeline.nodes[node]
        failed = [
            u
            for u in sorted(self.s.pipeline.upstream[node])
            if not self.outcomes[u].succeeded and self.outcomes[u].state != ExecutionState.CANCELED
        ]
        if failed:
            self._set(NodeOutcome(node, None, error=f"upstream {failed[0]!r} failed"))
            return
        inputs: ArtifactMap = {}
        try:
            inputs = self._resolve(comp)
            self._decide(comp, inputs)
        except _Skip as skip:
            self._cancel(node, skip.reason, skip.details, inputs)
            return
        except GraphletsError as exc:
            self._fail_now(node, str(exc), inputs)
            return
        params = self.s.pipeline.param_values(node)
        keyed = {**params, **{f"<{k}>": v for k, v in self._runtime(comp).items() if k != "run_id"}}
        key = cache.cache_key(comp.name, self.s.code_fingerprint(node), keyed, inputs)
        if not self._from_cache(comp, inputs, params, key):
            self._submit(node, comp, inputs, params, key)

    def _from_cache(
        self, comp: Component, inputs: ArtifactMap, params: dict[str, Any], key: str
    ) -> bool:
        """Record a CACHED execution when a usable earlier result exists."""
        if not self._cache_enabled(comp):
            return False
        t0 = time.perf_counter()
        hit = cache.lookup(
            self.s.store, key, max_age_s=self._max_age(comp), now_ms=now_ms(), blobs=self.s.blobs
        )
        if hit is None:
            return False
        self._record_cached(comp.name, inputs, params, key, hit, time.perf_counter() - t0)
        return True

    def _resolve(self, comp: Component) -> ArtifactMap:
        out: ArtifactMap = {}
        for spec in comp.inputs.values():
            producer = self.s.pipeline.producers.get(spec.channel)
            this_run: tuple[Artifact, ...] = ()
            producer_ctx = key = None
            if producer is not None:
                done = self.outcomes.get(producer.node)
                if spec.resolver.edge and done is not None and not done.succeeded:
                    if not spec.optional:
                        raise _Skip("upstream skipped", {"upstream": producer.node})
                elif done is not None:
                    this_run = tuple(done.outputs.get(producer.key, ()))
                producer_ctx, key = self.ctx.nodes[producer.node].id, producer.key
            rc = ResolveContext(
                self.s.store,
                int(self.ctx.pipeline.id or 0),
                self.span_key,
                self.s.types.artifacts[spec.type_name],
                producer_ctx,
                key,
                this_run,
                frozenset(self.produced),
            )
            arts = spec.resolver.resolve(rc)
            if not arts and not spec.optional:
                raise NotFoundError(
                    f"input {spec.key!r} of {comp.name!r} ({spec.resolver.describe()}) found no "
                    f"{spec.type_name} artifact: run the producer first, or make the input "
                    "optional (annotate it `| None`)"
                )
            out[spec.key] = arts if spec.many else arts[:1]
        return out

    def _decide(self, comp: Component, inputs: ArtifactMap) -> None:
        """Raise _Skip when the condition is unmet or a plugin skips the node."""
        if comp.when is not None:
            try:
                if isinstance(comp.when, CallableCondition):
                    ok, why = comp.when.evaluate_with(self._handles(comp, inputs))
                else:
                    ok, why = comp.when.evaluate(inputs)
            except Exception as exc:
                raise InvalidArgumentError(
                    f"the when= condition of {comp.name!r} raised {headline(exc)}: fix it"
                ) from exc
            if not ok:
                raise _Skip(f"condition not met: {why}", {"condition": why})
        try:
            decision = self.s.hooks.hook.should_skip_execution(
                store=self.s.store,
                pipeline=self.s.pipeline,
                run_context=self.ctx.run,
                node=comp,
                execution_type=comp.execution_type(),
                inputs=inputs,
            )
        except Exception as exc:
            raise InvalidArgumentError(
                f"a should_skip_execution plugin raised {headline(exc)} for {comp.name!r}: fix "
                "or unregister the plugin (GRAPHLETS_PLUGINS, entry points)"
            ) from exc
        if decision is not None:
            raise _Skip(decision.reason, dict(decision.details))

    def _handles(self, comp: Component, inputs: ArtifactMap) -> dict[str, Any]:
        handles: dict[str, Any] = {}
        for key, arts in inputs.items():
            items = [Input[Any](ref_of(a), self.s.blobs) for a in arts]
            if comp.inputs[key].many:
                handles[key] = Inputs(items)
            else:
                handles[key] = items[0] if items else None
        return handles

    def _cache_enabled(self, comp: Component) -> bool:
        o = self.s.options
        return comp.cache and not o.no_cache and comp.name not in o.no_cache_for

    def _max_age(self, comp: Component) -> float | None:
        ages = [a for a in (comp.cache_max_age, self.s.options.cache_max_age_s) if a is not None]
        return min(ages) if ages else None

    # recording ----------------------------------------------------------------------------
    def _submit(
        self, node: str, comp: Component, inputs: ArtifactMap, params: dict[str, Any], key: str
    ) -> None:
        ex = self._new_execution(
            node, ExecutionState.RUNNING, self._base_props(node, params, key, inputs)
        )
        pending = {
            k: Artifact(
                type_id=self.s.types.artifacts[o.type_name],
                name=f"{ex.name}.{k}",
                state=ArtifactState.PENDING,
            )
            for k, o in comp.outputs.items()
        }
        pairs = rec.input_pairs(inputs)
        n_in = len(pairs)
        pairs += [(a, rec.event(EventType.PENDING_OUTPUT, k)) for k, a in pending.items()]
        exec_id, art_ids = rec.put_execution(self.s.store, ex, pairs, self.ctx.for_node(node))
        ex = dataclasses.replace(ex, id=exec_id)
        pending = {
            k: dataclasses.replace(a, id=i)
            for (k, a), i in zip(pending.items(), art_ids[n_in:], strict=True)
        }
        self._notify("before_execution", node=comp, execution=ex, inputs=inputs)
        spec = TaskSpec(
            node=node,
            fn=comp.fn,
            params=params,
            runtime=self._runtime(comp),
            inputs={
                k: InputValue(tuple(ref_of(a) for a in inputs.get(k, [])), s.many, s.optional)
                for k, s in comp.inputs.items()
            },
            outputs={k: o.artifact_class for k, o in comp.outputs.items()},
            blob_url=self.s.blobs.url,
            retries=comp.retries,
            retry_backoff=comp.retry_backoff,
            scheduler_env_sha=self.s.env_sha,
        )
        self.s.progress("node_started", {"node": node})
        try:
            fut = self.s.executor.submit(spec)
        except Exception as exc:  # unpicklable arguments, a cluster gone: the step fails
            fut = Future()
            fut.set_exception(exc)
        self.inflight[fut] = Inflight(node, ex, pending, inputs)

    def _runtime(self, comp: Component) -> dict[str, Any]:
        values = {"span": self.span, "span_path": self.span_path, "run_id": str(self.ctx.run.name)}
        return {k: values[k] for k in comp.runtime}

    def _finish(self, job: Inflight, fut: Future[TaskResult]) -> None:
        try:
            result = fut.result()
        except Exception as exc:  # not handed over, the worker died, the cluster went away
            now = now_ms()
            result = TaskResult(
                job.node,
                ok=False,
                error=f"executor error: {headline(exc)}",
                start_ms=now,
                end_ms=now,
            )
        if result.ok:
            try:
                self._record_complete(job, result)
                return
            except GraphletsError as exc:  # e.g. a property value the type declares otherwise
                result.ok, result.error = False, str(exc)
        self._record_failed(job, result)
