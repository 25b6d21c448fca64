"""What a runner shares across the runs it makes: store, blobs, executor, hooks, options."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pluggy

from graphlets import hookspecs
from graphlets.model import Artifact, Context, ExecutionState
from graphlets.pipeline.clock import Clock, WallClock
from graphlets.pipeline.dag import Pipeline
from graphlets.pipeline.executors import Executor
from graphlets.pipeline.lease import DEFAULT_TTL_S, Lease
from graphlets.pipeline.record import TypeIds
from graphlets.store import MetadataStore
from graphlets.store.blobs import BlobStore


@dataclass(frozen=True)
class RunOptions:
    """Per-run switches.

    Attributes:
        no_cache: run every step (``--no-cache``); executions still record their cache key.
        no_cache_for: nodes that always run (``--no-cache-for NODE``).
        cache_max_age_s: reuse only executions younger than this (``--cache-max-age``); a
            component's own ``cache_max_age`` applies too, the smaller wins.
        lease_ttl_s: how long a dead runner's lease blocks the pipeline.
    """

    no_cache: bool = False
    no_cache_for: frozenset[str] = frozenset()
    cache_max_age_s: float | None = None
    lease_ttl_s: float = DEFAULT_TTL_S

    def to_dict(self) -> dict[str, Any]:
        """For the run context (so ``resume`` reuses them)."""
        return {
            "no_cache": self.no_cache,
            "no_cache_for": sorted(self.no_cache_for),
            "cache_max_age_s": self.cache_max_age_s,
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], lease_ttl_s: float = DEFAULT_TTL_S) -> RunOptions:
        """Inverse of :meth:`to_dict`."""
        age = doc.get("cache_max_age_s")
        return cls(
            no_cache=bool(doc.get("no_cache", False)),
            no_cache_for=frozenset(doc.get("no_cache_for") or ()),
            cache_max_age_s=None if age is None else float(age),
            lease_ttl_s=lease_ttl_s,
        )


@dataclass
class NodeOutcome:
    """How one node ended in a run. ``state`` None = not run (an upstream step failed)."""

    node: str
    state: ExecutionState | None
    execution_id: int | None = None
    outputs: dict[str, list[Artifact]] = field(default_factory=dict)
    error: str | None = None
    skip_reason: str | None = None
    cached_from: int | None = None

    @property
    def done(self) -> bool:
        """Finished one way or another (dependants may be decided)."""
        return self.state in (
            ExecutionState.COMPLETE,
            ExecutionState.CACHED,
            ExecutionState.CANCELED,
            ExecutionState.FAILED,
        ) or (self.state is None and self.error is not None)

    @property
    def succeeded(self) -> bool:
        """COMPLETE or CACHED: its outputs exist."""
        return self.state in (ExecutionState.COMPLETE, ExecutionState.CACHED)


Progress = Callable[[str, dict[str, Any]], None]


def plain_hooks() -> pluggy.PluginManager:
    """A plugin manager with the hook specs and no plugins (when the caller passes none)."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


@dataclass
class Session:
    """A runner's shared state for one pipeline."""

    store: MetadataStore
    pipeline: Pipeline
    blobs: BlobStore
    executor: Executor
    hooks: pluggy.PluginManager
    options: RunOptions
    types: TypeIds
    lease: Lease
    progress: Progress
    env_sha: str
    environment: dict[str, Any]
    pipeline_context: Context
    node_contexts: dict[str, Context]
    fingerprints: dict[str, str] = field(default_factory=dict)
    clock: Clock = field(default_factory=WallClock)

    def code_fingerprint(self, node: str) -> str:
        """The node's code fingerprint, computed once per session."""
        if node not in self.fingerprints:
            self.fingerprints[node] = self.pipeline.nodes[node].code_fingerprint
        return self.fingerprints[node]
