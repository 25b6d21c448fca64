"""The facets graphlets' emitter adds, so a receiving graphlets store reads like the runner's.

Standard facets where OpenLineage has one (``parent``, ``errorMessage``, ``version``,
``datasetType`` saying ``MODEL``), graphlets' own where it has none: ``graphlets`` (run: execution
type, state and the runner's properties; dataset: artifact type and scalar properties),
``graphletsEvent`` (input/output: the key and index, e.g. ``base_model``) and ``cost`` (run:
``cpuSeconds``). Other receivers (Marquez) keep them as opaque custom facets.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import attr
from openlineage.client.event_v2 import InputDataset, OutputDataset
from openlineage.client.facet_v2 import dataset_type_dataset, dataset_version_dataset
from openlineage.client.generated.base import (
    DatasetFacet,
    InputDatasetFacet,
    OutputDatasetFacet,
    RunFacet,
)

from graphlets import __version__
from graphlets.model import Artifact, Execution, ExecutionState
from graphlets.model.serialize import json_value
from graphlets.pipeline.record import (
    CACHE_KEY,
    CPU_SECONDS,
    END_TIME_MS,
    SKIP_REASON,
    START_TIME_MS,
)

PRODUCER = f"https://github.com/graphlets/graphlets/tree/v{__version__}"
SCHEMA = f"{PRODUCER}/docs/howto/openlineage.md#emit-events-from-graphlets-runs"
OL_NAMESPACE, OL_NAME = "openlineage.namespace", "openlineage.name"
FACET_PROPERTIES = (CPU_SECONDS, START_TIME_MS, END_TIME_MS, SKIP_REASON, CACHE_KEY)
MODEL_TYPES = ("Model",)
MAX_ARTIFACT_PROPERTIES = 24
MAX_TEXT = 200


@attr.define
class GraphletsRunFacet(RunFacet):
    """Where the event came from in graphlets: the execution's typed id, state and key numbers."""

    execution: str
    state: str
    type: str | None = None
    properties: dict[str, Any] = attr.field(factory=dict)

    @staticmethod
    def _get_schema() -> str:
        return SCHEMA


@attr.define
class CostRunFacet(RunFacet):
    """The run's compute cost: CPU seconds the runner measured."""

    cpuSeconds: float  # OpenLineage's camelCase

    @staticmethod
    def _get_schema() -> str:
        return SCHEMA


@attr.define
class GraphletsDatasetFacet(DatasetFacet):
    """The artifact behind a dataset: its MLMD type and scalar custom properties."""

    artifact: str
    type: str | None = None
    properties: dict[str, Any] = attr.field(factory=dict)

    @staticmethod
    def _get_schema() -> str:
        return SCHEMA


@attr.define
class GraphletsInputFacet(InputDatasetFacet):
    """The input key and index the component read the dataset under (``base_model``, 0)."""

    key: str
    index: int = 0

    @staticmethod
    def _get_schema() -> str:
        return SCHEMA


@attr.define
class GraphletsOutputFacet(OutputDatasetFacet):
    """The output key and index the component wrote the dataset under."""

    key: str
    index: int = 0

    @staticmethod
    def _get_schema() -> str:
        return SCHEMA


def run_facet(
    execution: Execution, state: ExecutionState, type_name: str | None
) -> GraphletsRunFacet:
    """Our run facet: typed id, state (CACHED survives as such), type and key properties."""
    props = {**execution.custom_properties, **execution.properties}
    kept = {k: json_value(props[k]) for k in FACET_PROPERTIES if k in props}
    return GraphletsRunFacet(
        execution=f"execution:{execution.id}",
        state=state.name,
        type=execution.type or type_name,
        properties=kept,
        producer=PRODUCER,
    )


def cost_facet(execution: Execution) -> CostRunFacet | None:
    """The ``cost`` facet when the runner measured CPU seconds."""
    value = {**execution.custom_properties, **execution.properties}.get(CPU_SECONDS)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return CostRunFacet(cpuSeconds=float(value), producer=PRODUCER)


def dataset_name(a: Artifact) -> tuple[str, str]:
    """OpenLineage (namespace, name) of an artifact: the ones it came with from OpenLineage,
    else from its uri (``s3://bucket/key`` -> ``s3://bucket``, ``key``; a path -> ``file``),
    else ``graphlets`` and its typed id."""
    from urllib.parse import urlsplit

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


def _dataset_facets(a: Artifact, store_key: str) -> dict[str, DatasetFacet]:
    props = {**a.custom_properties, **a.properties}
    scalars = {
        k: v
        for k, v in props.items()
        if not k.startswith("openlineage.")
        and (isinstance(v, bool | int | float) or (isinstance(v, str) and len(v) <= MAX_TEXT))
    }
    facets: dict[str, DatasetFacet] = {
        "graphlets": GraphletsDatasetFacet(
            artifact=f"artifact:{a.id}",
            type=a.type,
            properties=dict(list(scalars.items())[:MAX_ARTIFACT_PROPERTIES]),
            producer=PRODUCER,
        ),
        "version": dataset_version_dataset.DatasetVersionDatasetFacet(
            datasetVersion=uuid_for(store_key, f"artifact:{a.id}"), producer=PRODUCER
        ),
    }
    if a.type in MODEL_TYPES:
        facets["datasetType"] = dataset_type_dataset.DatasetTypeDatasetFacet(
            datasetType="MODEL", producer=PRODUCER
        )
    return facets


def _keyed(groups: Mapping[str, Sequence[Artifact]]) -> list[tuple[str, int, Artifact]]:
    seen: set[int | None] = set()
    out = []
    for key, arts in groups.items():
        for i, a in enumerate(arts):
            if a.id not in seen:
                seen.add(a.id)
                out.append((key, i, a))
    return out


def input_datasets(groups: Mapping[str, Sequence[Artifact]], store_key: str) -> list[InputDataset]:
    """One input dataset per artifact (first key wins), with our facets."""
    return [
        InputDataset(
            *dataset_name(a),
            facets=_dataset_facets(a, store_key),
            inputFacets={"graphletsEvent": GraphletsInputFacet(key, i, producer=PRODUCER)},
        )
        for key, i, a in _keyed(groups)
    ]


def output_datasets(
    groups: Mapping[str, Sequence[Artifact]], store_key: str
) -> list[OutputDataset]:
    """One output dataset per artifact, with our facets."""
    return [
        OutputDataset(
            *dataset_name(a),
            facets=_dataset_facets(a, store_key),
            outputFacets={"graphletsEvent": GraphletsOutputFacet(key, i, producer=PRODUCER)},
        )
        for key, i, a in _keyed(groups)
    ]


def uuid_for(store_key: str, what: str) -> str:
    """A UUID stable for one record of one store (re-sending updates, never duplicates)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"graphlets:{store_key}#{what}"))
