"""``when=`` conditions: run a component only if its input artifacts' properties say so.

Two forms. A declarative one that explains itself in ``skip_reason``::

    @component(when=prop("blessing", "blessed") == 1)

and any callable that takes some of the component's inputs by name (as ``Input`` handles, or None
for an optional input that resolved to nothing) and returns a bool::

    @component(when=lambda blessing: blessing.properties.get("blessed") == 1)

An unmet condition records the execution CANCELED with ``skip_reason`` "condition not met: ...".
"""

from __future__ import annotations

import ast
import inspect
import operator
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphlets.errors import InvalidArgumentError
from graphlets.model import Artifact

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_MISSING = object()


class Condition:
    """Base of declarative conditions; combine with ``&`` and ``|``."""

    def evaluate(self, inputs: Mapping[str, Sequence[Artifact]]) -> tuple[bool, str]:
        """Whether the condition holds, and a one-line explanation."""
        raise NotImplementedError

    def keys(self) -> set[str]:
        """Input keys the condition reads (checked against the component when it is built)."""
        raise NotImplementedError

    def __and__(self, other: Condition) -> Condition:
        return _Both(self, other, all_=True)

    def __or__(self, other: Condition) -> Condition:
        return _Both(self, other, all_=False)


@dataclass(frozen=True, eq=False)
class Prop:
    """A property of an input artifact (its first artifact when the input is a list)."""

    key: str
    name: str

    def _cmp(self, op: str, value: Any) -> Condition:
        return _Compare(self, op, value)

    def __eq__(self, value: object) -> Condition:  # type: ignore[override]
        return self._cmp("==", value)

    def __ne__(self, value: object) -> Condition:  # type: ignore[override]
        return self._cmp("!=", value)

    def __lt__(self, value: Any) -> Condition:
        return self._cmp("<", value)

    def __le__(self, value: Any) -> Condition:
        return self._cmp("<=", value)

    def __gt__(self, value: Any) -> Condition:
        return self._cmp(">", value)

    def __ge__(self, value: Any) -> Condition:
        return self._cmp(">=", value)

    __hash__ = object.__hash__

    def read(self, inputs: Mapping[str, Sequence[Artifact]]) -> Any:
        arts = inputs.get(self.key) or ()
        if not arts:
            return _MISSING
        a = arts[0]
        if self.name in a.properties:
            return a.properties[self.name]
        return a.custom_properties.get(self.name, _MISSING)


def prop(key: str, name: str) -> Prop:
    """Property ``name`` of input ``key``: ``prop("blessing", "blessed") == 1``."""
    return Prop(key, name)


@dataclass(frozen=True)
class _Compare(Condition):
    left: Prop
    op: str
    value: Any

    def evaluate(self, inputs: Mapping[str, Sequence[Artifact]]) -> tuple[bool, str]:
        got = self.left.read(inputs)
        text = f"{self.left.key}.{self.left.name} {self.op} {self.value!r}"
        if got is _MISSING:
            return False, f"{text} (input or property missing)"
        try:
            ok = bool(_OPS[self.op](got, self.value))
        except TypeError:
            ok = False
        return ok, f"{text} (got {got!r})"

    def keys(self) -> set[str]:
        return {self.left.key}


@dataclass(frozen=True)
class _Both(Condition):
    a: Condition
    b: Condition
    all_: bool

    def evaluate(self, inputs: Mapping[str, Sequence[Artifact]]) -> tuple[bool, str]:
        (ok_a, why_a), (ok_b, why_b) = self.a.evaluate(inputs), self.b.evaluate(inputs)
        ok = (ok_a and ok_b) if self.all_ else (ok_a or ok_b)
        return ok, f"({why_a}) {'and' if self.all_ else 'or'} ({why_b})"

    def keys(self) -> set[str]:
        return self.a.keys() | self.b.keys()


@dataclass(frozen=True)
class CallableCondition(Condition):
    """A user function over input handles; ``make`` builds the handle for an input key."""

    fn: Callable[..., Any]

    def parameters(self) -> list[str]:
        return list(inspect.signature(self.fn).parameters)

    def keys(self) -> set[str]:
        return set(self.parameters())

    def evaluate(self, inputs: Mapping[str, Sequence[Artifact]]) -> tuple[bool, str]:
        raise InvalidArgumentError("a callable condition needs handles: use evaluate_with()")

    def evaluate_with(self, handles: Mapping[str, Any]) -> tuple[bool, str]:
        ok = bool(self.fn(**{k: handles.get(k) for k in self.parameters()}))
        return ok, f"{_describe_callable(self.fn)} is false"


def as_condition(when: Condition | Callable[..., Any] | None) -> Condition | None:
    """Normalise ``when=``."""
    if when is None or isinstance(when, Condition):
        return when
    if callable(when):
        return CallableCondition(when)
    raise InvalidArgumentError(
        f"when={when!r} is not a condition: pass prop('input', 'name') == value or a function"
    )


def _describe_callable(fn: Callable[..., Any]) -> str:
    """A lambda's own text (``lambda blessing: ...``), else the function's qualified name."""
    name = getattr(fn, "__qualname__", repr(fn))
    if not name.endswith("<lambda>"):
        return name
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return name
    code = getattr(fn, "__code__", None)
    args = list(code.co_varnames[: code.co_argcount]) if code is not None else []
    for node in ast.walk(tree):
        if isinstance(node, ast.Lambda) and [a.arg for a in node.args.args] == args:
            return ast.unparse(node)
    return name
