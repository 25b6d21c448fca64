"""Code fingerprints: what about a component's code goes into its cache key.

A component's code fingerprint is the sha256 of a canonical description that covers exactly:

1. **The function itself**: its source parsed to an AST, with the decorators and docstrings removed
   and positions dropped, so comments, blank lines, formatting and docstrings do not change it but
   any change to the code does.
2. **Helpers of its own module**, transitively: every global name the function's body uses
   (including names used in nested functions, lambdas and comprehensions) that refers to a function
   or class defined in the same module (same ``__module__``) is fingerprinted the same way, and so
   are the helpers those use. A class is covered by its whole source (all methods).
3. **Constants it reads**: global names bound to ``None``, ``bool``, ``int``, ``float``,
   ``complex``, ``str``, ``bytes``, enum members, or tuples/lists/sets/dicts of those (nested up to
   4 levels, up to 10,000 elements), by value, whatever module the value came from. The same goes
   for values captured in closures.

Not covered (by design; each is named so a user knows when to bump ``@component(version=...)``):
functions and classes imported from *other* modules (installed packages are covered by the
environment fingerprint, but your own other modules are not), global objects that are not constants
(a model, a DataFrame, a client), files the code reads (declare them as ``Path`` parameters: their
content is hashed), and the parameter defaults (the values in use go into the cache key as
parameters, so a changed default misses the cache as a parameter change, not a code change).

When no source is available (a function typed into a REPL), the bytecode, constants and names of the
code object are hashed instead; that hash also changes across Python versions.
"""

from __future__ import annotations

import ast
import builtins
import enum
import functools
import hashlib
import inspect
import json
import textwrap
import types
from collections.abc import Callable
from typing import Any

_BUILTINS = frozenset(dir(builtins))
_SCALARS = (type(None), bool, int, float, complex, str, bytes)
_MAX_DEPTH = 4
_MAX_ITEMS = 10_000


def code_fingerprint(fn: Callable[..., Any]) -> str:
    """sha256 hex digest of what the module docstring lists as covered for ``fn``."""
    return str(describe_code(fn)["sha256"])


def describe_code(fn: Callable[..., Any]) -> dict[str, Any]:
    """The covered parts: ``function``, ``helpers`` (name -> digest), ``constants`` (name -> repr),
    and the overall ``sha256``; useful to see why two fingerprints differ."""
    walker = _Walker(fn)
    body = walker.fingerprint_callable(fn)
    doc = {"function": body, "helpers": walker.helpers, "constants": walker.constants}
    raw = json.dumps(doc, sort_keys=True).encode()
    return {**doc, "sha256": hashlib.sha256(raw).hexdigest()}


class _Walker:
    """Fingerprints one function and the same-module helpers it reaches."""

    def __init__(self, root: Callable[..., Any]) -> None:
        self.module = getattr(root, "__module__", None)
        self.helpers: dict[str, str] = {}
        self.constants: dict[str, str] = {}
        self._seen: set[int] = set()

    def fingerprint_callable(self, obj: Any) -> str:
        obj = inspect.unwrap(getattr(obj, "fn", obj))
        self._seen.add(id(obj))
        tree = _parse(obj)
        if tree is None:
            return self._bytecode(obj)
        self._follow_names(obj, _global_names(tree, _loaded_globals(obj)))
        self._follow_closure(obj)
        return hashlib.sha256(ast.dump(tree, include_attributes=False).encode()).hexdigest()

    def _follow_names(self, obj: Any, names: list[str]) -> None:
        scope = _globals_of(obj)
        for name in names:
            if name in scope:
                self._cover(name, scope[name])

    def _follow_closure(self, obj: Any) -> None:
        code = getattr(obj, "__code__", None)
        cells = getattr(obj, "__closure__", None) or ()
        if code is None:
            return
        for name, cell in zip(code.co_freevars, cells, strict=False):
            try:
                value = cell.cell_contents
            except ValueError:  # empty cell
                continue
            self._cover(f"<closure>.{name}", value)

    def _cover(self, name: str, value: Any) -> None:
        target = getattr(value, "fn", value) if _is_component(value) else value
        if isinstance(target, types.FunctionType | type) and self._same_module(target):
            if id(target) not in self._seen:
                self.helpers[name] = self.fingerprint_callable(target)
            return
        text = constant_repr(value)
        if text is not None:
            self.constants[name] = text

    def _same_module(self, obj: Any) -> bool:
        return self.module is not None and getattr(obj, "__module__", None) == self.module

    def _bytecode(self, obj: Any) -> str:
        code = getattr(obj, "__code__", None)
        if code is None:
            return hashlib.sha256(repr(obj).encode()).hexdigest()
        self._follow_names(obj, sorted(set(_code_names(code))))
        return hashlib.sha256(_code_repr(code).encode()).hexdigest()


def _is_component(value: Any) -> bool:
    # by shape, without touching the (cached, recursive) property: component imports this module
    prop = inspect.getattr_static(type(value), "code_fingerprint", None)
    return isinstance(prop, functools.cached_property) and callable(getattr(value, "fn", None))


def _loaded_globals(obj: Any) -> set[str] | None:
    """Names the compiled code looks up outside its own scope (parameters and locals that
    shadow a global are not among them); None when there is no code to ask."""
    if isinstance(obj, type):
        codes = [f.__code__ for f in vars(obj).values() if isinstance(f, types.FunctionType)]
        return {n for c in codes for n in _code_names(c)}
    code = getattr(obj, "__code__", None)
    return None if code is None else set(_code_names(code))


def _globals_of(obj: Any) -> dict[str, Any]:
    if isinstance(obj, type):
        module = inspect.getmodule(obj)
        return vars(module) if module is not None else {}
    return getattr(obj, "__globals__", {})


def _parse(obj: Any) -> ast.AST | None:
    try:
        source = textwrap.dedent(inspect.getsource(obj))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None
    if not tree.body:
        return None
    node = tree.body[0]
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        node.decorator_list = []
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        node.args.defaults, node.args.kw_defaults = [], []  # parameters: keyed by their values
    return _strip_docstrings(node)


def _strip_docstrings(node: ast.AST) -> ast.AST:
    for sub in ast.walk(node):
        scoped = isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module)
        if scoped and sub.body and _is_docstring(sub.body[0]):  # type: ignore[attr-defined]
            sub.body = sub.body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
    return node


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _global_names(tree: ast.AST, loaded: set[str] | None) -> list[str]:
    """Names the source reads that the code looks up globally (``loaded``; all names read when
    unknown)."""
    names = {
        n.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in _BUILTINS
    }
    return sorted(names if loaded is None else names & loaded)


def _code_names(code: types.CodeType) -> list[str]:
    out = list(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            out.extend(_code_names(const))
    return [n for n in out if n not in _BUILTINS]


def _code_repr(code: types.CodeType) -> str:
    consts = [_code_repr(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts]
    return repr((code.co_code.hex(), consts, code.co_names, code.co_varnames))


def constant_repr(value: Any, depth: int = 0, budget: list[int] | None = None) -> str | None:
    """A canonical text for a constant value, or None when ``value`` is not a constant."""
    budget = budget if budget is not None else [_MAX_ITEMS]
    budget[0] -= 1
    if budget[0] < 0 or depth > _MAX_DEPTH:
        return None
    if isinstance(value, enum.Enum):
        return f"{type(value).__qualname__}.{value.name}"
    if isinstance(value, _SCALARS):
        return f"{type(value).__name__}:{value!r}"
    if isinstance(value, tuple | list | set | frozenset):
        parts = [constant_repr(v, depth + 1, budget) for v in value]
        if any(p is None for p in parts):
            return None
        if isinstance(value, set | frozenset):
            parts = sorted(parts)  # type: ignore[type-var]
        return f"{type(value).__name__}[{','.join(parts)}]"  # type: ignore[arg-type]
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            kr, vr = constant_repr(k, depth + 1, budget), constant_repr(v, depth + 1, budget)
            if kr is None or vr is None:
                return None
            items.append(f"{kr}:{vr}")
        return "dict{" + ",".join(sorted(items)) + "}"
    return None
