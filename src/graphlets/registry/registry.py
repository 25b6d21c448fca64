"""The model registry: versions from pushes, stages, aliases, fallback and rollback, all audited.

Every change is one ``RegistryChange`` execution written in the same transaction as the state it
changes (see :mod:`graphlets.registry.records`), so the audit trail and the state never disagree.
Every write (register, transition/promote, rollback, alias, update, record) reads the state,
decides and writes inside one transaction that holds the model's lock
(:func:`graphlets.store.locks.run_locked`: SQLite ``BEGIN IMMEDIATE``, PostgreSQL an advisory
lock keyed by the model name), so concurrent writers of one model take turns: the second one
waits and applies its change to the state the first one left, never to a stale read.

Stages: ``staging`` (new pushes), ``shadow``, ``canary``, ``production`` (one version each) and
``archived``. Promoting a version to production archives the previous one and gives it the alias
``fallback``; :meth:`ModelRegistry.rollback` puts the fallback back in production.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from graphlets.errors import ConflictError, InvalidArgumentError
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
from graphlets.registry.reads import RegistryReader, check_stage
from graphlets.registry.records import (
    FALLBACK,
    SINGLE_SLOT,
    ModelVersion,
    version_properties,
)
from graphlets.store.locks import run_locked

R = TypeVar("R")


class ModelRegistry(RegistryReader):
    """Registered models in one store, with the writes; every write is one transaction that
    holds the model's lock and writes the change with its audit record."""

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

        def tx() -> ModelVersion:
            if pushed is not None and (done := self.find_by_pushed(int(pushed.id or 0))):
                return done
            number = max((x.version for x in self.versions(name)), default=0) + 1
            return self._register(dataclasses.replace(v, version=number), model, pushed, why)

        return self._locked(name, tx)

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

    def transition(
        self, name: str, version: int, stage: str, *, why: str = "", **extra: Any
    ) -> ModelVersion:
        """Move a version to ``stage``; a single-slot stage's previous occupant is archived (the
        previous production version becomes the ``fallback``). Serialised per model: a
        concurrent writer waits and then applies its change to this one's result."""
        check_stage(stage)
        return self._locked(name, lambda: self._transition(name, version, stage, why, extra))

    def _transition(
        self, name: str, version: int, stage: str, why: str, extra: Mapping[str, Any]
    ) -> ModelVersion:
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

    def rollback(
        self, name: str, *, why: str = "", from_version: int | None = None
    ) -> ModelVersion:
        """Archive the production version and put the fallback back in production.

        The new fallback is the previous good version (:func:`~graphlets.registry.fallback.
        next_fallback`): repeated rollbacks walk back v3 -> v2 -> v1 and then stop, never
        cycling back to a version that was itself rolled back away from. With ``from_version``
        the rollback happens only if that version is still in production (ConflictError
        otherwise), so two people rolling back the same bad version roll back once, not twice.
        """
        return self._locked(name, lambda: self._rollback(name, why, from_version))

    def _rollback(self, name: str, why: str, from_version: int | None) -> ModelVersion:
        current = self.production(name)
        if from_version is not None and (current is None or current.version != from_version):
            raise ConflictError(
                f"model {name!r} was not rolled back: version {from_version} is no longer in "
                f"production (production is {current.version if current else 'empty'}, changed "
                f"by another writer); see `graphlets registry show {name}` and retry"
            )
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
            "fallback": new_fallback,
            "why": why,
        }
        self._apply(name, change, updates)
        return self.get(name, fallback.version)

    def set_alias(self, name: str, alias: str, version: int, *, why: str = "") -> ModelVersion:
        """Point ``alias`` at ``version`` (moving it from any other version)."""
        refs.check_alias(alias)

        def tx() -> ModelVersion:
            updates: dict[int, ModelVersion] = {}
            self._move_alias(name, alias, self.get(name, version), updates)
            change = {"action": "alias", "version": version, "alias": alias, "why": why}
            self._apply(name, change, updates)
            return self.get(name, version)

        return self._locked(name, tx)

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

        def tx() -> ModelVersion:
            v = self.get(name, version)
            new = dataclasses.replace(
                v,
                tags={**v.tags, **dict(tags or {})},
                description=v.description if description is None else description,
            )
            change = {"action": "update", "version": version, "why": why}
            self._apply(name, change, {version: new})
            return self.get(name, version)

        return self._locked(name, tx)

    def record(self, name: str, version: int, action: str, *, why: str = "", **extra: Any) -> None:
        """Record an event about a version without changing it (rollout gains, gc, ...)."""

        def tx() -> None:
            v = self.get(name, version)
            change = {"action": action, "version": version, "why": why, **extra}
            self._apply(name, change, {version: v})

        self._locked(name, tx)

    # internals ----------------------------------------------------------------------------
    def _locked(self, name: str, fn: Callable[[], R]) -> R:
        """Run ``fn`` (reads, decision, the change and its audit record) as one transaction
        that holds the model's lock (:func:`graphlets.store.locks.run_locked`).

        The registry's types are created first, in their own transactions, so the locked
        transaction creates no types and a retried one leaves no stale type ids behind.
        """
        self._type_ids(write=True)
        return run_locked(self.store, f"registry:{name}", fn)

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


def _prop(value: Any) -> Any:
    if isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _event(kind: EventType, key: str) -> Event:
    return Event(type=kind, path=(EventStep(key=key),))


def _without(aliases: Sequence[str], alias: str) -> tuple[str, ...]:
    return tuple(a for a in aliases if a != alias)
