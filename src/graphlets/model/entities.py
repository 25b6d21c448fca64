"""Frozen records of MLMD's nodes and edges.

They hold no behaviour and do no I/O: the store turns them into rows. ``id`` is ``None`` until the
store has assigned one; to update, pass a record with its ``id`` set (``dataclasses.replace``).
Property values are Python ``int``, ``float``, ``str``, ``bool`` or a JSON-like ``dict`` (MLMD's
struct).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Union

from graphlets.model.enums import ArtifactState, EventType, ExecutionState

# A recursive alias needs Union: the | operator cannot take the forward reference on Python 3.10.
JSONValue = Union[None, bool, int, float, str, list["JSONValue"], dict[str, "JSONValue"]]  # noqa: UP007
PropertyValue = int | float | str | bool | dict[str, JSONValue]
Properties = Mapping[str, PropertyValue]


def _frozen(props: Properties | None) -> Properties:
    return MappingProxyType(dict(props or {}))


@dataclass(frozen=True)
class _Node:
    type_id: int
    name: str | None = None
    properties: Properties = field(default_factory=dict)
    custom_properties: Properties = field(default_factory=dict)
    id: int | None = None
    external_id: str | None = None
    create_time_since_epoch: int = 0
    last_update_time_since_epoch: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "properties", _frozen(self.properties))
        object.__setattr__(self, "custom_properties", _frozen(self.custom_properties))


@dataclass(frozen=True)
class Artifact(_Node):
    """A piece of data: a span of examples, statistics, a model, a blessing."""

    uri: str | None = None
    state: ArtifactState = ArtifactState.UNKNOWN
    type: str | None = None


@dataclass(frozen=True)
class Execution(_Node):
    """One run of a component."""

    last_known_state: ExecutionState = ExecutionState.UNKNOWN
    type: str | None = None


@dataclass(frozen=True)
class Context(_Node):
    """A grouping: a pipeline, a pipeline run, a node. MLMD requires a name."""

    type: str | None = None


@dataclass(frozen=True)
class EventStep:
    """One step of an event path: a string key or an integer index."""

    key: str | None = None
    index: int | None = None


@dataclass(frozen=True)
class Event:
    """An edge between an execution and an artifact (INPUT, OUTPUT, ...)."""

    artifact_id: int | None = None
    execution_id: int | None = None
    type: EventType = EventType.UNKNOWN
    path: tuple[EventStep, ...] = ()
    milliseconds_since_epoch: int | None = None

    @property
    def key(self) -> str | None:
        """The first string key of the path, which TFX uses as the input/output name."""
        return next((s.key for s in self.path if s.key is not None), None)


@dataclass(frozen=True)
class Attribution:
    """Artifact belongs to a context."""

    context_id: int
    artifact_id: int


@dataclass(frozen=True)
class Association:
    """Execution belongs to a context."""

    context_id: int
    execution_id: int


@dataclass(frozen=True)
class ParentContext:
    """Context nesting (a pipeline run inside a pipeline)."""

    child_id: int
    parent_id: int


@dataclass(frozen=True)
class LineageGraph:
    """A subgraph returned by ``get_lineage_subgraph``."""

    artifacts: tuple[Artifact, ...] = ()
    executions: tuple[Execution, ...] = ()
    contexts: tuple[Context, ...] = ()
    events: tuple[Event, ...] = ()
