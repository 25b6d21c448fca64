"""``@component``: a plain typed function becomes a pipeline step.

The signature says everything: ``Input[T]`` / ``Inputs[T]`` parameters are input artifacts (wired by
name to the component whose output has that name), ``Output[T]`` parameters are output artifacts,
``span``, ``span_path`` and ``run_id`` are filled in by the runner, and every other parameter is a
plain parameter (``int``, ``float``, ``str``, ``bool``, ``Path``, ``list``, ``dict``) whose value is
part of the cache key. ``Path`` parameters are hashed by content, so a changed data file misses the
cache even when its name is the same.

Calling the component calls the function, so components stay unit-testable as functions.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union, overload

from graphlets.errors import InvalidArgumentError
from graphlets.model import ExecutionBaseType, ExecutionType
from graphlets.pipeline.artifacts import ArtifactClass, Input, Inputs, Output
from graphlets.pipeline.conditions import Condition, as_condition
from graphlets.pipeline.fingerprint import code_fingerprint
from graphlets.pipeline.resolvers import Resolver, ThisRun

RUNTIME_NAMES = ("span", "span_path", "run_id")
_PARAM_TYPES = (int, float, str, bool, Path, list, dict)


@dataclass(frozen=True)
class InputSpec:
    """One input: its key (parameter name), artifact class, cardinality and resolver."""

    key: str
    artifact_class: type[ArtifactClass]
    many: bool
    optional: bool
    resolver: Resolver
    channel: str

    @property
    def type_name(self) -> str:
        """The MLMD artifact type name."""
        return self.artifact_class.type_name()


@dataclass(frozen=True)
class OutputSpec:
    """One output: its key, artifact class and the channel name other components read."""

    key: str
    artifact_class: type[ArtifactClass]
    channel: str

    @property
    def type_name(self) -> str:
        """The MLMD artifact type name."""
        return self.artifact_class.type_name()


@dataclass(frozen=True)
class ParamSpec:
    """A plain parameter; ``required`` when it has no default."""

    name: str
    annotation: Any
    default: Any = None
    required: bool = False


@dataclass(frozen=True)
class Component:
    """A typed function plus how it runs: build with :func:`component`, copy with
    :meth:`configure`."""

    fn: Callable[..., Any]
    name: str
    type_name: str
    inputs: Mapping[str, InputSpec]
    outputs: Mapping[str, OutputSpec]
    params: Mapping[str, ParamSpec]
    runtime: tuple[str, ...] = ()
    bound: Mapping[str, Any] = field(default_factory=dict)
    when: Condition | None = None
    base_type: ExecutionBaseType = ExecutionBaseType.UNSET
    retries: int = 0
    retry_backoff: float = 1.0
    cache: bool = True
    cache_max_age: float | None = None
    version: str | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<component {self.name} ({self.type_name})>"

    @functools.cached_property
    def code_fingerprint(self) -> str:
        """The function's code fingerprint (see :mod:`graphlets.pipeline.fingerprint`)."""
        digest = code_fingerprint(self.fn)
        return digest if self.version is None else f"{digest}:{self.version}"

    def execution_type(self) -> ExecutionType:
        """The MLMD execution type this component records."""
        return ExecutionType(self.type_name, base_type=self.base_type)

    def configure(
        self,
        *,
        name: str | None = None,
        params: Mapping[str, Any] | None = None,
        inputs: Mapping[str, str | Resolver] | None = None,
        outputs: Mapping[str, str] | None = None,
        **options: Any,
    ) -> Component:
        """A copy with another name, bound parameters, renamed channels or other options (``when``,
        ``retries``, ``retry_backoff``, ``cache``, ``cache_max_age``, ``version``)."""
        new_inputs = _apply_inputs(self, inputs or {})
        new_outputs = _apply_outputs(self, outputs or {})
        bound = dict(self.bound)
        for key, value in (params or {}).items():
            if key not in self.params:
                raise InvalidArgumentError(
                    f"component {self.name!r} has no parameter {key!r}: its parameters are "
                    f"{', '.join(self.params) or 'none'}"
                )
            bound[key] = value
        if "when" in options:
            options["when"] = as_condition(options["when"])
        _check_options(self.name, options)
        return dataclasses.replace(
            self,
            name=name or self.name,
            inputs=new_inputs,
            outputs=new_outputs,
            bound=bound,
            **options,
        )


@overload
def component(fn: Callable[..., Any], /) -> Component: ...
@overload
def component(fn: None = None, /, **options: Any) -> Callable[[Callable[..., Any]], Component]: ...
def component(
    fn: Callable[..., Any] | None = None, /, **options: Any
) -> Component | Callable[[Callable[..., Any]], Component]:
    """Make a component from a typed function.

    Options: ``name`` (node name, default the function name), ``type_name`` (MLMD execution type,
    default the function name in CamelCase), ``category`` (``train``, ``transform``, ``process``,
    ``evaluate``, ``deploy``: MLMD's base type), ``inputs`` (key -> resolver or channel name),
    ``outputs`` (key -> channel name), ``when`` (a condition), ``retries`` and ``retry_backoff``
    (seconds, doubled per attempt), ``cache`` (False: always run), ``cache_max_age`` (seconds),
    ``version`` (bump to invalidate the cache for changes the fingerprint cannot see).
    """
    if fn is None:
        return lambda f: _build(f, options)
    return _build(fn, options)


def _build(fn: Callable[..., Any], options: dict[str, Any]) -> Component:
    if not callable(fn) or isinstance(fn, Component):
        raise InvalidArgumentError(f"@component needs a plain function, got {fn!r}")
    opts = dict(options)
    name = opts.pop("name", None) or fn.__name__
    type_name = opts.pop("type_name", None) or _camel(fn.__name__)
    base = _base_type(opts.pop("category", None), name)
    resolvers = opts.pop("inputs", None) or {}
    renames = opts.pop("outputs", None) or {}
    opts["when"] = as_condition(opts.get("when"))
    _check_options(name, opts)
    ins, outs, params, runtime = _parse_signature(fn, name)
    comp = Component(fn, name, type_name, ins, outs, params, runtime, base_type=base, **opts)
    comp = dataclasses.replace(
        comp, inputs=_apply_inputs(comp, resolvers), outputs=_apply_outputs(comp, renames)
    )
    return comp


_OPTION_TYPES: dict[str, tuple[type, ...]] = {
    "when": (Condition, type(None)),
    "retries": (int,),
    "retry_backoff": (int, float),
    "cache": (bool,),
    "cache_max_age": (int, float, type(None)),
    "version": (str, type(None)),
}


def _check_options(name: str, options: Mapping[str, Any]) -> None:
    for key, value in options.items():
        if key not in _OPTION_TYPES:
            raise InvalidArgumentError(
                f"component {name!r}: unknown option {key!r}; use one of "
                f"name, type_name, category, inputs, outputs, {', '.join(_OPTION_TYPES)}"
            )
        bad_retries = key == "retries" and isinstance(value, int) and value < 0
        if not isinstance(value, _OPTION_TYPES[key]) or bad_retries:
            raise InvalidArgumentError(f"component {name!r}: option {key}={value!r} is invalid")


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"_+", name) if part)


def _base_type(category: Any, name: str) -> ExecutionBaseType:
    if category is None:
        return ExecutionBaseType.UNSET
    if isinstance(category, ExecutionBaseType):
        return category
    try:
        return ExecutionBaseType[str(category).upper()]
    except KeyError:
        allowed = ", ".join(m.name.lower() for m in ExecutionBaseType if m.value)
        raise InvalidArgumentError(
            f"component {name!r}: category {category!r} is not one of {allowed}"
        ) from None


def _parse_signature(
    fn: Callable[..., Any], name: str
) -> tuple[dict[str, InputSpec], dict[str, OutputSpec], dict[str, ParamSpec], tuple[str, ...]]:
    try:
        hints = typing.get_type_hints(fn)
    except Exception as exc:  # NameError for an annotation defined inside a function, ...
        raise InvalidArgumentError(
            f"component {name!r}: its type hints cannot be resolved ({exc}): define the artifact "
            "classes and types it names at module level"
        ) from exc
    ins: dict[str, InputSpec] = {}
    outs: dict[str, OutputSpec] = {}
    params: dict[str, ParamSpec] = {}
    runtime: list[str] = []
    for p in inspect.signature(fn).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise InvalidArgumentError(
                f"component {name!r}: *{p.name} / **{p.name} cannot be wired; name every input"
            )
        if p.name in RUNTIME_NAMES:
            runtime.append(p.name)
            continue
        if p.name not in hints:
            raise InvalidArgumentError(
                f"component {name!r}: parameter {p.name!r} has no type hint: annotate it as "
                "Input[T], Inputs[T], Output[T] or int, float, str, bool, Path, list, dict"
            )
        _classify(name, p, hints[p.name], ins, outs, params)
    return ins, outs, params, tuple(runtime)


def _classify(
    name: str,
    p: inspect.Parameter,
    hint: Any,
    ins: dict[str, InputSpec],
    outs: dict[str, OutputSpec],
    params: dict[str, ParamSpec],
) -> None:
    inner, optional = _strip_optional(hint)
    origin = typing.get_origin(inner)
    if origin in (Input, Inputs, Output):
        art = _artifact_arg(name, p.name, inner)
        if origin is Output:
            if optional:
                raise InvalidArgumentError(
                    f"component {name!r}: output {p.name!r} cannot be Optional; every output is "
                    "written on success"
                )
            outs[p.name] = OutputSpec(p.name, art, p.name)
        else:
            many = origin is Inputs
            optional = optional or p.default is not inspect.Parameter.empty
            ins[p.name] = InputSpec(p.name, art, many, optional, ThisRun(), p.name)
        return
    base = origin or inner
    if base not in _PARAM_TYPES:
        raise InvalidArgumentError(
            f"component {name!r}: parameter {p.name!r} has type {hint!r}; use Input[T], "
            "Inputs[T], Output[T] or int, float, str, bool, Path, list, dict"
        )
    required = p.default is inspect.Parameter.empty
    default = None if required else p.default
    params[p.name] = ParamSpec(p.name, hint, default, required)


def _strip_optional(hint: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(hint)) == 2:
            return args[0], True
    return hint, False


def _artifact_arg(name: str, key: str, hint: Any) -> type[ArtifactClass]:
    args = typing.get_args(hint)
    art = args[0] if args else None
    if not (isinstance(art, type) and issubclass(art, ArtifactClass)):
        raise InvalidArgumentError(
            f"component {name!r}: {key!r} is {hint!r}; write Input[Examples], Output[Model], ... "
            "with an ArtifactClass subclass"
        )
    return art


def _apply_inputs(comp: Component, mapping: Mapping[str, str | Resolver]) -> dict[str, InputSpec]:
    out = dict(comp.inputs)
    for key, value in mapping.items():
        if key not in out:
            raise InvalidArgumentError(
                f"component {comp.name!r} has no input {key!r}: its inputs are "
                f"{', '.join(out) or 'none'}"
            )
        spec = out[key]
        if isinstance(value, str):
            out[key] = dataclasses.replace(spec, channel=value, resolver=ThisRun(value))
        elif isinstance(value, Resolver):
            out[key] = dataclasses.replace(spec, channel=value.channel or key, resolver=value)
        else:
            raise InvalidArgumentError(
                f"component {comp.name!r}: input {key!r} maps to {value!r}; pass a channel name "
                "or a resolver such as rolling_window(7)"
            )
    return out


def _apply_outputs(comp: Component, mapping: Mapping[str, str]) -> dict[str, OutputSpec]:
    out = dict(comp.outputs)
    for key, channel in mapping.items():
        if key not in out:
            raise InvalidArgumentError(
                f"component {comp.name!r} has no output {key!r}: its outputs are "
                f"{', '.join(out) or 'none'}"
            )
        out[key] = dataclasses.replace(out[key], channel=channel)
    return out
