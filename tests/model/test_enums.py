"""MLMD's enums keep MLMD's numbers, so rows written by ml-metadata read back unchanged."""

from __future__ import annotations

import enum

import pytest

from graphlets.model import (
    ArtifactBaseType,
    ArtifactState,
    EventType,
    ExecutionBaseType,
    ExecutionState,
    PropertyType,
    TypeKind,
)
from graphlets.model.enums import SYSTEM_ARTIFACT_TYPES, SYSTEM_EXECUTION_TYPES
from tests.store.backends import require_mlmd

EXPECTED: dict[type[enum.IntEnum], dict[str, int]] = {
    PropertyType: {
        "UNKNOWN": 0,
        "INT": 1,
        "DOUBLE": 2,
        "STRING": 3,
        "STRUCT": 4,
        "PROTO": 5,
        "BOOLEAN": 6,
    },
    ArtifactState: {
        "UNKNOWN": 0,
        "PENDING": 1,
        "LIVE": 2,
        "MARKED_FOR_DELETION": 3,
        "DELETED": 4,
        "ABANDONED": 5,
        "REFERENCE": 6,
    },
    ExecutionState: {
        "UNKNOWN": 0,
        "NEW": 1,
        "RUNNING": 2,
        "COMPLETE": 3,
        "FAILED": 4,
        "CACHED": 5,
        "CANCELED": 6,
    },
    EventType: {
        "UNKNOWN": 0,
        "DECLARED_OUTPUT": 1,
        "DECLARED_INPUT": 2,
        "INPUT": 3,
        "OUTPUT": 4,
        "INTERNAL_INPUT": 5,
        "INTERNAL_OUTPUT": 6,
        "PENDING_OUTPUT": 7,
    },
    ArtifactBaseType: {"UNSET": 0, "DATASET": 1, "MODEL": 2, "METRICS": 3, "STATISTICS": 4},
    ExecutionBaseType: {
        "UNSET": 0,
        "TRAIN": 1,
        "TRANSFORM": 2,
        "PROCESS": 3,
        "EVALUATE": 4,
        "DEPLOY": 5,
    },
    TypeKind: {"EXECUTION_TYPE": 0, "ARTIFACT_TYPE": 1, "CONTEXT_TYPE": 2},
}


@pytest.mark.unit
@pytest.mark.parametrize("cls", list(EXPECTED), ids=lambda c: c.__name__)
def test_numbers_are_mlmds(cls: type[enum.IntEnum]) -> None:
    assert {m.name: int(m) for m in cls} == EXPECTED[cls]


@pytest.mark.unit
def test_system_types_cover_every_base_type() -> None:
    assert set(SYSTEM_ARTIFACT_TYPES) == {b for b in ArtifactBaseType if b}
    assert set(SYSTEM_EXECUTION_TYPES) == {b for b in ExecutionBaseType if b}
    names = [*SYSTEM_ARTIFACT_TYPES.values(), *SYSTEM_EXECUTION_TYPES.values()]
    assert all(n.startswith("mlmd.") for n in names) and len(set(names)) == 9


@pytest.mark.mlmd
def test_numbers_match_ml_metadata_protos() -> None:
    require_mlmd()
    from ml_metadata.proto import metadata_store_pb2 as pb

    protos: dict[type[enum.IntEnum], object] = {
        PropertyType: pb.PropertyType,
        ArtifactState: pb.Artifact.State,
        ExecutionState: pb.Execution.State,
        EventType: pb.Event.Type,
        ArtifactBaseType: pb.ArtifactType.SystemDefinedBaseType,
        ExecutionBaseType: pb.ExecutionType.SystemDefinedBaseType,
    }
    for cls, proto in protos.items():
        assert {m.name: int(m) for m in cls} == dict(proto.items()), cls.__name__  # type: ignore[attr-defined]
