"""How facets become MLMD types, properties and event keys (the receiver's side of the mapping).

Three kinds of sender are told apart only by the facets they send:

* graphlets' own emitter (:mod:`graphlets.interop.openlineage_emit`) adds a ``graphlets`` run facet
  (execution type, state, start/end times), a ``cost`` run facet (``cpuSeconds``), a ``graphlets``
  dataset facet (artifact type and the scalar properties the analysis reads: ``span``,
  ``pushed``, ``blessed``), a ``graphletsEvent`` input/output facet (the input or output key, e.g.
  ``base_model``) and the standard ``version`` dataset facet: with these the receiving store reads
  like the runner's own (same graphlets, outcomes and cost).
* any OpenLineage producer may say a dataset is a model with the standard ``datasetType`` facet
  (``datasetType: "MODEL"``), or match a configured name pattern.
* everything else is a ``Dataset``, its job's execution type ``namespace/name``.
"""

from __future__ import annotations

import fnmatch
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphlets.interop.openlineage_event import DatasetIn, RunEventIn
from graphlets.model import ArtifactBaseType, ExecutionState

GRAPHLETS_FACET, EVENT_FACET, COST_FACET = "graphlets", "graphletsEvent", "cost"
VERSION_FACET, TYPE_FACET = "version", "datasetType"
DATASET, MODEL = "Dataset", "Model"
PATTERNS_ENV = "GRAPHLETS_OPENLINEAGE_MODEL_PATTERNS"
MAX_TYPE_NAME = 120
MAX_PROPERTIES = 32
MAX_STRING = 500


@dataclass(frozen=True)
class ReceiverConfig:
    """Receiver settings.

    Attributes:
        model_patterns: glob patterns (``fnmatch``) matched against a dataset's ``name`` and its
            ``namespace/name``; a match makes the dataset a model.
        model_type: the artifact type name models are stored as (the graphlet analysis's
            ``model_types`` must include it; ``Model`` is its default).
    """

    model_patterns: tuple[str, ...] = ()
    model_type: str = MODEL

    @classmethod
    def from_env(cls) -> ReceiverConfig:
        """Patterns from ``GRAPHLETS_OPENLINEAGE_MODEL_PATTERNS`` (comma separated)."""
        raw = os.environ.get(PATTERNS_ENV, "")
        return cls(model_patterns=tuple(p.strip() for p in raw.split(",") if p.strip()))


def _ours(facets: Mapping[str, Any]) -> Mapping[str, Any]:
    facet = facets.get(GRAPHLETS_FACET)
    return facet if isinstance(facet, Mapping) else {}


def _name(value: Any) -> str | None:
    """A usable type or key name; MLMD's own ``mlmd.*`` system type names are not."""
    if isinstance(value, str) and value.strip() and len(value) <= MAX_TYPE_NAME:
        return None if value.startswith("mlmd.") else value
    return None


def execution_type_name(event: RunEventIn) -> str:
    """Our facet's execution type (the runner's name) or the job's ``namespace/name``."""
    return _name(_ours(event.run_facets).get("type")) or event.job.qualified


def is_cached(event: RunEventIn) -> bool:
    """True when our emitter says the execution was a cache hit (sent as COMPLETE)."""
    return _ours(event.run_facets).get("state") == ExecutionState.CACHED.name


def number(value: Any) -> float | int | None:
    """A finite JSON number (not a boolean), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if math.isfinite(value) else None


def cpu_seconds(event: RunEventIn) -> float | None:
    """CPU seconds from the ``cost`` run facet (``cpuSeconds``), else from our facet."""
    cost = event.run_facets.get(COST_FACET, {})
    for value in (cost.get("cpuSeconds"), cost.get("cpu_seconds")):
        found = number(value)
        if found is not None:
            return float(found)
    props = _ours(event.run_facets).get("properties")
    if isinstance(props, Mapping) and number(props.get("cpu_seconds")) is not None:
        return float(props["cpu_seconds"])
    return None


def facet_time(event: RunEventIn, key: str) -> int | None:
    """``start_time_ms`` / ``end_time_ms`` as our emitter recorded them, if it sent them."""
    props = _ours(event.run_facets).get("properties")
    value = number(props.get(key)) if isinstance(props, Mapping) else None
    return int(value) if value is not None and abs(value) < 2**62 else None


def facet_text(event: RunEventIn, key: str) -> str | None:
    """A short string property of our facet (``skip_reason``)."""
    props = _ours(event.run_facets).get("properties")
    value = props.get(key) if isinstance(props, Mapping) else None
    return value[:MAX_STRING] if isinstance(value, str) and value else None


def artifact_type(ds: DatasetIn, config: ReceiverConfig) -> tuple[str, ArtifactBaseType]:
    """The artifact type name (and MLMD base type, for a new type) a dataset is stored as."""
    ours = _name(_ours(ds.facets).get("type"))
    if ours is not None:
        return ours, ArtifactBaseType.MODEL if ours == config.model_type else _base(ours)
    kind = ds.facets.get(TYPE_FACET, {}).get("datasetType")
    named = any(
        fnmatch.fnmatchcase(text, p)
        for p in config.model_patterns
        for text in (ds.name, f"{ds.namespace}/{ds.name}")
    )
    if (isinstance(kind, str) and kind.upper() == "MODEL") or named:
        return config.model_type, ArtifactBaseType.MODEL
    return DATASET, ArtifactBaseType.DATASET


def _base(name: str) -> ArtifactBaseType:
    return ArtifactBaseType.DATASET if name in (DATASET, "Examples") else ArtifactBaseType.UNSET


def version(ds: DatasetIn) -> str | None:
    """The standard ``version`` facet's ``datasetVersion``: which stored version is meant."""
    value = ds.facets.get(VERSION_FACET, {}).get("datasetVersion")
    return value if isinstance(value, str) and value and len(value) <= MAX_STRING else None


def event_key(ds: DatasetIn, default: str) -> str:
    """The input/output key our emitter sent (``base_model``), else ``inputs``/``outputs``."""
    facet = ds.facets.get(EVENT_FACET, {})
    return _name(facet.get("key")) or default


def artifact_properties(ds: DatasetIn) -> dict[str, int | float | str | bool]:
    """The scalar artifact properties our facet carries (``span``, ``pushed``, ``blessed``)."""
    props = _ours(ds.facets).get("properties")
    out: dict[str, int | float | str | bool] = {}
    if not isinstance(props, Mapping):
        return out
    for name, value in list(props.items())[:MAX_PROPERTIES]:
        if not _name(name) or name.startswith("openlineage."):
            continue
        text = isinstance(value, str) and len(value) <= MAX_STRING
        if text or isinstance(value, bool) or number(value) is not None:
            out[name] = value
    return out
