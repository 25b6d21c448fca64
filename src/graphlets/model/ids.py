"""Typed ids (``artifact:12``) for the CLI and the web: MLMD ids are per table, so a bare number is
ambiguous."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from graphlets.errors import IdError

Kind = Literal["artifact", "execution", "context", "graphlet", "run"]
KINDS: tuple[Kind, ...] = ("artifact", "execution", "context", "graphlet", "run")


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
    """Parse ``kind:number``; a bare number raises an error that lists what it could mean."""
    raw = text.strip()
    if raw.isdigit():
        options = ", ".join(f"{k}:{raw}" for k in allowed)
        raise IdError(f"id {raw!r} is ambiguous: MLMD ids are per table; write one of {options}")
    kind, sep, number = raw.partition(":")
    if not sep or kind not in allowed or not number.isdigit():
        raise IdError(
            f"id {raw!r} is not a typed id: write KIND:NUMBER with KIND one of {', '.join(allowed)}"
        )
    return TypedId(kind, int(number))
