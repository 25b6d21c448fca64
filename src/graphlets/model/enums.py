"""MLMD's enums with MLMD's numeric values, so rows written by ml-metadata read back unchanged."""

from __future__ import annotations

import enum


class PropertyType(enum.IntEnum):
    """``metadata_store_pb2.PropertyType``: the declared type of a type's property."""

    UNKNOWN = 0
    INT = 1
    DOUBLE = 2
    STRING = 3
    STRUCT = 4
    PROTO = 5
    BOOLEAN = 6


class TypeKind(enum.IntEnum):
    """``Type.type_kind`` column: which entity a type describes."""

    EXECUTION_TYPE = 0
    ARTIFACT_TYPE = 1
    CONTEXT_TYPE = 2


class ArtifactState(enum.IntEnum):
    """``Artifact.State``."""

    UNKNOWN = 0
    PENDING = 1
    LIVE = 2
    MARKED_FOR_DELETION = 3
    DELETED = 4
    ABANDONED = 5
    REFERENCE = 6


class ExecutionState(enum.IntEnum):
    """``Execution.State``, including ``CACHED`` for reused results."""

    UNKNOWN = 0
    NEW = 1
    RUNNING = 2
    COMPLETE = 3
    FAILED = 4
    CACHED = 5
    CANCELED = 6


class EventType(enum.IntEnum):
    """``Event.Type``."""

    UNKNOWN = 0
    DECLARED_OUTPUT = 1
    DECLARED_INPUT = 2
    INPUT = 3
    OUTPUT = 4
    INTERNAL_INPUT = 5
    INTERNAL_OUTPUT = 6
    PENDING_OUTPUT = 7


class ArtifactBaseType(enum.IntEnum):
    """``ArtifactType.SystemDefinedBaseType``; stored as a ParentType row to ``mlmd.<Name>``."""

    UNSET = 0
    DATASET = 1
    MODEL = 2
    METRICS = 3
    STATISTICS = 4


class ExecutionBaseType(enum.IntEnum):
    """``ExecutionType.SystemDefinedBaseType``."""

    UNSET = 0
    TRAIN = 1
    TRANSFORM = 2
    PROCESS = 3
    EVALUATE = 4
    DEPLOY = 5


# MLMD seeds these types in every new store; base types point at them through ParentType.
SYSTEM_ARTIFACT_TYPES: dict[ArtifactBaseType, str] = {
    ArtifactBaseType.DATASET: "mlmd.Dataset",
    ArtifactBaseType.MODEL: "mlmd.Model",
    ArtifactBaseType.METRICS: "mlmd.Metrics",
    ArtifactBaseType.STATISTICS: "mlmd.Statistics",
}
SYSTEM_EXECUTION_TYPES: dict[ExecutionBaseType, str] = {
    ExecutionBaseType.TRAIN: "mlmd.Train",
    ExecutionBaseType.TRANSFORM: "mlmd.Transform",
    ExecutionBaseType.PROCESS: "mlmd.Process",
    ExecutionBaseType.EVALUATE: "mlmd.Evaluate",
    ExecutionBaseType.DEPLOY: "mlmd.Deploy",
}
