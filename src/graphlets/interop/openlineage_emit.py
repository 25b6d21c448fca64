"""OpenLineage out: one run event per execution the runner records, sent by openlineage-python.

:class:`OpenLineageEmitter` implements the runner's ``after_execution`` and
``on_execution_failure`` hooks (:mod:`graphlets.hookspecs`): COMPLETE and CACHED executions become
COMPLETE events, CANCELED ones ABORT, FAILED ones FAIL (with an ``errorMessage`` facet). The job is
``<pipeline>.<node>`` (TFX's node context name) in the configured namespace, with a ``parent``
facet naming the pipeline and its run, so Marquez (or graphlets' own receiver) groups the steps of
one run. Run ids are UUIDs derived from the store and the execution id, so re-sending an event
updates the same run instead of inventing another.

Registered as a module (``graphlets.plugins``), the hooks below act only when ``OPENLINEAGE_URL``
is set (with ``OPENLINEAGE_API_KEY`` and ``OPENLINEAGE_NAMESPACE``, the client's usual variables).
Sending never fails a run: a refused or unreachable endpoint is logged as a warning.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import attr
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import error_message_run, job_type_job, parent_run
from openlineage.client.generated.base import JobFacet, RunFacet
from openlineage.client.transport.http import (
    ApiKeyTokenProvider,
    HttpConfig,
    HttpTransport,
    TokenProvider,
)

from graphlets import __version__
from graphlets.hookspecs import hookimpl
from graphlets.model import Artifact, Context, Execution, ExecutionState
from graphlets.model.serialize import json_value

log = logging.getLogger(__name__)
PRODUCER = f"https://github.com/graphlets/graphlets/tree/v{__version__}"
OL_NAMESPACE, OL_NAME = "openlineage.namespace", "openlineage.name"
STATE_EVENTS = {
    ExecutionState.COMPLETE: RunState.COMPLETE,
    ExecutionState.CACHED: RunState.COMPLETE,
    ExecutionState.CANCELED: RunState.ABORT,
    ExecutionState.FAILED: RunState.FAIL,
}
FACET_PROPERTIES = ("cpu_seconds", "start_time_ms", "end_time_ms", "skip_reason", "cache_key")


@attr.define
class GraphletsRunFacet(RunFacet):
    """Where the event came from in graphlets: the execution's typed id, state and key numbers."""

    execution: str
    state: str
    type: str | None = None
    properties: dict[str, Any] = attr.field(factory=dict)

    @staticmethod
    def _get_schema() -> str:
        return f"{PRODUCER}/docs/howto/openlineage.md#emit-events-from-graphlets-runs"


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
                run=parent_run.Run(runId=_uuid(store_key, f"context:{run_context.id}")),
                job=parent_run.Job(namespace=self.namespace, name=pipe_name),
                producer=PRODUCER,
            ),
            "graphlets": _graphlets_facet(execution, state),
        }
        if error is not None:
            facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                message=error, programmingLanguage="python", producer=PRODUCER
            )
        job_facets: dict[str, JobFacet] = {
            "jobType": job_type_job.JobTypeJobFacet(
                processingType="BATCH", integration="GRAPHLETS", jobType="TASK", producer=PRODUCER
            )
        }
        return RunEvent(
            eventType=STATE_EVENTS.get(state, RunState.OTHER),
            eventTime=_event_time(execution),
            run=Run(runId=_uuid(store_key, f"execution:{execution.id}"), facets=facets),
            job=Job(namespace=self.namespace, name=f"{pipe_name}.{node_name}", facets=job_facets),
            inputs=[InputDataset(*dataset_name(a)) for a in _flatten(inputs)],
            outputs=[OutputDataset(*dataset_name(a)) for a in _flatten(outputs)],
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


def dataset_name(a: Artifact) -> tuple[str, str]:
    """OpenLineage (namespace, name) of an artifact: the ones it came with from OpenLineage,
    else from its uri (``s3://bucket/key`` -> ``s3://bucket``, ``key``; a path -> ``file``),
    else ``graphlets`` and its typed id."""
    ns, name = a.custom_properties.get(OL_NAMESPACE), a.custom_properties.get(OL_NAME)
    if isinstance(ns, str) and isinstance(name, str):
        return ns, name
    uri = a.uri or ""
    parts = urlsplit(uri)
    if parts.scheme and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}", parts.path.lstrip("/") or "/"
    if uri.startswith("/"):
        return "file", uri
    return "graphlets", f"artifact:{a.id}"


def _flatten(groups: Mapping[str, Sequence[Artifact]]) -> list[Artifact]:
    seen: set[int | None] = set()
    out = []
    for arts in groups.values():
        for a in arts:
            if a.id not in seen:
                seen.add(a.id)
                out.append(a)
    return out


def _uuid(store_key: str, what: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"graphlets:{store_key}#{what}"))


def _event_time(execution: Execution) -> str:
    props = {**execution.custom_properties, **execution.properties}
    end = props.get("end_time_ms")
    ms = end if isinstance(end, int | float) and not isinstance(end, bool) else None
    when = (
        dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc)
        if ms
        else dt.datetime.now(dt.timezone.utc)
    )
    return when.isoformat().replace("+00:00", "Z")


def _graphlets_facet(execution: Execution, state: ExecutionState) -> GraphletsRunFacet:
    props = {**execution.custom_properties, **execution.properties}
    kept = {k: json_value(props[k]) for k in FACET_PROPERTIES if k in props}
    return GraphletsRunFacet(
        execution=f"execution:{execution.id}",
        state=state.name,
        type=execution.type,
        properties=kept,
        producer=PRODUCER,
    )


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
