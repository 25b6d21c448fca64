"""Model references: ``NAME@STAGE``, ``NAME@ALIAS``, ``NAME/VERSION``, with an optional
``models:/`` prefix (MLflow's URI form)."""

from __future__ import annotations

import re

from graphlets.errors import InvalidArgumentError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
PREFIX = "models:/"


def check_name(name: str) -> str:
    """Return ``name`` if it is a usable model name."""
    if not _NAME.match(name or ""):
        raise InvalidArgumentError(
            f"model name {name!r} is not usable: use letters, digits, '_', '.', '-'"
        )
    return name


def check_alias(alias: str) -> str:
    """Return ``alias`` if it is usable (not a number, so it never reads as a version)."""
    if not _ALIAS.match(alias or ""):
        raise InvalidArgumentError(
            f"alias {alias!r} is not usable: start with a letter; letters, digits, '_', '-'"
        )
    return alias


def parse(ref: str) -> tuple[str, str, str]:
    """``(name, "version" | "label", value)`` of a reference."""
    text = ref[len(PREFIX) :] if ref.startswith(PREFIX) else ref
    if "@" in text:
        name, _, label = text.partition("@")
        return check_name(name), "label", label
    if "/" in text:
        name, _, number = text.partition("/")
        if number.isdigit():
            return check_name(name), "version", number
    raise InvalidArgumentError(
        f"model reference {ref!r} is not understood: write NAME@production, NAME@ALIAS, NAME/3 "
        "or models:/NAME@production"
    )
