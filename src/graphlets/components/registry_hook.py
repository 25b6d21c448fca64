"""A runner plugin that registers every pushed model in the model registry.

The runner calls ``after_execution`` in its own process after an execution is recorded; for a
``PushedModel`` output with ``pushed`` = 1 and ``registered_model`` set, this registers a new
version (in ``staging``; idempotent for a cached push) and adds ``registry_version`` to the
PushedModel. Use it as a module plugin: ``GRAPHLETS_PLUGINS=graphlets.components.registry_hook``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from graphlets.hookspecs import hookimpl
from graphlets.model import Artifact, Context, Execution
from graphlets.pipeline.record import END_TIME_MS
from graphlets.registry import ModelRegistry
from graphlets.store import MetadataStore


@hookimpl
def after_execution(
    store: MetadataStore,
    pipeline: Any,
    run_context: Context,
    node: Any,
    execution: Execution,
    inputs: Mapping[str, Sequence[Artifact]],
    outputs: Mapping[str, Sequence[Artifact]],
) -> None:
    """Register the pushed models among ``outputs``."""
    models = list(inputs.get("model") or ())
    for arts in outputs.values():
        for art in arts:
            name = art.custom_properties.get("registered_model")
            if models and isinstance(name, str) and art.custom_properties.get("pushed") == 1:
                at = execution.custom_properties.get(END_TIME_MS)
                at_ms = at if isinstance(at, int) else None
                register_push(store, name, models[0], art, str(run_context.name), at_ms)


def register_push(
    store: MetadataStore,
    name: str,
    model: Artifact,
    pushed: Artifact,
    run: str,
    at_ms: int | None = None,
) -> int:
    """Register ``pushed`` (a PushedModel of ``model``); returns the registry version. ``at_ms``
    is the push's recorded time (the runner's clock), which the registry change records."""
    registry = ModelRegistry(store, who="pusher", clock=None if at_ms is None else lambda: at_ms)
    c = pushed.custom_properties
    version = registry.register(
        name,
        model,
        pushed=pushed,
        signature=_json(c.get("signature")),
        metrics=_json(c.get("metrics")),
        tags={"run": run, "span": str(pushed.properties.get("span", c.get("span", "")))},
        description=f"pushed by {run}",
        why="blessed by the evaluator and pushed",
    )
    if c.get("registry_version") != version.version:
        [fresh] = store.get_artifacts_by_id([int(pushed.id or 0)])
        props = {**fresh.custom_properties, "registry_version": version.version}
        store.put_artifacts([dataclasses.replace(fresh, custom_properties=props)])
    return version.version


def _json(raw: Any) -> dict[str, Any]:
    return json.loads(raw) if isinstance(raw, str) and raw else {}
