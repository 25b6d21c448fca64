"""Typed ids (``artifact:12``) for the CLI and the web: MLMD ids are per table, so a bare number is
ambiguous."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from graphlets.errors import IdError

Kind = Literal["artifact", "execution", "context", "graphlet", "run"]
KINDS: tuple[Kind, ...] = ("artifact", "execution", "context", "graphlet", "run")
MAX_ID = 2**63 - 1  # MLMD ids are int64 on every backend
MAX_ID_TEXT = 40  # longer input is cut in messages
_DIGITS = re.compile(r"[0-9]+")  # ASCII: isdigit() takes full-width digits too


@dataclass(frozen=True)
class TypedId:
    """A table name plus an id in it."""

    kind: Kind
    id: int

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


def parse_id(
    text: str, allowed: tuple[Kind, ...] = ("artifact", "execution", "context")
) -> TypedId:
    """Parse ``kind:number``; a bare number raises an error that lists what it could mean.

    The number is ASCII digits within int64 (MLMD's id column), so the error comes here, not
    from the database driver.
    """
    raw = text.strip()
    shown = raw if len(raw) <= MAX_ID_TEXT else raw[:MAX_ID_TEXT] + "..."
    if _DIGITS.fullmatch(raw):
        options = ", ".join(f"{k}:{shown}" for k in allowed)
        raise IdError(f"id {shown!r} is ambiguous: MLMD ids are per table; write one of {options}")
    kind, sep, number = raw.partition(":")
    if not sep or kind not in allowed or not _DIGITS.fullmatch(number):
        raise IdError(
            f"id {shown!r} is not a typed id: write KIND:NUMBER with KIND one of "
            f"{', '.join(allowed)} and NUMBER in ASCII digits"
        )
    return TypedId(kind, check_id(int(number), shown))


def check_id(value: int, shown: object = None) -> int:
    """``value`` if it fits MLMD's int64 id column, else an :class:`IdError`."""
    if not 0 <= value <= MAX_ID:
        raise IdError(
            f"id {shown if shown is not None else value!s} is out of range: MLMD ids are "
            f"between 0 and {MAX_ID}"
        )
    return value
