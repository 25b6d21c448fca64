"""Property values <-> MLMD property rows.

MLMD stores a struct as ``string_value = "mlmd-struct::" + base64(Struct)``; we write and read the
same bytes through protobuf's ``Struct`` so ml-metadata decodes what we write. A ``proto_value`` (an
``Any``) written by other tools reads as ``{"@type": url, "value_base64": ...}``.

Reads never fail on one stored value: a struct that is not valid base64 or protobuf (another
tool's bug, a hand edit, a struct nested beyond protobuf's recursion limit) or an ``Any`` that
does not parse reads as the string ``"<undecodable: REASON>"`` (:func:`undecodable`), so a page of
nodes still renders and shows which value is damaged.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from google.protobuf import any_pb2, json_format, struct_pb2
from google.protobuf.message import DecodeError

from graphlets.errors import TypeMismatchError
from graphlets.model.entities import PropertyValue
from graphlets.model.enums import PropertyType

STRUCT_PREFIX = "mlmd-struct::"
UNDECODABLE_PREFIX = "<undecodable: "
_DECODE_ERRORS = (DecodeError, binascii.Error, ValueError, RecursionError, TypeError)
_COLUMNS = ("int_value", "double_value", "string_value", "bool_value", "proto_value")


def infer_type(value: object) -> PropertyType:
    """The MLMD property type a Python value is stored as."""
    if isinstance(value, bool):
        return PropertyType.BOOLEAN
    if isinstance(value, int):
        return PropertyType.INT
    if isinstance(value, float):
        return PropertyType.DOUBLE
    if isinstance(value, str):
        return PropertyType.STRING
    if isinstance(value, dict):
        return PropertyType.STRUCT
    raise TypeMismatchError(
        f"property value {value!r} has type {type(value).__name__}: use int, float, str, bool "
        "or a dict (stored as an MLMD struct)"
    )


def encode_struct(value: Mapping[str, Any]) -> str:
    """A dict as MLMD's ``mlmd-struct::`` string."""
    msg = struct_pb2.Struct()
    try:
        msg.update(value)
    except (ValueError, TypeError) as exc:
        raise TypeMismatchError(
            f"struct property {json.dumps(value, default=str)[:80]} is not JSON-like: {exc}"
        ) from exc
    return STRUCT_PREFIX + base64.b64encode(msg.SerializeToString()).decode("ascii")


def decode_struct(text: str) -> dict[str, Any]:
    """Inverse of :func:`encode_struct`; raises on a damaged value (see :func:`read_struct`)."""
    msg = struct_pb2.Struct()
    msg.ParseFromString(base64.b64decode(text[len(STRUCT_PREFIX) :], validate=True))
    return dict(json_format.MessageToDict(msg))


def undecodable(what: str, exc: BaseException) -> str:
    """The error value shown in place of a stored value that does not decode."""
    reason = " ".join(str(exc).split())[:80] or type(exc).__name__
    return f"{UNDECODABLE_PREFIX}{what}: {reason}>"


def read_struct(text: str) -> PropertyValue:
    """:func:`decode_struct` for reads: a damaged struct becomes an :func:`undecodable` string."""
    try:
        return decode_struct(text)
    except _DECODE_ERRORS as exc:
        return undecodable("MLMD struct", exc)


def _read_any(data: Any) -> PropertyValue:
    msg = any_pb2.Any()
    try:
        msg.ParseFromString(bytes(data))
    except _DECODE_ERRORS as exc:
        return undecodable("proto_value", exc)
    return {"@type": msg.type_url, "value_base64": base64.b64encode(msg.value).decode()}


def find_nul(node: Any) -> str | None:
    """The first field of a node (name, URI, external id, a property's name or string value)
    that holds a NUL byte, which PostgreSQL's text type cannot store; None when clean."""
    for field in ("name", "uri", "external_id"):
        value = getattr(node, field, None)
        if isinstance(value, str) and "\x00" in value:
            return field
    for group in ("properties", "custom_properties"):
        for key, value in getattr(node, group, {}).items():
            if "\x00" in key:
                return f"{group} key {key!r}"
            if isinstance(value, str) and "\x00" in value:
                return f"{group}[{key!r}]"
    return None


def value_columns(
    name: str, value: PropertyValue, declared: PropertyType | None = None
) -> dict[str, Any]:
    """The value columns of one property row; checks ``value`` against ``declared`` when given."""
    kind = infer_type(value)
    if declared is not None and declared != kind:
        if not (declared == PropertyType.DOUBLE and kind == PropertyType.INT):
            raise TypeMismatchError(
                f"property {name!r} is declared {declared.name} but got {kind.name} {value!r}: "
                "pass a matching value or store it as a custom property"
            )
        kind, value = PropertyType.DOUBLE, float(value)  # type: ignore[arg-type]
    row: dict[str, Any] = dict.fromkeys(_COLUMNS)
    row["byte_value"] = None
    if kind == PropertyType.BOOLEAN:
        row["bool_value"] = value
    elif kind == PropertyType.INT:
        row["int_value"] = value
    elif kind == PropertyType.DOUBLE:
        row["double_value"] = value
    elif kind == PropertyType.STRING:
        row["string_value"] = value
    else:
        row["string_value"] = encode_struct(value)  # type: ignore[arg-type]
    return row


def decode_value(row: Mapping[str, Any]) -> PropertyValue:
    """The Python value of one property row (the first non-null value column)."""
    if row["int_value"] is not None:
        return int(row["int_value"])
    if row["double_value"] is not None:
        return float(row["double_value"])
    if row["string_value"] is not None:
        s = str(row["string_value"])
        return read_struct(s) if s.startswith(STRUCT_PREFIX) else s
    if row["bool_value"] is not None:
        return bool(row["bool_value"])
    if row.get("proto_value") is not None:
        return _read_any(row["proto_value"])
    if row.get("byte_value") is not None:
        return base64.b64encode(bytes(row["byte_value"])).decode()
    return ""


def property_rows(
    owner_col: str,
    owner_id: int,
    props: Mapping[str, PropertyValue],
    custom: Mapping[str, PropertyValue],
    declared: Mapping[str, PropertyType],
) -> Iterator[dict[str, Any]]:
    """Rows for one node's properties and custom properties."""
    for is_custom, values in ((False, props), (True, custom)):
        for name, value in values.items():
            row = value_columns(name, value, None if is_custom else declared.get(name))
            row.update({owner_col: owner_id, "name": name, "is_custom_property": is_custom})
            yield row


def group_properties(
    rows: Iterable[Any], owner_col: str
) -> dict[int, tuple[dict[str, PropertyValue], dict[str, PropertyValue]]]:
    """Property rows grouped by owner id into (properties, custom_properties)."""
    out: dict[int, tuple[dict[str, PropertyValue], dict[str, PropertyValue]]] = {}
    for row in rows:
        props, custom = out.setdefault(int(row[owner_col]), ({}, {}))
        (custom if row["is_custom_property"] else props)[str(row["name"])] = decode_value(row)
    return out


# tuple fast path ----------------------------------------------------------------------------
# Property rows as tuples in the column order of ``PROPERTY_INSERT_COLUMNS`` (writes) and
# ``PROPERTY_SELECT_COLUMNS`` (reads), for the driver-level executemany/fetch of hot paths.
PROPERTY_INSERT_COLUMNS = (
    "name",
    "is_custom_property",
    "int_value",
    "double_value",
    "string_value",
    "bool_value",
)
PROPERTY_SELECT_COLUMNS = (*PROPERTY_INSERT_COLUMNS, "byte_value", "proto_value")
_KIND_OF: dict[type, PropertyType] = {
    int: PropertyType.INT,
    float: PropertyType.DOUBLE,
    str: PropertyType.STRING,
    bool: PropertyType.BOOLEAN,
}


def value_tuple(
    name: str, value: PropertyValue, declared: PropertyType | None = None
) -> tuple[Any, Any, Any, Any]:
    """``(int_value, double_value, string_value, bool_value)`` of one property, checked as
    :func:`value_columns` checks it (which handles every case off the fast path)."""
    kind = _KIND_OF.get(type(value))
    if kind is not None and (declared is None or declared is kind):
        if kind is PropertyType.INT:
            return value, None, None, None
        if kind is PropertyType.STRING:
            return None, None, value, None
        if kind is PropertyType.DOUBLE:
            return None, value, None, None
        return None, None, None, value
    row = value_columns(name, value, declared)
    return row["int_value"], row["double_value"], row["string_value"], row["bool_value"]


def property_tuples(
    owner_id: int,
    props: Mapping[str, PropertyValue],
    custom: Mapping[str, PropertyValue],
    declared: Mapping[str, PropertyType],
) -> Iterator[tuple[Any, ...]]:
    """Rows ``(owner_id, *PROPERTY_INSERT_COLUMNS)`` for one node's properties."""
    for name, value in props.items():
        yield (owner_id, name, False, *value_tuple(name, value, declared.get(name)))
    for name, value in custom.items():
        yield (owner_id, name, True, *value_tuple(name, value))


def decode_tuple(row: Sequence[Any]) -> PropertyValue:
    """The value of a row ``(owner, *PROPERTY_SELECT_COLUMNS)``; same rules as
    :func:`decode_value`."""
    _, _, _, iv, dv, sv, bv, byte, proto = row
    if iv is not None:
        return int(iv)
    if dv is not None:
        return float(dv)
    if sv is not None:
        text = str(sv)
        return read_struct(text) if text.startswith(STRUCT_PREFIX) else text
    if bv is not None:
        return bool(bv)
    return decode_value({**dict.fromkeys(_COLUMNS), "byte_value": byte, "proto_value": proto})


def group_property_tuples(
    rows: Iterable[Sequence[Any]],
) -> dict[int, tuple[dict[str, PropertyValue], dict[str, PropertyValue]]]:
    """Rows ``(owner, *PROPERTY_SELECT_COLUMNS)`` grouped by owner into (properties, custom)."""
    out: dict[int, tuple[dict[str, PropertyValue], dict[str, PropertyValue]]] = {}
    get = out.get
    for row in rows:
        owner = row[0]
        pair = get(owner)
        if pair is None:
            pair = out[owner] = ({}, {})
        iv = row[3]
        value = int(iv) if iv is not None else decode_tuple(row)
        pair[1 if row[2] else 0][row[1]] = value
    return out
