"""What an executor runs: one component call, on whatever process or machine.

A task carries plain values only (the function, parameters, input references, the blob store URL)
and returns plain values (output digests and properties, logged values, timings, the error text). It
never touches the metadata store: only the scheduler writes provenance, so workers need no database
access and a worker dying mid-task leaves nothing half-written (its payloads are content-addressed
and harmless).
"""

from __future__ import annotations

import json
import resource
import socket
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphlets.errors import InvalidArgumentError
from graphlets.pipeline.artifacts import ArtifactClass, ArtifactRef, Input, Inputs, Output
from graphlets.pipeline.environment import environment, environment_sha256
from graphlets.pipeline.tracking import Logged, Scalar, collecting
from graphlets.store.blobs import BlobStore


@dataclass(frozen=True)
class InputValue:
    """The artifacts resolved for one input, and how the function receives them."""

    refs: tuple[ArtifactRef, ...]
    many: bool
    optional: bool


@dataclass(frozen=True)
class TaskSpec:
    """One component call."""

    node: str
    fn: Callable[..., Any]
    params: Mapping[str, Any]
    runtime: Mapping[str, Any]
    inputs: Mapping[str, InputValue]
    outputs: Mapping[str, type[ArtifactClass]]
    blob_url: str
    retries: int = 0
    retry_backoff: float = 1.0
    scheduler_env_sha: str = ""


@dataclass(frozen=True)
class OutputResult:
    """Where an output's payload landed and the properties the component set."""

    sha256: str
    uri: str
    size: int
    properties: Mapping[str, Any]


@dataclass
class TaskResult:
    """What came back: outputs on success, the error text on failure, always the timings."""

    node: str
    ok: bool
    outputs: dict[str, OutputResult] = field(default_factory=dict)
    params: dict[str, Scalar] = field(default_factory=dict)
    metrics: dict[str, Scalar] = field(default_factory=dict)
    start_ms: int = 0
    end_ms: int = 0
    cpu_seconds: float = 0.0
    attempts: int = 1
    error: str | None = None
    traceback: str | None = None
    host: str = ""
    env_sha: str = ""
    environment: dict[str, Any] | None = None


def _cpu() -> float:
    own = time.process_time()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own + kids.ru_utime + kids.ru_stime


def run_task(spec: TaskSpec) -> TaskResult:
    """Call the component (with retries) and publish its payloads; never raises for its errors."""
    result = TaskResult(spec.node, ok=False, start_ms=time.time_ns() // 1_000_000)
    cpu0 = _cpu()
    blobs = BlobStore(spec.blob_url)
    for attempt in range(spec.retries + 1):
        result.attempts = attempt + 1
        outputs = {k: Output[Any](cls, blobs) for k, cls in spec.outputs.items()}
        try:
            with collecting() as logged:
                returned = spec.fn(**_arguments(spec, blobs, outputs))
                _log_returned(spec.node, returned, logged)
            result.outputs = _publish(spec.node, outputs, blobs)
            result.params, result.metrics = logged.params, logged.metrics
            result.ok, result.error, result.traceback = True, None, None
            break
        except Exception as exc:
            result.error = headline(exc)
            result.traceback = traceback.format_exc()[-8000:]
            if attempt < spec.retries:
                time.sleep(spec.retry_backoff * 2**attempt)
    result.end_ms = time.time_ns() // 1_000_000
    result.cpu_seconds = round(max(0.0, _cpu() - cpu0), 6)
    result.host = socket.gethostname()
    result.env_sha = environment_sha256()
    if spec.scheduler_env_sha and result.env_sha != spec.scheduler_env_sha:
        result.environment = environment()
    return result


def headline(exc: BaseException) -> str:
    """``Type: message`` on one line (at most 500 characters)."""
    text = " ".join(str(exc).split())
    line = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return line[:500]


def _arguments(
    spec: TaskSpec, blobs: BlobStore, outputs: Mapping[str, Output[Any]]
) -> dict[str, Any]:
    kwargs: dict[str, Any] = dict(spec.params)
    kwargs.update(spec.runtime)
    for key, value in spec.inputs.items():
        handles = [Input[Any](ref, blobs) for ref in value.refs]
        if value.many:
            kwargs[key] = Inputs(handles) if handles or not value.optional else None
        else:
            kwargs[key] = handles[0] if handles else None
    kwargs.update(outputs)
    return kwargs


def _log_returned(node: str, returned: Any, logged: Logged) -> None:
    if returned is None:
        return
    if not isinstance(returned, Mapping):
        raise InvalidArgumentError(
            f"component {node!r} returned a {type(returned).__name__}: return None, or a dict "
            "of metric values; write artifacts through Output parameters"
        )
    from graphlets.pipeline.tracking import log_metric

    for name, value in returned.items():
        log_metric(str(name), value)


def _publish(
    node: str, outputs: Mapping[str, Output[Any]], blobs: BlobStore
) -> dict[str, OutputResult]:
    published: dict[str, OutputResult] = {}
    for key, out in outputs.items():
        blob = out.blob
        if blob is None:
            if not out.properties:
                raise InvalidArgumentError(
                    f"component {node!r} did not write output {key!r}: call "
                    f"{key}.write_bytes(...) (or write_json, write_file, ...) or set a property"
                )
            props_json = json.dumps(out.properties, sort_keys=True, default=str)
            blob = blobs.put_bytes(props_json.encode())
        published[key] = OutputResult(blob.sha256, blob.uri, blob.size, dict(out.properties))
    return published
