"""The registry's reads: versions, stages, aliases, references and the audit trail.

Reading never writes: the registry's types are looked up, and created only by the first write
(:class:`graphlets.registry.registry.ModelRegistry`).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from typing import Any

from graphlets.errors import InvalidArgumentError, NotFoundError
from graphlets.model import Execution
from graphlets.model.names import START_TIME_MS
from graphlets.registry import refs
from graphlets.registry.records import (
    CHANGE_EXECUTION_TYPE,
    MODEL_CONTEXT,
    MODEL_CONTEXT_TYPE,
    STAGES,
    TIME_MS,
    VERSION_ARTIFACT_TYPE,
    VERSION_TYPE,
    ModelVersion,
    version_from_artifact,
)
from graphlets.store import MetadataStore


def current_user() -> str:
    """Who a change is attributed to: ``GRAPHLETS_USER``, else the login name."""
    try:
        return os.environ.get("GRAPHLETS_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class RegistryReader:
    """Registered models in one store, read only (:class:`ModelRegistry` adds the writes).

    Args:
        store: the metadata store that holds the registry (the pipeline's own store).
        who: the actor recorded in the audit trail (default :func:`current_user`).
        clock: the time (ms) changes record, e.g. a run's span time; None: MLMD's create time.
    """

    def __init__(
        self,
        store: MetadataStore,
        *,
        who: str | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.store = store
        self.who = who or current_user()
        self.clock = clock
        self._types: tuple[int, int, int] | None = None

    def _type_ids(self, write: bool = False) -> tuple[int, int, int] | None:
        """(version, change, context) type ids; registered on the first write only, so that
        reading a store never writes to it."""
        if self._types is None and write:
            self._types = (
                self.store.put_artifact_type(VERSION_ARTIFACT_TYPE),
                self.store.put_execution_type(CHANGE_EXECUTION_TYPE),
                self.store.put_context_type(MODEL_CONTEXT_TYPE),
            )
        elif self._types is None:
            try:
                self._types = (
                    int(self.store.get_artifact_type(VERSION_TYPE).id or 0),
                    int(self.store.get_execution_type(CHANGE_EXECUTION_TYPE.name).id or 0),
                    int(self.store.get_context_type(MODEL_CONTEXT).id or 0),
                )
            except NotFoundError:
                return None
        return self._types

    # reads --------------------------------------------------------------------------------
    def models(self) -> list[str]:
        """Registered model names."""
        if self._type_ids() is None:
            return []
        return sorted(str(c.name) for c in self.store.get_contexts_by_type(MODEL_CONTEXT))

    def versions(self, name: str) -> list[ModelVersion]:
        """Every version of ``name``, oldest first."""
        types = self._type_ids()
        if types is None:
            return []
        ctx = self.store.get_context_by_type_and_name(MODEL_CONTEXT, name)
        if ctx is None:
            return []
        arts = self.store.get_artifacts_by_context(int(ctx.id or 0))
        found = [version_from_artifact(a) for a in arts if a.type_id == types[0]]
        return sorted(found, key=lambda v: v.version)

    def get(self, name: str, version: int) -> ModelVersion:
        """One version; NotFoundError names the versions that exist."""
        art = None
        if self._type_ids() is not None:
            art = self.store.get_artifact_by_type_and_name(VERSION_TYPE, f"{name}/{version}")
        if art is None:
            known = [v.version for v in self.versions(name)]
            raise NotFoundError(
                f"model {name!r} has no version {version}: its versions are {known or 'none'} "
                "(see `graphlets registry ls`)"
            )
        return version_from_artifact(art)

    def in_stage(self, name: str, stage: str) -> list[ModelVersion]:
        """Versions of ``name`` in ``stage``."""
        check_stage(stage)
        return [v for v in self.versions(name) if v.stage == stage]

    def production(self, name: str) -> ModelVersion | None:
        """The version in production, or None."""
        found = self.in_stage(name, "production")
        return found[-1] if found else None

    def alias(self, name: str, alias: str) -> ModelVersion | None:
        """The version carrying ``alias``, or None."""
        found = [v for v in self.versions(name) if alias in v.aliases]
        return found[-1] if found else None

    def resolve(self, ref: str) -> ModelVersion:
        """``NAME@STAGE``, ``NAME@ALIAS``, ``NAME/VERSION`` (optionally ``models:/...``)."""
        name, kind, value = refs.parse(ref)
        if kind == "version":
            return self.get(name, int(value))
        found = self.in_stage(name, value.lower()) if value.lower() in STAGES else []
        hit = found[-1] if found else self.alias(name, value)
        if hit is None:
            raise NotFoundError(
                f"model reference {ref!r} matches no version: {name!r} has no version in stage "
                f"or with alias {value!r}; see `graphlets registry show {name}`"
            )
        return hit

    def history(self, name: str) -> list[dict[str, Any]]:
        """The audit trail of ``name``, oldest first."""
        types = self._type_ids()
        if types is None:
            return []
        ctx = self.store.get_context_by_type_and_name(MODEL_CONTEXT, name)
        if ctx is None:
            return []
        rows = [
            {"execution": int(e.id or 0), TIME_MS: _recorded_ms(e)} | dict(e.custom_properties)
            for e in self.store.get_executions_by_context(int(ctx.id or 0))
            if e.type_id == types[1]
        ]
        return sorted(rows, key=lambda r: r["execution"])

    def production_history(self, name: str) -> list[int]:
        """Versions in the order they entered production (repeats kept)."""
        return [
            int(r["version"])
            for r in self.history(name)
            if r.get("to_stage") == "production" and "version" in r
        ]

    def find_by_pushed(self, pushed_artifact_id: int) -> ModelVersion | None:
        """The version registered from a PushedModel artifact, if any."""
        if self._type_ids() is None:
            return None
        for a in self.store.get_artifacts_by_type(VERSION_TYPE):
            if a.custom_properties.get("pushed_artifact_id") == pushed_artifact_id:
                return version_from_artifact(a)
        return None


def check_stage(stage: str) -> None:
    """Refuse a stage name the registry does not know."""
    if stage not in STAGES:
        raise InvalidArgumentError(f"stage {stage!r} is unknown: use one of {', '.join(STAGES)}")


def _recorded_ms(e: Execution) -> int:
    """When a change happened: its recorded time (a writer with a clock), else MLMD's."""
    at = e.custom_properties.get(START_TIME_MS)
    return at if isinstance(at, int) else int(e.create_time_since_epoch or 0)
