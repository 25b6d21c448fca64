"""OpenLineage out: START and COMPLETE/FAIL events per execution, sent by openlineage-python.

:class:`OpenLineageEmitter` implements the runner's ``before_execution``, ``after_execution`` and
``on_execution_failure`` hooks (:mod:`graphlets.hookspecs`): a RUNNING execution sends START (at its
``start_time_ms``, with its inputs), a COMPLETE or CACHED one COMPLETE, a CANCELED one ABORT and a
FAILED one FAIL (with an ``errorMessage`` facet), each at its ``end_time_ms``. The job is
``<pipeline>.<node>`` (TFX's node context name) in the configured namespace, with a ``parent``
facet naming the pipeline and its run, so Marquez (or graphlets' own receiver) groups the steps of
one run. Run ids are UUIDs derived from the store and the execution id, so re-sending an event
updates the same run instead of inventing another. The facets that make the round trip lossless
(execution type, cost, artifact types and versions, input keys) are in
:mod:`graphlets.interop.openlineage_facets`.

Registered as a module (``graphlets.plugins``), the hooks below act only when ``OPENLINEAGE_URL``
is set (with ``OPENLINEAGE_API_KEY`` and ``OPENLINEAGE_NAMESPACE``, the client's usual variables).
Sending never fails a run: a refused or unreachable endpoint is logged as a warning.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.facet_v2 import error_message_run, job_type_job, parent_run
from openlineage.client.generated.base import JobFacet, RunFacet
from openlineage.client.transport.http import (
    ApiKeyTokenProvider,
    HttpConfig,
    HttpTransport,
    TokenProvider,
)

from graphlets.hookspecs import hookimpl
from graphlets.interop.openlineage_facets import (
    FACET_PROPERTIES,
    OL_NAME,
    OL_NAMESPACE,
    PRODUCER,
    GraphletsRunFacet,
    cost_facet,
    dataset_name,
    input_datasets,
    output_datasets,
    run_facet,
    uuid_for,
)
from graphlets.model import Artifact, Context, Execution, ExecutionState
from graphlets.pipeline.record import END_TIME_MS, START_TIME_MS

__all__ = [
    "FACET_PROPERTIES",
    "OL_NAME",
    "OL_NAMESPACE",
    "PRODUCER",
    "GraphletsRunFacet",
    "OpenLineageEmitter",
    "dataset_name",
    "from_env",
]
log = logging.getLogger(__name__)
STATE_EVENTS = {
    ExecutionState.RUNNING: RunState.START,
    ExecutionState.COMPLETE: RunState.COMPLETE,
    ExecutionState.CACHED: RunState.COMPLETE,
    ExecutionState.CANCELED: RunState.ABORT,
    ExecutionState.FAILED: RunState.FAIL,
}


class OpenLineageEmitter:
    """A runner plugin sending an OpenLineage run event for every recorded execution.

    Args:
        url: the OpenLineage endpoint's base URL (events go to ``url/api/v1/lineage``).
        api_key: sent as ``Authorization: Bearer <api_key>`` (graphlets' receiver wants its
            ``GRAPHLETS_TOKEN`` here).
        namespace: the job namespace.
        timeout: seconds per HTTP request.
        client: an already configured client (tests, other transports); overrides the above.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        api_key: str | None = None,
        namespace: str = "graphlets",
        timeout: float = 5.0,
        client: OpenLineageClient | None = None,
    ) -> None:
        if client is None:
            if not url:
                raise ValueError("OpenLineageEmitter needs a url or a client")
            auth = ApiKeyTokenProvider({"apiKey": api_key}) if api_key else TokenProvider({})
            retry = {"total": 2, "connect": 2, "read": 1, "backoff_factor": 0.2}
            config = HttpConfig(url=url, timeout=timeout, auth=auth, retry=retry)
            client = OpenLineageClient(transport=HttpTransport(config))
        self.client = client
        self.url = url
        self.namespace = namespace
        self.sent = 0
        self.failed = 0

    # hooks --------------------------------------------------------------------------------
    @hookimpl
    def before_execution(
        self,
        store: Any,
        pipeline: Any,
        run_context: Context,
        node: Any,
        execution: Execution,
        inputs: Mapping[str, Sequence[Artifact]],
    ) -> None:
        """Send the START event of a RUNNING execution, with its inputs."""
        event = self.event_for(store, pipeline, run_context, node, execution, inputs, {})
        self._send(event)

    @hookimpl
    def after_execution(
        self,
        store: Any,
        pipeline: Any,
        run_context: Context,
        node: Any,
        execution: Execution,
        inputs: Mapping[str, Sequence[Artifact]],
        outputs: Mapping[str, Sequence[Artifact]],
    ) -> None:
        """Send the event of a COMPLETE, CACHED or CANCELED execution."""
        self._send(self.event_for(store, pipeline, run_context, node, execution, inputs, outputs))

    @hookimpl
    def on_execution_failure(
        self,
        store: Any,
        pipeline: Any,
        run_context: Context,
        node: Any,
        execution: Execution,
        error: str,
    ) -> None:
        """Send the FAIL event of a failed execution, with its error message."""
        event = self.event_for(store, pipeline, run_context, node, execution, {}, {}, error)
        self._send(event)

    # events -------------------------------------------------------------------------------
    def event_for(
        self,
        store: Any,
        pipeline: Any,
        run_context: Context,
        node: Any,
        execution: Execution,
        inputs: Mapping[str, Sequence[Artifact]],
        outputs: Mapping[str, Sequence[Artifact]],
        error: str | None = None,
    ) -> RunEvent:
        """The run event for one execution (pure: nothing is sent)."""
        state = ExecutionState.FAILED if error is not None else execution.last_known_state
        pipe_name = str(getattr(pipeline, "name", "pipeline"))
        node_name = str(getattr(node, "name", None) or execution.type or "node")
        store_key = str(getattr(getattr(store, "url", None), "text", ""))
        facets: dict[str, RunFacet] = {
            "parent": parent_run.ParentRunFacet(
                run=parent_run.Run(runId=uuid_for(store_key, f"context:{run_context.id}")),
                job=parent_run.Job(namespace=self.namespace, name=pipe_name),
                producer=PRODUCER,
            ),
            "graphlets": run_facet(execution, state, getattr(node, "type_name", None)),
        }
        cost = cost_facet(execution)
        if cost is not None:
            facets["cost"] = cost
        if error is not None:
            facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                message=error, programmingLanguage="python", producer=PRODUCER
            )
        job_facets: dict[str, JobFacet] = {
            "jobType": job_type_job.JobTypeJobFacet(
                processingType="BATCH", integration="GRAPHLETS", jobType="TASK", producer=PRODUCER
            )
        }
        event_type = STATE_EVENTS.get(state, RunState.OTHER)
        return RunEvent(
            eventType=event_type,
            eventTime=_event_time(execution, event_type == RunState.START),
            run=Run(runId=uuid_for(store_key, f"execution:{execution.id}"), facets=facets),
            job=Job(namespace=self.namespace, name=f"{pipe_name}.{node_name}", facets=job_facets),
            inputs=input_datasets(inputs, store_key),
            outputs=output_datasets(outputs, store_key),
            producer=PRODUCER,
        )

    def _send(self, event: RunEvent) -> None:
        try:
            self.client.emit(event)
            self.sent += 1
        except Exception as exc:  # never fail a pipeline run over lineage
            self.failed += 1
            log.warning(
                "OpenLineage event for job %s was not sent: %s", event.job.name, exc, exc_info=False
            )


def _event_time(execution: Execution, start: bool) -> str:
    props = {**execution.custom_properties, **execution.properties}
    value = props.get(START_TIME_MS if start else END_TIME_MS)
    ms = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    when = (
        dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc)
        if ms
        else dt.datetime.now(dt.timezone.utc)
    )
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# module-level plugin: on when OPENLINEAGE_URL is set ------------------------------------------
_default: OpenLineageEmitter | None = None


def from_env() -> OpenLineageEmitter | None:
    """The emitter configured by ``OPENLINEAGE_URL`` / ``OPENLINEAGE_API_KEY`` /
    ``OPENLINEAGE_NAMESPACE``, or None when no URL is set."""
    url = os.environ.get("OPENLINEAGE_URL")
    if not url:
        return None
    return OpenLineageEmitter(
        url,
        api_key=os.environ.get("OPENLINEAGE_API_KEY") or None,
        namespace=os.environ.get("OPENLINEAGE_NAMESPACE") or "graphlets",
    )


def _env_emitter() -> OpenLineageEmitter | None:
    global _default
    url = os.environ.get("OPENLINEAGE_URL")
    if not url:
        return None
    if _default is None or _default.url != url:
        _default = from_env()
    return _default


@hookimpl
def before_execution(
    store: Any,
    pipeline: Any,
    run_context: Context,
    node: Any,
    execution: Execution,
    inputs: Mapping[str, Sequence[Artifact]],
) -> None:
    """Module hook: emit the START event through the environment's emitter, if any."""
    emitter = _env_emitter()
    if emitter is not None:
        emitter.before_execution(store, pipeline, run_context, node, execution, inputs)


@hookimpl
def after_execution(
    store: Any,
    pipeline: Any,
    run_context: Context,
    node: Any,
    execution: Execution,
    inputs: Mapping[str, Sequence[Artifact]],
    outputs: Mapping[str, Sequence[Artifact]],
) -> None:
    """Module hook: emit through the environment's emitter, if any."""
    emitter = _env_emitter()
    if emitter is not None:
        emitter.after_execution(store, pipeline, run_context, node, execution, inputs, outputs)


@hookimpl
def on_execution_failure(
    store: Any,
    pipeline: Any,
    run_context: Context,
    node: Any,
    execution: Execution,
    error: str,
) -> None:
    """Module hook: emit the failure through the environment's emitter, if any."""
    emitter = _env_emitter()
    if emitter is not None:
        emitter.on_execution_failure(store, pipeline, run_context, node, execution, error)
