"""The content cache: reuse a step's outputs when nothing that determines them changed.

The cache key is the sha256 of: the component name, its code fingerprint (see
:mod:`graphlets.pipeline.fingerprint`), its parameter values (``Path`` values by file content) and
the content fingerprints of its input artifacts, by input key and position. It is stored on every
execution as the custom property ``cache_key``.

A lookup is one query on MLMD's index ``idx_execution_property_string`` (``name``,
``is_custom_property``, ``string_value``) joined to the execution by primary key, so its cost does
not grow with the number of runs. A hit is the newest COMPLETE execution with that key (within the
max age), whose outputs are all still LIVE and whose payloads are still in the blob store.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Select, and_, or_, select

from graphlets.model import Artifact, ArtifactState, EventType, ExecutionState, PropertyValue
from graphlets.pipeline.record import (
    CACHE_KEY,
    CONTENT_SHA256,
    METRIC,
    PARAM,
    artifact_fingerprint,
    hash_json,
)
from graphlets.store import MetadataStore
from graphlets.store import schema as s
from graphlets.store.blobs import BlobStore, file_digest
from graphlets.store.codec import decode_value


@dataclass(frozen=True)
class CacheHit:
    """The execution whose outputs are reused, and those outputs by output key."""

    execution_id: int
    outputs: Mapping[str, list[Artifact]]
    logged: Mapping[str, PropertyValue]  # the original's logged params and metrics


def param_fingerprint(value: Any) -> Any:
    """A JSON value standing for a parameter value in the cache key."""
    if isinstance(value, Path):
        return {"path": str(value), "content": path_digest(value)}
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): param_fingerprint(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [param_fingerprint(v) for v in value]
    return value


def path_digest(path: Path) -> str | None:
    """Content digest of a file, or of a folder's files (names and contents); None if missing."""
    if path.is_file():
        return file_digest(path)[0]
    if path.is_dir():
        entries = []
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                full = Path(root) / name
                entries.append([str(full.relative_to(path)), file_digest(full)[0]])
        return hash_json(entries)
    return None


def cache_key(
    component: str,
    code_fingerprint: str,
    params: Mapping[str, Any],
    inputs: Mapping[str, Sequence[Artifact]],
) -> str:
    """The cache key of one step (see the module docstring)."""
    return hash_json(
        {
            "component": component,
            "code": code_fingerprint,
            "params": {k: param_fingerprint(v) for k, v in sorted(params.items())},
            "inputs": input_fingerprints(inputs),
        }
    )


def input_fingerprints(inputs: Mapping[str, Sequence[Artifact]]) -> dict[str, list[str]]:
    """Input key -> the content fingerprints of its artifacts, in order."""
    return {k: [artifact_fingerprint(a) for a in arts] for k, arts in sorted(inputs.items())}


def input_digests(inputs: Mapping[str, Sequence[Artifact]]) -> dict[str, str]:
    """Input key -> one digest of its artifacts' fingerprints (what ``runs diff`` compares; one
    short value per key however long a window is)."""
    return {
        k: fps[0] if len(fps) == 1 else hash_json(fps)
        for k, fps in input_fingerprints(inputs).items()
    }


def lookup_statement(key: str, max_age_s: float | None, now_ms: int) -> Select[Any]:
    """The lookup query: newest COMPLETE executions whose ``cache_key`` is ``key``.

    It starts from ``idx_execution_property_string`` (name, is_custom_property, string_value) and
    joins the execution by primary key, so it reads a handful of index entries however many
    runs the store holds.
    """
    ep, ex = s.execution_property, s.execution
    stmt = (
        select(ex.c.id)
        .select_from(ep)
        .join(ex, ex.c.id == ep.c.execution_id)
        .where(
            and_(
                ep.c.name == CACHE_KEY,
                ep.c.is_custom_property == True,  # noqa: E712 (SQL, not Python)
                ep.c.string_value == key,
                ex.c.last_known_state == int(ExecutionState.COMPLETE),
            )
        )
        .order_by(ex.c.id.desc())
        .limit(3)
    )
    if max_age_s is not None:
        stmt = stmt.where(ex.c.create_time_since_epoch >= now_ms - int(max_age_s * 1000))
    return stmt


def lookup(
    store: MetadataStore,
    key: str,
    *,
    max_age_s: float | None = None,
    now_ms: int,
    blobs: BlobStore | None = None,
) -> CacheHit | None:
    """The newest usable COMPLETE execution with ``key``, or None.

    One read transaction finds the candidates, their OUTPUT events and their logged values; a
    second hydrates the output artifacts of the first usable one.
    """
    stmt = lookup_statement(key, max_age_s, now_ms)
    with store.engine.connect() as conn, conn.begin():
        candidates = [int(x) for x in conn.execute(stmt).scalars()]
        if not candidates:
            return None
        outputs = _output_rows(conn, candidates)
        logged = _logged_values(conn, candidates)
    for exec_id in candidates:
        hit = _usable(store, exec_id, outputs.get(exec_id, []), blobs)
        if hit is not None:
            return CacheHit(exec_id, hit, logged.get(exec_id, {}))
    return None


def _output_rows(conn: Connection, exec_ids: list[int]) -> dict[int, list[tuple[int, str, int]]]:
    """execution id -> (artifact id, key, index) of its OUTPUT events (TFX paths: key, index)."""
    ev, ep = s.event, s.event_path
    stmt = (
        select(
            ev.c.execution_id, ev.c.artifact_id, ep.c.is_index_step, ep.c.step_key, ep.c.step_index
        )
        .select_from(ev)
        .outerjoin(ep, ep.c.event_id == ev.c.id)
        .where(ev.c.execution_id.in_(exec_ids), ev.c.type == int(EventType.OUTPUT))
        .order_by(ev.c.id)
    )
    paths: dict[tuple[int, int], list[Any]] = {}
    for r in conn.execute(stmt):
        step = paths.setdefault((int(r.execution_id), int(r.artifact_id)), ["", 0])
        if r.is_index_step:
            step[1] = int(r.step_index or 0)
        elif r.step_key is not None:
            step[0] = str(r.step_key)
    out: dict[int, list[tuple[int, str, int]]] = {}
    for (exec_id, art_id), (k, i) in paths.items():
        out.setdefault(exec_id, []).append((art_id, k, i))
    return out


def _logged_values(conn: Connection, exec_ids: list[int]) -> dict[int, dict[str, PropertyValue]]:
    """The ``param.*`` and ``metric.*`` custom properties of the candidates."""
    ep = s.execution_property
    stmt = select(ep).where(
        ep.c.execution_id.in_(exec_ids),
        ep.c.is_custom_property == True,  # noqa: E712
        or_(
            ep.c.name.like(PARAM + "%"),
            ep.c.name.like(METRIC + "%"),
        ),
    )
    out: dict[int, dict[str, PropertyValue]] = {}
    for row in conn.execute(stmt).mappings():
        out.setdefault(int(row["execution_id"]), {})[str(row["name"])] = decode_value(dict(row))
    return out


def _usable(
    store: MetadataStore, exec_id: int, rows: list[tuple[int, str, int]], blobs: BlobStore | None
) -> dict[str, list[Artifact]] | None:
    """The execution's outputs by key, if every one is LIVE with its payload present."""
    if not rows:
        return None
    arts = {a.id: a for a in store.get_artifacts_by_id([a for a, _, _ in rows])}
    outputs: dict[str, list[tuple[int, Artifact]]] = {}
    for art_id, key, index in rows:
        a = arts.get(art_id)
        if a is None or a.state != ArtifactState.LIVE or not key:
            return None
        digest = a.custom_properties.get(CONTENT_SHA256)
        if blobs is not None and isinstance(digest, str) and not blobs.exists(digest):
            return None
        outputs.setdefault(key, []).append((index, a))
    return {k: [a for _, a in sorted(v, key=lambda p: p[0])] for k, v in outputs.items()}
