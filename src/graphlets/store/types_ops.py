"""Type definitions: create, evolve and look up, with MLMD's compatibility rules.

Types are few and read on every write, so they are cached per store and reloaded on a miss (another
process may have added one).
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Connection, insert, select, text

from graphlets.errors import AlreadyExistsError, NotFoundError
from graphlets.model.enums import (
    SYSTEM_ARTIFACT_TYPES,
    SYSTEM_EXECUTION_TYPES,
    ArtifactBaseType,
    ExecutionBaseType,
    PropertyType,
    TypeKind,
)
from graphlets.model.types import AnyType, ArtifactType, ContextType, ExecutionType
from graphlets.store.schema import parent_type, type_property, type_table

T = TypeVar("T", ArtifactType, ExecutionType, ContextType)
_CLASSES: dict[TypeKind, type[AnyType]] = {
    TypeKind.ARTIFACT_TYPE: ArtifactType,
    TypeKind.EXECUTION_TYPE: ExecutionType,
    TypeKind.CONTEXT_TYPE: ContextType,
}
_TYPE_KINDS = {int(k): k for k in TypeKind}
_PROPERTY_TYPES = {int(k): k for k in PropertyType}
_SYSTEM_NAMES = set(SYSTEM_ARTIFACT_TYPES.values()) | set(SYSTEM_EXECUTION_TYPES.values())


class TypeCache:
    """All user types of a store, by id and by (kind, name)."""

    def __init__(self) -> None:
        self.by_id: dict[int, AnyType] = {}
        self.by_name: dict[tuple[TypeKind, str], AnyType] = {}

    def load(self, conn: Connection) -> None:
        """Re-read every type (a handful of small queries)."""
        props: dict[int, dict[str, PropertyType]] = {}
        for r in conn.execute(select(type_property)):
            props.setdefault(r.type_id, {})[r.name] = _PROPERTY_TYPES.get(
                r.data_type or 0, PropertyType.UNKNOWN
            )
        names = {r.id: r.name for r in conn.execute(select(type_table.c.id, type_table.c.name))}
        parents = {
            r.type_id: names.get(r.parent_type_id) for r in conn.execute(select(parent_type))
        }
        self.by_id.clear()
        self.by_name.clear()
        for r in conn.execute(select(type_table)):
            if r.name in _SYSTEM_NAMES:
                continue
            kind = _TYPE_KINDS.get(r.type_kind)
            if kind is None:  # a kind newer than MLMD v10 (or a hand edit): not ours to read
                continue
            t = _build(kind, r, props.get(r.id, {}), parents.get(r.id))
            self.by_id[r.id] = t
            self.by_name[(kind, r.name)] = t

    def invalidate(self) -> None:
        """Forget every type, so the next lookup re-reads them (after this store changed one)."""
        self.by_id.clear()
        self.by_name.clear()

    def get(self, conn: Connection, kind: TypeKind, name: str) -> AnyType:
        """The type called ``name``; NotFoundError lists what exists."""
        t = self.by_name.get((kind, name))
        if t is None:
            self.load(conn)
            t = self.by_name.get((kind, name))
        if t is None:
            known = sorted(n for k, n in self.by_name if k == kind)
            label = kind.name.lower().replace("_", " ")
            raise NotFoundError(
                f"{label} {name!r} does not exist: known are {', '.join(known) or 'none'}; "
                "create it with put_" + kind.name.lower() + "()"
            )
        return t

    def get_by_id(self, conn: Connection, type_id: int) -> AnyType:
        """The type with ``type_id``."""
        if type_id not in self.by_id:
            self.load(conn)
        if type_id not in self.by_id:
            raise NotFoundError(f"type id {type_id} does not exist in this store")
        return self.by_id[type_id]

    def of_kind(self, conn: Connection, kind: TypeKind) -> list[AnyType]:
        """All types of one kind, in id order."""
        self.load(conn)
        return [t for t in self.by_id.values() if t.kind == kind]


def _build(kind: TypeKind, r: Any, props: dict[str, PropertyType], parent: str | None) -> AnyType:
    common: dict[str, Any] = {
        "name": r.name,
        "properties": props,
        "id": r.id,
        "version": r.version,
        "description": r.description,
        "external_id": r.external_id,
    }
    if kind == TypeKind.ARTIFACT_TYPE:
        base = {v: k for k, v in SYSTEM_ARTIFACT_TYPES.items()}.get(parent or "")
        return ArtifactType(**common, base_type=base or ArtifactBaseType.UNSET)
    if kind == TypeKind.EXECUTION_TYPE:
        ebase = {v: k for k, v in SYSTEM_EXECUTION_TYPES.items()}.get(parent or "")
        return ExecutionType(**common, base_type=ebase or ExecutionBaseType.UNSET)
    return ContextType(**common)


def put_type(
    conn: Connection, cache: TypeCache, new: AnyType, can_add_fields: bool, can_omit_fields: bool
) -> int:
    """Create ``new`` or check/evolve the existing type of that name; returns its id.

    MLMD's ``type`` table has no unique constraint on names, so on PostgreSQL two writers creating
    the same type at once would both insert; a transaction-scoped advisory lock per (kind, name)
    serialises them. SQLite needs none: write transactions already hold the database lock.
    """
    kind = new.kind
    if conn.dialect.name == "postgresql":
        key = f"graphlets.type:{int(kind)}:{new.name}"
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})
    cache.load(conn)
    old = cache.by_name.get((kind, new.name))
    if old is None:
        cache.invalidate()
        return _insert_type(conn, new)
    assert old.id is not None
    _check_compatible(old, new, can_add_fields, can_omit_fields)
    added = {k: v for k, v in new.properties.items() if k not in old.properties}
    if added:
        cache.invalidate()  # the cached definition lacks the new fields
        _insert_properties(conn, old.id, added)
    return old.id


def _check_compatible(old: AnyType, new: AnyType, can_add: bool, can_omit: bool) -> None:
    label = f"{old.kind.name.lower()} {old.name!r}"
    for key, value in new.properties.items():
        if key in old.properties and old.properties[key] != value:
            raise AlreadyExistsError(
                f"{label} already has property {key!r} as {old.properties[key].name}, not "
                f"{value.name}: keep the old type or use a new type name"
            )
    if not can_add and set(new.properties) - set(old.properties):
        extra = sorted(set(new.properties) - set(old.properties))
        raise AlreadyExistsError(
            f"{label} exists without properties {extra}: pass can_add_fields=True to add them"
        )
    if not can_omit and set(old.properties) - set(new.properties):
        missing = sorted(set(old.properties) - set(new.properties))
        raise AlreadyExistsError(
            f"{label} exists with properties {missing} you omitted: pass can_omit_fields=True"
        )


def _insert_type(conn: Connection, t: AnyType) -> int:
    values = {
        "name": t.name,
        "version": t.version,
        "type_kind": int(t.kind),
        "description": t.description,
        "external_id": t.external_id,
    }
    key = conn.execute(insert(type_table).values(**values)).inserted_primary_key
    assert key is not None
    type_id = int(key[0])
    _insert_properties(conn, type_id, dict(t.properties))
    base_name: str | None = None
    if isinstance(t, ArtifactType) and t.base_type:
        base_name = SYSTEM_ARTIFACT_TYPES[t.base_type]
    elif isinstance(t, ExecutionType) and t.base_type:
        base_name = SYSTEM_EXECUTION_TYPES[t.base_type]
    if base_name:
        parent = conn.execute(
            select(type_table.c.id).where(type_table.c.name == base_name)
        ).scalar_one()
        conn.execute(insert(parent_type).values(type_id=type_id, parent_type_id=parent))
    return type_id


def _insert_properties(conn: Connection, type_id: int, props: dict[str, PropertyType]) -> None:
    if props:
        rows = [{"type_id": type_id, "name": k, "data_type": int(v)} for k, v in props.items()]
        conn.execute(insert(type_property), rows)
