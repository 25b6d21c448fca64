"""pluggy hook specifications: how other layers act on the runner without the runner importing them.

The runner (``graphlets.pipeline``) calls these hooks; implementations live above it and are
registered by :mod:`graphlets.plugins` (default plugins and the ``graphlets`` entry-point group).
The pruning gate of the optimizer answers :func:`should_skip_execution`; OpenLineage emission
listens to :func:`after_execution`. Arguments are passed by keyword, so an implementation may accept
any subset.

Argument types: ``store`` is a :class:`graphlets.store.MetadataStore`; ``pipeline`` is a
``graphlets.pipeline.Pipeline`` and ``node`` a ``graphlets.pipeline.Node`` (named ``Any`` here
because this module sits below the pipeline layer); ``run_context`` and ``execution`` are model
records; ``inputs`` maps an input key to the list of artifacts resolved for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pluggy

from graphlets.model import Artifact, Context, Execution, ExecutionType
from graphlets.store import MetadataStore

PROJECT = "graphlets"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Inputs = Mapping[str, Sequence[Artifact]]


@dataclass(frozen=True)
class SkipDecision:
    """A plugin's decision to skip a node: recorded as ``skip_reason`` on a CANCELED execution.

    Attributes:
        reason: one line a user reads in ``graphlets runs show`` (e.g. "predicted not pushed").
        details: JSON-like facts behind the decision, stored as the ``skip_details`` struct.
    """

    reason: str
    details: dict[str, Any] = field(default_factory=dict)


@hookspec(firstresult=True)
def should_skip_execution(
    store: MetadataStore,
    pipeline: Any,
    run_context: Context,
    node: Any,
    execution_type: ExecutionType,
    inputs: Inputs,
) -> SkipDecision | None:
    """Decide, once a node's inputs are resolved and before it runs, whether to skip it.

    The first non-None answer wins. A skip records the node CANCELED with ``skip_reason`` and its
    dependants CANCELED with "upstream skipped"; the run still ends COMPLETE.
    """


@hookspec
def before_run(store: MetadataStore, pipeline: Any, run_context: Context) -> None:
    """A pipeline run starts (its ``pipeline_run`` context exists)."""


@hookspec
def after_run(store: MetadataStore, pipeline: Any, run_context: Context, state: str) -> None:
    """A pipeline run ended; ``state`` is ``COMPLETE`` or ``FAILED``."""


@hookspec
def before_execution(
    store: MetadataStore,
    pipeline: Any,
    run_context: Context,
    node: Any,
    execution: Execution,
    inputs: Inputs,
) -> None:
    """A node's execution was recorded RUNNING and is about to be handed to the executor."""


@hookspec
def after_execution(
    store: MetadataStore,
    pipeline: Any,
    run_context: Context,
    node: Any,
    execution: Execution,
    inputs: Inputs,
    outputs: Inputs,
) -> None:
    """A node's execution was recorded COMPLETE, CACHED or CANCELED, with its outputs."""


@hookspec
def on_execution_failure(
    store: MetadataStore,
    pipeline: Any,
    run_context: Context,
    node: Any,
    execution: Execution,
    error: str,
) -> None:
    """A node's execution was recorded FAILED; ``error`` is the one-line error text."""
