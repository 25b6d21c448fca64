"""OpenLineage run events, checked and parsed before anything is written.

The receiver must change nothing for a malformed event, so the whole document is validated here,
with messages that name the field (``run.runId: 'x' is not a UUID``), before the first write. Only
what the mapping to MLMD needs is checked strictly (ids, names, times, facet shapes); unknown fields
are allowed, as the spec allows custom facets and future fields. Lengths are bounded by MLMD's
columns (names are ``VARCHAR(255)``), so a valid event can always be stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from graphlets.errors import InvalidArgumentError
from graphlets.interop.openlineage_check import check_document

EVENT_TYPES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")
MAX_DATASETS = 1000
MAX_NAME = 120  # a context is named "namespace/name": both must fit MLMD's 255 characters
MAX_FACET_NAME = 200
MAX_URI = 1000  # namespace and name each; PostgreSQL's btree index on uri holds ~2700 bytes
MAX_BYTES = 1000


@dataclass(frozen=True)
class JobRef:
    """A job's identity."""

    namespace: str
    name: str

    @property
    def qualified(self) -> str:
        """``namespace/name``: the context and execution type name the job is stored under."""
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class DatasetIn:
    """An input or output dataset with its facets (dataset facets and input/output facets)."""

    namespace: str
    name: str
    facets: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        """The artifact uri: ``ns/name`` for URL-like namespaces, else ``ns:name``."""
        if "://" in self.namespace:
            return f"{self.namespace.rstrip('/')}/{self.name.lstrip('/')}"
        return f"{self.namespace}:{self.name}"


@dataclass(frozen=True)
class RunEventIn:
    """The parts of an OpenLineage ``RunEvent`` graphlets stores."""

    event_type: str | None
    event_time_ms: int
    run_id: str
    job: JobRef
    parent_job: JobRef | None
    parent_run_id: str | None
    run_facets: dict[str, dict[str, Any]]
    job_facets: dict[str, dict[str, Any]]
    inputs: tuple[DatasetIn, ...]
    outputs: tuple[DatasetIn, ...]
    producer: str | None


def parse_run_event(doc: Any) -> RunEventIn:
    """Check an OpenLineage run event and return what the receiver stores.

    Raises:
        InvalidArgumentError: one line naming the first bad field and what it must be.
    """
    check_document(doc)
    obj = _obj(doc, "event")
    if "run" not in obj:
        raise InvalidArgumentError(
            "event has no 'run': graphlets stores OpenLineage RunEvents (with run, job and "
            "eventTime); DatasetEvents and JobEvents are not stored"
        )
    run = _obj(obj["run"], "run")
    job = _job(obj.get("job"), "job")
    run_facets = _facets(run.get("facets"), "run.facets")
    parent_job, parent_run = _parent(run_facets.get("parent"))
    event_type = obj.get("eventType")
    if event_type is not None and event_type not in EVENT_TYPES:
        raise InvalidArgumentError(
            f"eventType: {_show(event_type)} is not one of {', '.join(EVENT_TYPES)}"
        )
    producer = obj.get("producer")
    if producer is not None:
        if not isinstance(producer, str):
            raise InvalidArgumentError(f"producer: {_show(producer)} is not a string (a URI)")
        _str(producer, "producer", MAX_URI)
    return RunEventIn(
        event_type=event_type,
        event_time_ms=_time_ms(obj.get("eventTime"), "eventTime"),
        run_id=_uuid(run.get("runId"), "run.runId"),
        job=job,
        parent_job=parent_job,
        parent_run_id=parent_run,
        run_facets=run_facets,
        job_facets=_facets(_obj(obj["job"], "job").get("facets"), "job.facets"),
        inputs=_datasets(obj.get("inputs"), "inputs", "inputFacets"),
        outputs=_datasets(obj.get("outputs"), "outputs", "outputFacets"),
        producer=producer,
    )


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(f"{where}: expected a JSON object, got {_kind(value)}")
    return value


def _str(value: Any, where: str, limit: int = MAX_NAME) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(f"{where}: expected a non-empty string, got {_show(value)}")
    if len(value) > limit:
        raise InvalidArgumentError(f"{where}: longer than {limit} characters ({len(value)})")
    if limit >= MAX_URI and len(value.encode("utf-8")) > MAX_BYTES:
        raise InvalidArgumentError(f"{where}: longer than {MAX_BYTES} bytes in UTF-8")
    return value


def _job(value: Any, where: str) -> JobRef:
    obj = _obj(value, where)
    namespace = _str(obj.get("namespace"), f"{where}.namespace")
    return JobRef(namespace, _str(obj.get("name"), f"{where}.name"))


def _uuid(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{where}: expected a UUID string, got {_show(value)}")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidArgumentError(f"{where}: {_show(value)} is not a UUID") from None


def _time_ms(value: Any, where: str) -> int:
    if not isinstance(value, str):
        raise InvalidArgumentError(
            f"{where}: expected an ISO 8601 date-time string, got {_show(value)}"
        )
    try:
        t = datetime.fromisoformat(value.strip())
        if t.tzinfo is None:
            t = t.replace(tzinfo=timezone.utc)
        return int(t.timestamp() * 1000)
    except (ValueError, OverflowError):
        raise InvalidArgumentError(
            f"{where}: {_show(value)} is not an ISO 8601 date-time (e.g. 2024-05-01T12:00:00Z)"
        ) from None


def _facets(value: Any, where: str) -> dict[str, dict[str, Any]]:
    if value is None:
        return {}
    obj = _obj(value, where)
    out: dict[str, dict[str, Any]] = {}
    for name, facet in obj.items():
        _str(name, f"{where} key", MAX_FACET_NAME)
        if facet is None:
            continue
        out[name] = dict(_obj(facet, f"{where}.{name}"))
    return out


def _parent(facet: dict[str, Any] | None) -> tuple[JobRef | None, str | None]:
    if facet is None:
        return None, None
    job = _job(facet.get("job"), "run.facets.parent.job")
    run = _obj(facet.get("run"), "run.facets.parent.run")
    return job, _uuid(run.get("runId"), "run.facets.parent.run.runId")


def _datasets(value: Any, where: str, extra: str) -> tuple[DatasetIn, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidArgumentError(f"{where}: expected a list of datasets, got {_kind(value)}")
    if len(value) > MAX_DATASETS:
        raise InvalidArgumentError(f"{where}: more than {MAX_DATASETS} datasets ({len(value)})")
    out = []
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        obj = _obj(item, at)
        facets = _facets(obj.get("facets"), f"{at}.facets")
        facets.update(_facets(obj.get(extra), f"{at}.{extra}"))
        ds = DatasetIn(
            _str(obj.get("namespace"), f"{at}.namespace", MAX_URI),
            _str(obj.get("name"), f"{at}.name", MAX_URI),
            facets,
        )
        out.append(ds)
    return tuple(out)


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
