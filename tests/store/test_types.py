"""Type definitions on every backend: create, look up, evolve by MLMD's rules, base types."""

from __future__ import annotations

import pytest

from graphlets.errors import AlreadyExistsError, NotFoundError
from graphlets.model import (
    ArtifactBaseType,
    ArtifactType,
    ContextType,
    ExecutionBaseType,
    ExecutionType,
    PropertyType,
)
from graphlets.store import MetadataStore

EXAMPLES = ArtifactType(
    "Examples",
    {"span": PropertyType.INT, "split_names": PropertyType.STRING},
    base_type=ArtifactBaseType.DATASET,
)


def test_put_artifact_type_returns_id_and_reads_back(store: MetadataStore) -> None:
    type_id = store.put_artifact_type(EXAMPLES)
    got = store.get_artifact_type("Examples")
    assert got.id == type_id
    assert got.name == "Examples"
    assert dict(got.properties) == {"span": PropertyType.INT, "split_names": PropertyType.STRING}
    assert got.base_type == ArtifactBaseType.DATASET


def test_same_definition_again_is_the_same_type(store: MetadataStore) -> None:
    first = store.put_artifact_type(EXAMPLES)
    assert store.put_artifact_type(EXAMPLES) == first
    assert [t.name for t in store.get_artifact_types()] == ["Examples"]


def test_all_property_types_and_optional_fields_round_trip(store: MetadataStore) -> None:
    props = {
        "i": PropertyType.INT,
        "d": PropertyType.DOUBLE,
        "s": PropertyType.STRING,
        "st": PropertyType.STRUCT,
        "b": PropertyType.BOOLEAN,
    }
    t = ExecutionType("Trainer", props, version="1.2", description="trains a model")
    type_id = store.put_execution_type(t)
    got = store.get_execution_type("Trainer")
    assert (got.id, got.version, got.description) == (type_id, "1.2", "trains a model")
    assert dict(got.properties) == props


@pytest.mark.parametrize(
    ("base", "kind"),
    [(b, "artifact") for b in ArtifactBaseType if b]
    + [(b, "execution") for b in ExecutionBaseType if b],
)
def test_base_type_round_trips(store: MetadataStore, base: int, kind: str) -> None:
    if kind == "artifact":
        store.put_artifact_type(ArtifactType("T", base_type=ArtifactBaseType(base)))
        assert store.get_artifact_type("T").base_type == base
    else:
        store.put_execution_type(ExecutionType("T", base_type=ExecutionBaseType(base)))
        assert store.get_execution_type("T").base_type == base


def test_no_base_type_reads_unset(store: MetadataStore) -> None:
    store.put_artifact_type(ArtifactType("Plain"))
    store.put_execution_type(ExecutionType("Plain"))
    assert store.get_artifact_type("Plain").base_type == ArtifactBaseType.UNSET
    assert store.get_execution_type("Plain").base_type == ExecutionBaseType.UNSET


def test_system_types_are_hidden(store: MetadataStore) -> None:
    assert store.get_artifact_types() == []
    assert store.get_execution_types() == []
    assert store.get_context_types() == []
    with pytest.raises(NotFoundError):
        store.get_artifact_type("mlmd.Dataset")


def test_kinds_are_separate_namespaces(store: MetadataStore) -> None:
    a = store.put_artifact_type(ArtifactType("Thing", {"x": PropertyType.INT}))
    e = store.put_execution_type(ExecutionType("Thing", {"y": PropertyType.STRING}))
    c = store.put_context_type(ContextType("Thing"))
    assert len({a, e, c}) == 3
    assert store.get_artifact_type("Thing").properties == {"x": PropertyType.INT}
    assert store.get_execution_type("Thing").properties == {"y": PropertyType.STRING}
    assert store.get_context_type("Thing").id == c
    assert [t.id for t in store.get_context_types()] == [c]


def test_types_are_listed_in_id_order(store: MetadataStore) -> None:
    ids = [store.put_artifact_type(ArtifactType(n)) for n in ("B", "A", "C")]
    assert [t.id for t in store.get_artifact_types()] == ids
    assert [t.name for t in store.get_artifact_types()] == ["B", "A", "C"]


def test_unknown_type_is_not_found_with_one_line_message(store: MetadataStore) -> None:
    store.put_artifact_type(EXAMPLES)
    for getter in (store.get_artifact_type, store.get_execution_type, store.get_context_type):
        with pytest.raises(NotFoundError) as err:
            getter("Nope")
        assert "'Nope'" in str(err.value)
        assert "\n" not in str(err.value)


def test_adding_a_field_needs_can_add_fields(store: MetadataStore) -> None:
    type_id = store.put_artifact_type(EXAMPLES)
    wider = ArtifactType(
        "Examples",
        {**EXAMPLES.properties, "version": PropertyType.INT},
        base_type=ArtifactBaseType.DATASET,
    )
    with pytest.raises(AlreadyExistsError) as err:
        store.put_artifact_type(wider)
    assert "can_add_fields" in str(err.value)
    assert "version" not in store.get_artifact_type("Examples").properties
    assert store.put_artifact_type(wider, can_add_fields=True) == type_id
    assert store.get_artifact_type("Examples").properties["version"] == PropertyType.INT


def test_omitting_a_field_needs_can_omit_fields(store: MetadataStore) -> None:
    type_id = store.put_execution_type(
        ExecutionType("Trainer", {"a": PropertyType.INT, "b": PropertyType.STRING})
    )
    narrower = ExecutionType("Trainer", {"a": PropertyType.INT})
    with pytest.raises(AlreadyExistsError) as err:
        store.put_execution_type(narrower)
    assert "can_omit_fields" in str(err.value)
    assert store.put_execution_type(narrower, can_omit_fields=True) == type_id
    # Omitting never deletes: the stored type keeps every property.
    assert dict(store.get_execution_type("Trainer").properties) == {
        "a": PropertyType.INT,
        "b": PropertyType.STRING,
    }


def test_add_and_omit_together(store: MetadataStore) -> None:
    type_id = store.put_context_type(ContextType("run", {"a": PropertyType.INT}))
    swapped = ContextType("run", {"b": PropertyType.DOUBLE})
    with pytest.raises(AlreadyExistsError):
        store.put_context_type(swapped, can_add_fields=True)
    with pytest.raises(AlreadyExistsError):
        store.put_context_type(swapped, can_omit_fields=True)
    assert store.put_context_type(swapped, can_add_fields=True, can_omit_fields=True) == type_id
    assert dict(store.get_context_type("run").properties) == {
        "a": PropertyType.INT,
        "b": PropertyType.DOUBLE,
    }


@pytest.mark.parametrize("flags", [{}, {"can_add_fields": True, "can_omit_fields": True}])
def test_changed_property_type_is_already_exists(
    store: MetadataStore, flags: dict[str, bool]
) -> None:
    store.put_artifact_type(EXAMPLES)
    changed = ArtifactType(
        "Examples",
        {"span": PropertyType.STRING, "split_names": PropertyType.STRING},
        base_type=ArtifactBaseType.DATASET,
    )
    with pytest.raises(AlreadyExistsError) as err:
        store.put_artifact_type(changed, **flags)
    msg = str(err.value)
    assert "'span'" in msg and "INT" in msg and "STRING" in msg and "\n" not in msg
    assert store.get_artifact_type("Examples").properties["span"] == PropertyType.INT


def test_failed_evolution_writes_nothing(store: MetadataStore) -> None:
    store.put_artifact_type(ArtifactType("M", {"a": PropertyType.INT}))
    before = store.count("typeproperty")
    bad = ArtifactType("M", {"a": PropertyType.DOUBLE, "new": PropertyType.INT})
    with pytest.raises(AlreadyExistsError):
        store.put_artifact_type(bad, can_add_fields=True)
    assert store.count("typeproperty") == before
    assert store.count("type") == 9 + 1  # MLMD's nine system types and ours
