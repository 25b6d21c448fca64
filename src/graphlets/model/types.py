"""Type definitions: ArtifactType, ExecutionType, ContextType with their property schemas."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from graphlets.model.enums import ArtifactBaseType, ExecutionBaseType, PropertyType, TypeKind


def _frozen(props: Mapping[str, PropertyType] | None) -> Mapping[str, PropertyType]:
    return MappingProxyType(dict(props or {}))


@dataclass(frozen=True)
class _TypeBase:
    name: str
    properties: Mapping[str, PropertyType] = field(default_factory=dict)
    id: int | None = None
    version: str | None = None
    description: str | None = None
    external_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "properties", _frozen(self.properties))


@dataclass(frozen=True)
class ArtifactType(_TypeBase):
    """An MLMD artifact type (``Examples``, ``Model``, ...)."""

    base_type: ArtifactBaseType = ArtifactBaseType.UNSET
    kind = TypeKind.ARTIFACT_TYPE


@dataclass(frozen=True)
class ExecutionType(_TypeBase):
    """An MLMD execution type (a component such as ``Trainer``)."""

    base_type: ExecutionBaseType = ExecutionBaseType.UNSET
    kind = TypeKind.EXECUTION_TYPE


@dataclass(frozen=True)
class ContextType(_TypeBase):
    """An MLMD context type (``pipeline``, ``pipeline_run``, ``node``)."""

    kind = TypeKind.CONTEXT_TYPE


AnyType = ArtifactType | ExecutionType | ContextType
