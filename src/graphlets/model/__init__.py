"""MLMD's data model as frozen dataclasses and enums; no I/O."""

from graphlets.model.entities import (
    Artifact,
    Association,
    Attribution,
    Context,
    Event,
    EventStep,
    Execution,
    LineageGraph,
    ParentContext,
    Properties,
    PropertyValue,
)
from graphlets.model.enums import (
    ArtifactBaseType,
    ArtifactState,
    EventType,
    ExecutionBaseType,
    ExecutionState,
    PropertyType,
    TypeKind,
)
from graphlets.model.ids import TypedId, parse_id
from graphlets.model.types import AnyType, ArtifactType, ContextType, ExecutionType

__all__ = [
    "AnyType",
    "Artifact",
    "ArtifactBaseType",
    "ArtifactState",
    "ArtifactType",
    "Association",
    "Attribution",
    "Context",
    "ContextType",
    "Event",
    "EventStep",
    "EventType",
    "Execution",
    "ExecutionBaseType",
    "ExecutionState",
    "ExecutionType",
    "LineageGraph",
    "ParentContext",
    "Properties",
    "PropertyType",
    "PropertyValue",
    "TypeKind",
    "TypedId",
    "parse_id",
]
