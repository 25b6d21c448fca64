"""The model registry: versions from pushes, stages, aliases, fallback and rollback, all audited.

Every change is one ``RegistryChange`` execution written in the same transaction as the state it
changes (see :mod:`graphlets.registry.records`), so the audit trail and the state never disagree.

Stages: ``staging`` (new pushes), ``shadow``, ``canary``, ``production`` (one version each) and
``archived``. Promoting a version to production archives the previous one and gives it the alias
``fallback``; :meth:`ModelRegistry.rollback` puts the fallback back in production.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from graphlets.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from graphlets.model import (
    Artifact,
    ArtifactState,
    Context,
    Event,
    EventStep,
    EventType,
    Execution,
    ExecutionState,
)
from graphlets.model.names import END_TIME_MS, START_TIME_MS
from graphlets.registry import refs
from graphlets.registry.fallback import next_fallback
from graphlets.registry.records import (
    CHANGE_EXECUTION_TYPE,
    FALLBACK,
    MODEL_CONTEXT,
    MODEL_CONTEXT_TYPE,
    SINGLE_SLOT,
    STAGES,
    TIME_MS,
    VERSION_ARTIFACT_TYPE,
    VERSION_TYPE,
    ModelVersion,
    version_from_artifact,
    version_properties,
)
from graphlets.store import MetadataStore

_REGISTER_ATTEMPTS = 50  # concurrent registrations of one model retry on a version-number clash


def current_user() -> str:
    """Who a change is attributed to: ``GRAPHLETS_USER``, else the login name."""
    try:
        return os.environ.get("GRAPHLETS_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class ModelRegistry:
    """Registered models in one store.

    Args:
        store: the metadata store that holds the registry (the pipeline's own store).
        who: the actor recorded in the audit trail (default :func:`current_user`).
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
        self.clock = clock  # the time changes record (ms); None: MLMD's create time
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
        _check_stage(stage)
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

    # writes -------------------------------------------------------------------------------
    def register(
        self,
        name: str,
        model: Artifact,
        *,
        pushed: Artifact | None = None,
        signature: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        description: str = "",
        metrics: Mapping[str, float] | None = None,
        why: str = "registered",
    ) -> ModelVersion:
        """A new version (in ``staging``) of ``name`` pointing at the Model artifact ``model``."""
        refs.check_name(name)
        sha = model.custom_properties.get("content_sha256") or model.properties.get(
            "content_sha256"
        )
        v = ModelVersion(
            name,
            0,
            "staging",
            0,
            int(model.id or 0),
            model.uri,
            str(sha) if sha else None,
            tags=dict(tags or {}),
            description=description,
            signature=dict(signature or {}),
            pushed_artifact_id=int(pushed.id) if pushed is not None and pushed.id else None,
            metrics=dict(metrics or {}),
        )
        for attempt in range(_REGISTER_ATTEMPTS):
            if pushed is not None:
                done = self.find_by_pushed(int(pushed.id or 0))
                if done is not None:
                    return done
            number = max((x.version for x in self.versions(name)), default=0) + 1
            try:
                return self._register(dataclasses.replace(v, version=number), model, pushed, why)
            except AlreadyExistsError:
                # another writer took ``number`` between our read and our write (two pipelines
                # pushing at once): read again and take the next one
                if attempt + 1 == _REGISTER_ATTEMPTS or not self._exists(name, number):
                    raise
                time.sleep(random.uniform(0.0, 0.01 * (attempt + 1)))
        raise AssertionError("unreachable")  # pragma: no cover

    def _register(
        self, v: ModelVersion, model: Artifact, pushed: Artifact | None, why: str
    ) -> ModelVersion:
        """Write version ``v`` (its number already chosen) and its ``register`` change."""
        types = self._type_ids(write=True)
        assert types is not None
        art = Artifact(
            types[0],
            name=v.ref,
            uri=model.uri,
            state=ArtifactState.LIVE,
            properties={"version": v.version, "model_name": v.name},
            custom_properties=version_properties(v),
        )
        source = pushed if pushed is not None else model
        key = "pushed_model" if pushed is not None else "model"
        pairs = [(source, _event(EventType.INPUT, key)), (art, _event(EventType.OUTPUT, "version"))]
        change = {"action": "register", "version": v.version, "to_stage": "staging", "why": why}
        _, ids, _ = self._write(v.name, change, pairs)
        return dataclasses.replace(v, artifact_id=ids[1])

    def _exists(self, name: str, version: int) -> bool:
        """True when version ``version`` of ``name`` is registered."""
        return (
            self.store.get_artifact_by_type_and_name(VERSION_TYPE, f"{name}/{version}") is not None
        )

    def transition(
        self, name: str, version: int, stage: str, *, why: str = "", **extra: Any
    ) -> ModelVersion:
        """Move a version to ``stage``; a single-slot stage's previous occupant is archived (the
        previous production version becomes the ``fallback``)."""
        _check_stage(stage)
        v = self.get(name, version)
        updates: dict[int, ModelVersion] = {v.version: dataclasses.replace(v, stage=stage)}
        if stage in SINGLE_SLOT:
            for old in self.in_stage(name, stage):
                if old.version != v.version:
                    updates[old.version] = dataclasses.replace(old, stage="archived")
                    if stage == "production":
                        self._move_alias(name, FALLBACK, old, updates)
        change = {
            "action": "transition",
            "version": version,
            "from_stage": v.stage,
            "to_stage": stage,
            "why": why,
            **extra,
        }
        self._apply(name, change, updates)
        return self.get(name, version)

    def promote(self, name: str, version: int, *, why: str = "", **extra: Any) -> ModelVersion:
        """Put ``version`` in production."""
        return self.transition(name, version, "production", why=why, **extra)

    def rollback(self, name: str, *, why: str = "") -> ModelVersion:
        """Archive the production version and put the fallback back in production.

        The new fallback is the previous good version (:func:`~graphlets.registry.fallback.
        next_fallback`): repeated rollbacks walk back v3 -> v2 -> v1 and then stop, never
        cycling back to a version that was itself rolled back away from.
        """
        current = self.production(name)
        fallback = self.alias(name, FALLBACK)
        if current is None or fallback is None or fallback.version == current.version:
            raise InvalidArgumentError(
                f"model {name!r} cannot roll back: it needs a production version and a different "
                f"fallback (production={current.version if current else None}, "
                f"fallback={fallback.version if fallback else None}); promote a version instead"
            )
        updates = {
            current.version: dataclasses.replace(
                current, stage="archived", tags={**current.tags, "rolled_back": "true"}
            ),
            fallback.version: dataclasses.replace(
                fallback, stage="production", aliases=_without(fallback.aliases, FALLBACK)
            ),
        }
        new_fallback = next_fallback(
            self.history(name), current.version, fallback.version, self._alive_versions(name)
        )
        if new_fallback is not None:
            self._move_alias(name, FALLBACK, self.get(name, new_fallback), updates)
        change = {
            "action": "rollback",
            "version": fallback.version,
            "from_version": current.version,
            "from_stage": "production",
            "to_stage": "production",
            "why": why,
        }
        self._apply(name, change, updates)
        return self.get(name, fallback.version)

    def set_alias(self, name: str, alias: str, version: int, *, why: str = "") -> ModelVersion:
        """Point ``alias`` at ``version`` (moving it from any other version)."""
        refs.check_alias(alias)
        updates: dict[int, ModelVersion] = {}
        self._move_alias(name, alias, self.get(name, version), updates)
        self._apply(
            name, {"action": "alias", "version": version, "alias": alias, "why": why}, updates
        )
        return self.get(name, version)

    def update(
        self,
        name: str,
        version: int,
        *,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
        why: str = "",
    ) -> ModelVersion:
        """Add tags and/or replace the description."""
        v = self.get(name, version)
        new = dataclasses.replace(
            v,
            tags={**v.tags, **dict(tags or {})},
            description=v.description if description is None else description,
        )
        self._apply(name, {"action": "update", "version": version, "why": why}, {version: new})
        return self.get(name, version)

    def record(self, name: str, version: int, action: str, *, why: str = "", **extra: Any) -> None:
        """Record an event about a version without changing it (rollout gains, gc, ...)."""
        v = self.get(name, version)
        self._apply(name, {"action": action, "version": version, "why": why, **extra}, {version: v})

    # internals ----------------------------------------------------------------------------
    def _alive_versions(self, name: str) -> set[int]:
        """Versions whose Model artifact is still LIVE (gc marks collected ones DELETED)."""
        versions = {v.model_artifact_id: v.version for v in self.versions(name)}
        ids = [i for i in versions if i is not None]
        live = self.store.get_artifacts_by_id(ids) if ids else []
        return {versions[a.id] for a in live if a.state == ArtifactState.LIVE}

    def _move_alias(
        self, name: str, alias: str, target: ModelVersion, updates: dict[int, ModelVersion]
    ) -> None:
        for other in self.versions(name):
            cur = updates.get(other.version, other)
            if alias in cur.aliases and other.version != target.version:
                updates[other.version] = dataclasses.replace(
                    cur, aliases=_without(cur.aliases, alias)
                )
        cur = updates.get(target.version, target)
        if alias not in cur.aliases:
            updates[target.version] = dataclasses.replace(cur, aliases=(*cur.aliases, alias))

    def _apply(
        self, name: str, change: dict[str, Any], updates: Mapping[int, ModelVersion]
    ) -> None:
        arts = self.store.get_artifacts_by_id([v.artifact_id for v in updates.values()])
        by_id = {int(a.id or 0): a for a in arts}
        pairs = []
        for v in updates.values():
            a = by_id[v.artifact_id]
            pairs.append(
                (
                    dataclasses.replace(a, custom_properties=version_properties(v)),
                    _event(EventType.INPUT, "version"),
                )
            )
        self._write(name, change, pairs)

    def _write(
        self, name: str, change: dict[str, Any], pairs: Sequence[tuple[Artifact, Event]]
    ) -> tuple[int, list[int], list[int]]:
        props = {k: _prop(v) for k, v in change.items() if v is not None}
        props["who"] = self.who
        if self.clock is not None:
            props[START_TIME_MS] = props[END_TIME_MS] = self.clock()
        types = self._type_ids(write=True)
        assert types is not None
        ex = Execution(types[1], last_known_state=ExecutionState.COMPLETE, custom_properties=props)
        ctx = Context(types[2], name=name)
        return self.store.put_execution(ex, pairs, [ctx], reuse_context_if_already_exist=True)


def _recorded_ms(e: Execution) -> int:
    """When a change happened: its recorded time (a writer with a clock), else MLMD's."""
    at = e.custom_properties.get(START_TIME_MS)
    return at if isinstance(at, int) else int(e.create_time_since_epoch or 0)


def _prop(value: Any) -> Any:
    if isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _event(kind: EventType, key: str) -> Event:
    return Event(type=kind, path=(EventStep(key=key),))


def _without(aliases: Sequence[str], alias: str) -> tuple[str, ...]:
    return tuple(a for a in aliases if a != alias)


def _check_stage(stage: str) -> None:
    if stage not in STAGES:
        raise InvalidArgumentError(f"stage {stage!r} is unknown: use one of {', '.join(STAGES)}")
