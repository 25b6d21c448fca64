"""``Pipeline``: components wired by name, checked when it is built, before anything runs.

An input named ``examples`` reads the output channel named ``examples`` (rename either side with
``Component.configure``). Building checks duplicate names, missing inputs, type mismatches, window
inputs not annotated as lists, conditions over unknown inputs, parameters without values, and
cycles; each error names the component and the fix. Running is separate
(:mod:`graphlets.pipeline.runner`).
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphlets.errors import InvalidArgumentError
from graphlets.pipeline.component import Component, InputSpec
from graphlets.pipeline.conditions import CallableCondition
from graphlets.pipeline.resolvers import LatestArtifact, RollingWindow
from graphlets.pipeline.spans import SpanFiles

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True)
class Producer:
    """Who writes a channel: node name and its output key."""

    node: str
    key: str


class Pipeline:
    """A named, checked DAG of components.

    Args:
        name: the ``pipeline`` context's name; one runner per name at a time.
        components: the steps, in any order (declaration order breaks ties when scheduling).
        params: values for component parameters, as ``"param"`` (every component with that
            parameter) or ``"node.param"`` (one component); the latter wins.
        spans: where span files live (``SpanFiles`` or a pattern such as ``"data/day-{span}.csv"``).
    """

    def __init__(
        self,
        name: str,
        components: Sequence[Component],
        *,
        params: Mapping[str, Any] | None = None,
        spans: SpanFiles | str | None = None,
    ) -> None:
        if not _NAME.match(name or ""):
            raise InvalidArgumentError(
                f"pipeline name {name!r} is not usable: use letters, digits, '_', '.', '-'"
            )
        self.name = name
        self.params: dict[str, Any] = dict(params or {})
        self.spans: SpanFiles | None = SpanFiles(spans) if isinstance(spans, str) else spans
        self.source_file: Path | None = None
        self.nodes: dict[str, Component] = _unique_nodes(components)
        self.producers: dict[str, Producer] = _producers(self.nodes.values())
        self.upstream: dict[str, set[str]] = {}
        for comp in self.nodes.values():
            self.upstream[comp.name] = self._check_inputs(comp)
            _check_condition(comp)
        self._check_params()
        self.order: list[str] = _topological(self.nodes, self.upstream)
        self.downstream: dict[str, set[str]] = {n: set() for n in self.nodes}
        for node, ups in self.upstream.items():
            for up in ups:
                self.downstream[up].add(node)

    def __repr__(self) -> str:
        return f"Pipeline({self.name!r}, {list(self.nodes)})"

    # checks -------------------------------------------------------------------------------
    def _check_inputs(self, comp: Component) -> set[str]:
        ups: set[str] = set()
        for spec in comp.inputs.values():
            _check_cardinality(comp, spec)
            if isinstance(spec.resolver, LatestArtifact):
                _check_latest_type(comp, spec)
                continue
            producer = self.producers.get(spec.channel)
            if producer is None:
                if spec.optional:
                    continue
                raise InvalidArgumentError(
                    f"component {comp.name!r} needs input {spec.key!r} ({spec.type_name}) but no "
                    f"component outputs {spec.channel!r}: add one, or map the input with "
                    f"{comp.name}.configure(inputs={{{spec.key!r}: 'CHANNEL'}})"
                )
            out = self.nodes[producer.node].outputs[producer.key]
            if out.type_name != spec.type_name:
                raise InvalidArgumentError(
                    f"component {comp.name!r} input {spec.key!r} expects {spec.type_name} but "
                    f"{producer.node!r} outputs {out.type_name} on {spec.channel!r}: fix the "
                    "annotation or map the input to a channel of the right type"
                )
            if spec.resolver.edge:
                ups.add(producer.node)
        return ups

    def _check_params(self) -> None:
        for key in self.params:
            node, _, param = key.rpartition(".")
            if node:
                comp = self.nodes.get(node)
                if comp is None or param not in comp.params:
                    raise InvalidArgumentError(
                        f"pipeline {self.name!r}: parameter {key!r} names no component "
                        "parameter: write NODE.PARAM with a component's name and parameter"
                    )
            elif not any(key in c.params for c in self.nodes.values()):
                raise InvalidArgumentError(
                    f"pipeline {self.name!r}: no component has a parameter {key!r}"
                )
        for comp in self.nodes.values():
            values = self.param_values(comp.name)
            for p in comp.params.values():
                if p.required and p.name not in values:
                    raise InvalidArgumentError(
                        f"component {comp.name!r} parameter {p.name!r} has no default and no "
                        f"value: pass Pipeline(params={{'{comp.name}.{p.name}': ...}}) or "
                        f"--param {comp.name}.{p.name}=VALUE"
                    )

    # values -------------------------------------------------------------------------------
    def param_values(self, node: str) -> dict[str, Any]:
        """Parameter values of ``node``: configure() > ``node.param`` > ``param`` > default."""
        comp = self.nodes[node]
        values: dict[str, Any] = {}
        for p in comp.params.values():
            if p.name in comp.bound:
                values[p.name] = comp.bound[p.name]
            elif f"{node}.{p.name}" in self.params:
                values[p.name] = self.params[f"{node}.{p.name}"]
            elif p.name in self.params:
                values[p.name] = self.params[p.name]
            elif not p.required:
                values[p.name] = p.default
        return values

    def with_params(self, overrides: Mapping[str, Any]) -> Pipeline:
        """A copy with more parameter values (checked like the constructor's)."""
        copy = Pipeline(
            self.name,
            list(self.nodes.values()),
            params={**self.params, **overrides},
            spans=self.spans,
        )
        copy.source_file = self.source_file
        return copy

    def descendants(self, node: str) -> list[str]:
        """Nodes that depend on ``node`` in this run, transitively, in run order."""
        seen: set[str] = set()
        stack = [node]
        while stack:
            for d in self.downstream[stack.pop()]:
                if d not in seen:
                    seen.add(d)
                    stack.append(d)
        return [n for n in self.order if n in seen]


def _unique_nodes(components: Iterable[Component]) -> dict[str, Component]:
    nodes: dict[str, Component] = {}
    for comp in components:
        if not isinstance(comp, Component):
            raise InvalidArgumentError(
                f"pipeline step {comp!r} is not a component: decorate the function with @component"
            )
        if comp.name in nodes:
            raise InvalidArgumentError(
                f"two components are named {comp.name!r}: rename one with "
                f"{comp.name}.configure(name='{comp.name}_2')"
            )
        nodes[comp.name] = comp
    if not nodes:
        raise InvalidArgumentError("a pipeline needs at least one component")
    return nodes


def _producers(components: Iterable[Component]) -> dict[str, Producer]:
    found: dict[str, Producer] = {}
    for comp in components:
        for out in comp.outputs.values():
            other = found.get(out.channel)
            if other is not None:
                raise InvalidArgumentError(
                    f"components {other.node!r} and {comp.name!r} both output {out.channel!r}: "
                    f"rename one with {comp.name}.configure(outputs={{{out.key!r}: "
                    f"'{out.channel}_{comp.name}'}})"
                )
            found[out.channel] = Producer(comp.name, out.key)
    return found


def _check_cardinality(comp: Component, spec: InputSpec) -> None:
    if isinstance(spec.resolver, RollingWindow) and not spec.many:
        raise InvalidArgumentError(
            f"component {comp.name!r} input {spec.key!r} reads a rolling window of spans: "
            f"annotate it Inputs[{spec.type_name}] (a list), not Input[{spec.type_name}]"
        )


def _check_latest_type(comp: Component, spec: InputSpec) -> None:
    resolver = spec.resolver
    assert isinstance(resolver, LatestArtifact)
    if resolver.type_name != spec.type_name:
        raise InvalidArgumentError(
            f"component {comp.name!r} input {spec.key!r} is {spec.type_name} but resolves "
            f"latest_artifact({resolver.type_name!r}): make the two types the same"
        )


def _check_condition(comp: Component) -> None:
    if comp.when is None:
        return
    unknown = comp.when.keys() - set(comp.inputs)
    if unknown:
        form = "its parameters" if isinstance(comp.when, CallableCondition) else "prop() keys"
        raise InvalidArgumentError(
            f"component {comp.name!r}: when= reads {sorted(unknown)}, which are not its inputs "
            f"({', '.join(comp.inputs) or 'none'}): fix {form}"
        )


def _topological(nodes: Mapping[str, Component], upstream: Mapping[str, set[str]]) -> list[str]:
    position = {n: i for i, n in enumerate(nodes)}
    remaining = {n: set(ups) for n, ups in upstream.items()}
    order: list[str] = []
    while remaining:
        ready = sorted((n for n, ups in remaining.items() if not ups), key=position.__getitem__)
        if not ready:
            raise InvalidArgumentError(
                f"components form a cycle: {_cycle(remaining)}; break it by reading the earlier "
                "run's output with previous('CHANNEL') instead"
            )
        for n in ready:
            order.append(n)
            del remaining[n]
        for ups in remaining.values():
            ups.difference_update(ready)
    return order


def _cycle(remaining: Mapping[str, set[str]]) -> str:
    start = next(iter(sorted(remaining)))
    path = [start]
    node = start
    while True:
        node = sorted(remaining[node])[0]
        if node in path:
            loop = [*path[path.index(node) :], node]
            return " -> ".join(reversed(loop))
        path.append(node)


def coerce_params(pipeline: Pipeline, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Parameter values given as text (``--param trainer.epochs=5``) converted to the types the
    components declare; unknown names raise the same errors as ``Pipeline(params=...)``."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        node, _, name = key.rpartition(".")
        comps = [pipeline.nodes[node]] if node in pipeline.nodes else list(pipeline.nodes.values())
        specs = [c.params[name] for c in comps if name in c.params]
        if not specs:
            raise InvalidArgumentError(
                f"--param {key}: no component has a parameter {name!r}: write NODE.PARAM or PARAM "
                "with a parameter of the pipeline's components"
            )
        out[key] = _coerce(key, specs[0].annotation, value)
    return out


def _coerce(key: str, annotation: Any, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    target = args[0] if typing.get_origin(annotation) is not None and len(args) == 1 else annotation
    target = typing.get_origin(target) or target
    try:
        if target is bool:
            if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(value)
            return value.lower() in ("true", "1", "yes")
        if target in (int, float, str):
            return target(value)
        if target is Path:
            return Path(value)
        if target in (list, dict):
            parsed = json.loads(value)
            if not isinstance(parsed, target):
                raise ValueError(value)
            return parsed
    except ValueError:
        raise InvalidArgumentError(
            f"--param {key}={value!r}: expected {getattr(target, '__name__', target)}"
        ) from None
    return value
