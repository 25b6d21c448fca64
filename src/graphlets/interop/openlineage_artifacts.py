"""Datasets of one run event -> (artifact, event) pairs for ``put_execution``.

Called inside the event's transaction (:func:`graphlets.interop.openlineage_receive.receive_event`),
so the artifact types it creates vanish with a refused event. A dataset's version is identified by
``uri`` and, when the sender gave one, the standard ``version`` facet (kept as the custom property
``openlineage.version``): two artifacts with the same content (a model and its pushed copy, in a
content-addressed blob store) share a uri but not a version.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from graphlets.errors import NotFoundError
from graphlets.interop.openlineage_event import DatasetIn
from graphlets.interop.openlineage_map import (
    ReceiverConfig,
    artifact_properties,
    artifact_type,
    event_key,
    version,
)
from graphlets.model import (
    Artifact,
    ArtifactBaseType,
    ArtifactState,
    ArtifactType,
    Event,
    EventStep,
    EventType,
    ExecutionState,
    PropertyValue,
)
from graphlets.store import MetadataStore
from graphlets.store.codec import encode_struct

PREFIX = "openlineage."
VERSION = f"{PREFIX}version"
# A struct property is stored base64-encoded in an indexed column (PostgreSQL's btree rows hold
# ~2700 bytes with the property name): larger facets are kept as truncated JSON text.
MAX_STRUCT_CHARS = 1500
TRUNCATED_JSON = 1000
OUTPUT_STATES = {
    ExecutionState.RUNNING: ArtifactState.PENDING,
    ExecutionState.COMPLETE: ArtifactState.LIVE,
    ExecutionState.CACHED: ArtifactState.LIVE,
    ExecutionState.FAILED: ArtifactState.ABANDONED,
    ExecutionState.CANCELED: ArtifactState.ABANDONED,
}
Pairs = list[tuple[Artifact, Event | None]]


@dataclass
class Linker:
    """Resolves the datasets of one event against the store and the run's earlier events."""

    store: MetadataStore
    config: ReceiverConfig
    old: Sequence[Event]
    _types: dict[tuple[str, ArtifactBaseType], int] = field(default_factory=dict)

    def type_id(self, ds: DatasetIn) -> int:
        """The artifact type of ``ds``, created (in this transaction) when missing."""
        key = artifact_type(ds, self.config)
        if key not in self._types:
            name, base = key
            try:
                self._types[key] = int(self.store.get_artifact_type(name).id or 0)
            except NotFoundError:
                new = ArtifactType(name, base_type=base)
                self._types[key] = self.store.put_artifact_type(
                    new, can_add_fields=True, can_omit_fields=True
                )
        return self._types[key]

    def inputs(self, datasets: Sequence[DatasetIn]) -> Pairs:
        """INPUT pairs: the version this run already reads, the one the ``version`` facet names,
        else the newest LIVE or REFERENCE version, else a new REFERENCE artifact."""
        linked = {int(e.artifact_id or 0) for e in self.old if e.type == EventType.INPUT}
        pairs: Pairs = []
        for i, ds in _unique(datasets):
            found = self._find(ds, linked)
            if found is None:
                found = self._new(ds, ArtifactState.REFERENCE)
            is_linked = found.id is not None and found.id in linked
            pairs.append((found, None if is_linked else _event(EventType.INPUT, ds, "inputs", i)))
        return pairs

    def outputs(self, datasets: Sequence[DatasetIn], state: ExecutionState, cached: bool) -> Pairs:
        """Output pairs: a new version per dataset (PENDING, LIVE or ABANDONED with the run), the
        run's own earlier version on a later event; a cache hit links the version it names."""
        mine: dict[int, set[EventType]] = {}
        for e in self.old:
            if e.type != EventType.INPUT:
                mine.setdefault(int(e.artifact_id or 0), set()).add(e.type)
        current = {_identity(a): a for a in self.store.get_artifacts_by_id(sorted(mine))}
        art_state = OUTPUT_STATES.get(state, ArtifactState.PENDING)
        done = state in (ExecutionState.COMPLETE, ExecutionState.CACHED)
        ev_type = EventType.OUTPUT if done else EventType.PENDING_OUTPUT
        pairs: Pairs = []
        for i, ds in _unique(datasets):
            found = current.get((ds.uri, version(ds)))
            if found is None and cached:
                found = self._find(ds, set())
            if found is None:
                art = self._new(ds, art_state)
            elif cached or found.state == ArtifactState.LIVE:
                art = found  # a completed or re-used output is never rewritten
            else:
                merged = {**found.custom_properties, **_dataset_props(ds)}
                art = replace(found, state=art_state, custom_properties=merged)
            seen = mine.get(int(found.id or 0), set()) if found is not None else set()
            already = ev_type in seen or EventType.OUTPUT in seen
            pairs.append((art, None if already else _event(ev_type, ds, "outputs", i)))
        return pairs

    def _find(self, ds: DatasetIn, linked: set[int]) -> Artifact | None:
        type_id = self.type_id(ds)
        versions = self.store.get_artifacts_by_uri(ds.uri)
        wanted = version(ds)
        if wanted is not None:
            named = [a for a in versions if a.custom_properties.get(VERSION) == wanted]
            if named:
                return named[0]
        for a in versions:
            if a.id in linked:
                return a
        usable = [
            a
            for a in versions
            if a.type_id == type_id and a.state in (ArtifactState.LIVE, ArtifactState.REFERENCE)
        ]
        return max(usable, key=lambda a: int(a.id or 0)) if usable else None

    def _new(self, ds: DatasetIn, state: ArtifactState) -> Artifact:
        return Artifact(
            self.type_id(ds), uri=ds.uri, state=state, custom_properties=_dataset_props(ds)
        )


def _unique(datasets: Sequence[DatasetIn]) -> list[tuple[int, DatasetIn]]:
    seen: set[tuple[str, str | None]] = set()
    out = []
    for i, ds in enumerate(datasets):
        key = (ds.uri, version(ds))
        if key not in seen:
            seen.add(key)
            out.append((i, ds))
    return out


def _identity(a: Artifact) -> tuple[str, str | None]:
    v = a.custom_properties.get(VERSION)
    return a.uri or "", v if isinstance(v, str) else None


def _event(kind: EventType, ds: DatasetIn, default_key: str, i: int) -> Event:
    key = event_key(ds, default_key)
    index = ds.facets.get("graphletsEvent", {}).get("index")
    step = index if isinstance(index, int) and not isinstance(index, bool) else i
    return Event(type=kind, path=(EventStep(key=key), EventStep(index=max(0, min(step, 2**31)))))


def _dataset_props(ds: DatasetIn) -> dict[str, PropertyValue]:
    props: dict[str, PropertyValue] = {
        f"{PREFIX}namespace": ds.namespace,
        f"{PREFIX}name": ds.name,
    }
    v = version(ds)
    if v is not None:
        props[VERSION] = v
    for name, facet in ds.facets.items():
        props[f"{PREFIX}dataset.{name}"] = storable(facet)
    props.update(artifact_properties(ds))
    return props


def storable(facet: dict[str, Any]) -> dict[str, Any]:
    """``facet`` itself when its stored form fits the index, else its JSON text, truncated."""
    if len(encode_struct(facet)) <= MAX_STRUCT_CHARS:
        return facet
    text = json.dumps(facet, sort_keys=True)  # ASCII: escapes keep every character
    return {"truncated": True, "json": text[:TRUNCATED_JSON]}
