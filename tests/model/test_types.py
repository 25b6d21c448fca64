"""Type definitions as frozen records."""

from __future__ import annotations

import dataclasses

import pytest

from graphlets.model import (
    ArtifactBaseType,
    ArtifactType,
    ContextType,
    ExecutionBaseType,
    ExecutionType,
    PropertyType,
    TypeKind,
)

pytestmark = pytest.mark.unit


def test_kinds() -> None:
    assert ArtifactType("A").kind == TypeKind.ARTIFACT_TYPE
    assert ExecutionType("E").kind == TypeKind.EXECUTION_TYPE
    assert ContextType("C").kind == TypeKind.CONTEXT_TYPE


def test_defaults() -> None:
    t = ArtifactType("Examples")
    assert (t.id, t.version, t.description, t.external_id) == (None, None, None, None)
    assert t.base_type == ArtifactBaseType.UNSET and dict(t.properties) == {}
    assert ExecutionType("Trainer").base_type == ExecutionBaseType.UNSET
    assert not hasattr(ContextType("pipeline"), "base_type")


def test_frozen_and_copied() -> None:
    props = {"span": PropertyType.INT}
    t = ArtifactType("Examples", props, base_type=ArtifactBaseType.DATASET)
    props["other"] = PropertyType.STRING
    assert dict(t.properties) == {"span": PropertyType.INT}
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        t.properties["x"] = PropertyType.INT  # type: ignore[index]


def test_equality() -> None:
    assert ArtifactType("A", {"x": PropertyType.INT}) == ArtifactType("A", {"x": PropertyType.INT})
    assert ArtifactType("A") != ArtifactType("A", base_type=ArtifactBaseType.MODEL)
    assert dataclasses.replace(ContextType("C"), id=4).id == 4
