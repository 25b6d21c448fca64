"""What the receiver refuses before it writes anything: values the store could not read back.

MLMD keeps facets as protobuf ``Struct`` values and strings in indexed text columns, so some JSON
that Python parses happily would be stored and then break every later read: protobuf refuses to
decode a ``Struct`` nested deeper than about 33 objects, ``NaN`` and ``Infinity`` are not JSON
(nor representable in a ``Struct`` read back as JSON), a lone UTF-16 surrogate cannot be encoded as
UTF-8, and PostgreSQL's text columns cannot hold NUL. :func:`check_document` walks the whole event
once and names the first offending field by its JSON path (``run.facets.x.y[3]``).

Limits (documented in ``docs/howto/openlineage.md``):

* :data:`MAX_DEPTH` levels of objects and arrays in the whole event (the event object is level 1;
  a run facet starts at level 4, a dataset facet at level 5).
* numbers finite, and integers within +-2**63 (MLMD's int64 columns; larger ones have no exact
  double either).
* strings (and object keys) valid Unicode without lone surrogates, and without NUL (U+0000).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from graphlets.errors import InvalidArgumentError

MAX_DEPTH = 20
INT_LIMIT = 2**63


def check_document(doc: Any) -> None:
    """Raise :class:`InvalidArgumentError` naming the first value the store could not read back.

    The walk is iterative, so a document nested past Python's recursion limit is refused with a
    message instead of a ``RecursionError``.
    """
    for path, value, depth in _walk(doc):
        problem = _problem(value, depth)
        if problem:
            raise InvalidArgumentError(f"{path or 'event'}: {problem}")


def _walk(doc: Any) -> Iterator[tuple[str, Any, int]]:
    stack: list[tuple[str, Any, int]] = [("", doc, 1)]
    while stack:
        path, value, depth = stack.pop()
        yield path, value, depth
        if depth > MAX_DEPTH:
            continue  # _problem refused it already
        if isinstance(value, dict):
            for key, item in reversed(list(value.items())):
                key_path = _join(path, key)
                yield key_path, key, depth  # keys are strings: checked like values
                stack.append((key_path, item, depth + 1))
        elif isinstance(value, list):
            for i in range(len(value) - 1, -1, -1):
                stack.append((f"{path}[{i}]", value[i], depth + 1))


def _join(path: str, key: Any) -> str:
    text = key if isinstance(key, str) else repr(key)
    safe = _safe(text)
    return f"{path}.{safe}" if path else safe


def _problem(value: Any, depth: int) -> str | None:
    if isinstance(value, dict | list) and depth > MAX_DEPTH:
        return (
            f"nested deeper than {MAX_DEPTH} levels of objects and arrays: "
            "flatten the facet (the store cannot read back deeper structures)"
        )
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value!r} is not a JSON number: send a finite number or null"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= INT_LIMIT:
        return "integer outside the 64-bit range: send it as a string"
    if isinstance(value, str):
        return _string_problem(value)
    return None


def _string_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character (U+0000): remove it"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"contains a lone surrogate ({text[exc.start]!r} at character {exc.start}), "
            "which is not valid Unicode: send valid UTF-8"
        )
    return None


def _safe(text: str) -> str:
    """A path segment that is printable in a one-line message (surrogates and NUL escaped)."""
    short = text if len(text) <= 40 else text[:37] + "..."
    return short.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
