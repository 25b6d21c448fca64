"""OpenLineage run events as the spec writes them, for the interop tests."""

from __future__ import annotations

import uuid
from typing import Any


def event(
    event_type: str | None = "COMPLETE",
    *,
    run_id: str | None = None,
    job: str = "etl.load",
    namespace: str = "airflow-prod",
    time: str = "2026-03-01T10:00:00.000Z",
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    parent: tuple[str, str] | None = None,
    run_facets: dict[str, Any] | None = None,
    job_facets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A RunEvent document; ``parent`` is (parent job name, parent run id)."""
    facets = dict(run_facets or {})
    if parent is not None:
        facets["parent"] = {
            "_producer": "https://example.com",
            "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/ParentRunFacet.json",
            "run": {"runId": parent[1]},
            "job": {"namespace": namespace, "name": parent[0]},
        }
    doc: dict[str, Any] = {
        "eventTime": time,
        "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.0.0/integration/airflow",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": run_id or str(uuid.uuid4()), "facets": facets},
        "job": {"namespace": namespace, "name": job, "facets": job_facets or {}},
        "inputs": inputs or [],
        "outputs": outputs or [],
    }
    if event_type is not None:
        doc["eventType"] = event_type
    return doc


def dataset(name: str, namespace: str = "postgres://db:5432", **facets: Any) -> dict[str, Any]:
    """A dataset with optional facets."""
    return {"namespace": namespace, "name": name, "facets": facets}
