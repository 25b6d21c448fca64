"""Property values <-> MLMD property rows.

MLMD stores a struct as ``string_value = "mlmd-struct::" + base64(Struct)``; we write and read the
same bytes through protobuf's ``Struct`` so ml-metadata decodes what we write. A ``proto_value`` (an
``Any``) written by other tools reads as ``{"@type": url, "value_base64": ...}``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from google.protobuf import any_pb2, json_format, struct_pb2

from graphlets.errors import TypeMismatchError
from graphlets.model.entities import PropertyValue
from graphlets.model.enums import PropertyType

STRUCT_PREFIX = "mlmd-struct::"
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
    """Inverse of :func:`encode_struct`."""
    msg = struct_pb2.Struct()
    msg.ParseFromString(base64.b64decode(text[len(STRUCT_PREFIX) :]))
    return dict(json_format.MessageToDict(msg))


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
        return decode_struct(s) if s.startswith(STRUCT_PREFIX) else s
    if row["bool_value"] is not None:
        return bool(row["bool_value"])
    if row.get("proto_value") is not None:
        msg = any_pb2.Any()
        msg.ParseFromString(bytes(row["proto_value"]))
        return {"@type": msg.type_url, "value_base64": base64.b64encode(msg.value).decode()}
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
