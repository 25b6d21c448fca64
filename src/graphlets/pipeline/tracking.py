"""``log_param`` and ``log_metric``: values a running component reports about itself.

They end up as custom properties of the component's execution (``param.NAME`` and ``metric.NAME``),
next to the parameters the runner records itself, so ``graphlets runs show`` and ``runs diff`` see
them. A component may also return a dict of metric values, which is the same as logging each.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from graphlets.errors import InvalidArgumentError
from graphlets.pipeline.record import check_property_size

Scalar = int | float | str | bool


@dataclass
class Logged:
    """What one execution logged."""

    params: dict[str, Scalar] = field(default_factory=dict)
    metrics: dict[str, Scalar] = field(default_factory=dict)


_current: ContextVar[Logged | None] = ContextVar("graphlets_logged", default=None)


@contextmanager
def collecting() -> Iterator[Logged]:
    """Collect what the code inside logs (the runner wraps every component call in this)."""
    logged = Logged()
    token = _current.set(logged)
    try:
        yield logged
    finally:
        _current.reset(token)


def _check(kind: str, name: str, value: object) -> Scalar:
    if not isinstance(name, str) or not name:
        raise InvalidArgumentError(f"log_{kind}: the name must be a non-empty string, got {name!r}")
    if isinstance(value, str):
        check_property_size("execution", f"{kind}.{name}", value)
        return value
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return _check(kind, name, item())
    raise InvalidArgumentError(
        f"log_{kind}({name!r}, ...): {type(value).__name__} is not a number, str or bool"
    )


def _target(kind: str) -> Logged:
    logged = _current.get()
    if logged is None:
        raise InvalidArgumentError(
            f"log_{kind}() was called outside a running component: call it inside a function "
            "decorated with @component while the runner runs it"
        )
    return logged


def log_param(name: str, value: object) -> None:
    """Record a parameter the component chose (e.g. a tuned learning rate)."""
    _target("param").params[name] = _check("param", name, value)


def log_metric(name: str, value: object) -> None:
    """Record a metric (e.g. validation accuracy)."""
    _target("metric").metrics[name] = _check("metric", name, value)


def log_metrics(values: Mapping[str, object]) -> None:
    """Record several metrics."""
    for name, value in values.items():
        log_metric(name, value)
