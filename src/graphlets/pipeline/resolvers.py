"""Input resolvers: which artifacts a component input receives.

A resolver is a small object with ``resolve(rc) -> list[Artifact]``; pass one per input with
``@component(inputs={"examples": rolling_window(7)})``. Built in:

- :func:`this_run` (the default): what the producer of the channel wrote in this run.
- :func:`latest_span`: the producer's output with the newest span up to the current one.
- :func:`rolling_window`: the producer's outputs of the last K spans up to the current one.
- :func:`previous`: the producer's newest output from an earlier span (warm start from the last
  model); it may name the component's own output, which is not a cycle.
- :func:`latest_artifact`: the newest LIVE artifact of a type in this pipeline whose properties
  match (e.g. the last blessed model), never one written by the current run.

Write your own by subclassing :class:`Resolver`. Queries go through the store's indexes: from the
producer's ``node`` context through Association, Event (OUTPUT, with the channel's key) to LIVE
artifacts, so they cost the producer's history, not the store's size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy import Select, and_, exists, or_, select

from graphlets.errors import InvalidArgumentError
from graphlets.model import Artifact, ArtifactState, EventType, PropertyValue
from graphlets.store import MetadataStore
from graphlets.store import schema as s


@dataclass(frozen=True)
class ResolveContext:
    """What a resolver may look at."""

    store: MetadataStore
    pipeline_context_id: int
    span: int | None
    type_id: int
    producer_context_id: int | None = None
    output_key: str | None = None
    this_run: tuple[Artifact, ...] = ()
    produced_this_run: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Resolver:
    """Base class. ``edge``: the producer must finish first in this run; ``channel``: which output
    to read (None = the input's own name); ``needs_producer``: the channel must have a producer."""

    channel: str | None = None
    edge: ClassVar[bool] = True
    needs_producer: ClassVar[bool] = True

    def resolve(self, rc: ResolveContext) -> list[Artifact]:
        """The artifacts for the input, in the order the component receives them."""
        raise NotImplementedError

    def describe(self) -> str:
        """One line for errors and ``runs show``."""
        return type(self).__name__


@dataclass(frozen=True)
class ThisRun(Resolver):
    """The producer's output in this run."""

    def resolve(self, rc: ResolveContext) -> list[Artifact]:
        return list(rc.this_run)

    def describe(self) -> str:
        return "this run"


@dataclass(frozen=True)
class LatestSpan(Resolver):
    """The producer's output with the newest span <= the current span."""

    def resolve(self, rc: ResolveContext) -> list[Artifact]:
        return _spans(rc, 1, max_span=rc.span)

    def describe(self) -> str:
        return "latest span"


@dataclass(frozen=True)
class RollingWindow(Resolver):
    """The producer's outputs of the last ``k`` spans <= the current span, newest first."""

    k: int = 1

    def __post_init__(self) -> None:
        if self.k < 1:
            raise InvalidArgumentError(f"rolling_window({self.k}) needs k >= 1")

    def resolve(self, rc: ResolveContext) -> list[Artifact]:
        return _spans(rc, self.k, max_span=rc.span)

    def describe(self) -> str:
        return f"rolling window of {self.k} spans"


@dataclass(frozen=True)
class Previous(Resolver):
    """The producer's newest output from a span before the current one (or any earlier run)."""

    edge: ClassVar[bool] = False

    def resolve(self, rc: ResolveContext) -> list[Artifact]:
        below = None if rc.span is None else rc.span - 1
        found = _spans(rc, 1, max_span=below, exclude=rc.produced_this_run)
        return found

    def describe(self) -> str:
        return f"previous {self.channel or 'output'}"


@dataclass(frozen=True)
class LatestArtifact(Resolver):
    """The newest LIVE artifact of ``type_name`` in this pipeline with matching properties."""

    type_name: str = ""
    where: Mapping[str, PropertyValue] = field(default_factory=dict)
    edge: ClassVar[bool] = False
    needs_producer: ClassVar[bool] = False

    def resolve(self, rc: ResolveContext) -> list[Artifact]:
        a = s.artifact
        att = s.attribution
        stmt = (
            select(a.c.id)
            .join(att, att.c.artifact_id == a.c.id)
            .where(
                att.c.context_id == rc.pipeline_context_id,
                a.c.type_id == rc.type_id,
                a.c.state == int(ArtifactState.LIVE),
            )
        )
        for name, value in self.where.items():
            stmt = stmt.where(_property_matches(name, value))
        if rc.produced_this_run:
            stmt = stmt.where(a.c.id.notin_(sorted(rc.produced_this_run)))
        ids = _ids(rc.store, stmt.order_by(a.c.id.desc()).limit(1))
        return rc.store.get_artifacts_by_id(ids)

    def describe(self) -> str:
        cond = ", ".join(f"{k}={v!r}" for k, v in self.where.items())
        return f"latest {self.type_name}" + (f" where {cond}" if cond else "")


def this_run(channel: str | None = None) -> ThisRun:
    """The default resolver: what the channel's producer wrote in this run."""
    return ThisRun(channel)


def latest_span(channel: str | None = None) -> LatestSpan:
    """The newest span of the channel up to the current span."""
    return LatestSpan(channel)


def rolling_window(k: int, channel: str | None = None) -> RollingWindow:
    """The last ``k`` spans of the channel up to the current span (annotate ``Inputs[...]``)."""
    return RollingWindow(channel, k)


def previous(channel: str) -> Previous:
    """The channel's newest output from an earlier span, e.g. ``previous("model")`` to warm
    start."""
    return Previous(channel)


def latest_artifact(type_name: str, **where: PropertyValue) -> LatestArtifact:
    """The newest LIVE ``type_name`` artifact of this pipeline whose properties equal ``where``."""
    return LatestArtifact(None, type_name, dict(where))


# queries ------------------------------------------------------------------------------------
def _spans(
    rc: ResolveContext, k: int, max_span: int | None, exclude: frozenset[int] = frozenset()
) -> list[Artifact]:
    """The newest output per span (newest span first), at most ``k`` spans."""
    if rc.producer_context_id is None or rc.output_key is None:
        return []
    limit = k * 4 + 16
    while True:
        rows = _producer_rows(rc, max_span, exclude, limit)
        picked: dict[int | None, int] = {}
        for art_id, span in rows:
            if span not in picked:
                picked[span] = art_id
        if len(picked) >= k or len(rows) < limit:
            break
        limit *= 8
    ids = list(picked.values())[:k]
    return rc.store.get_artifacts_by_id(ids)


def _producer_rows(
    rc: ResolveContext, max_span: int | None, exclude: frozenset[int], limit: int
) -> list[tuple[int, int | None]]:
    asn, ev, ep, a, ap = s.association, s.event, s.event_path, s.artifact, s.artifact_property
    span_col = ap.c.int_value
    stmt: Select[Any] = (
        select(a.c.id, span_col)
        .select_from(asn)
        .join(ev, and_(ev.c.execution_id == asn.c.execution_id, ev.c.type == int(EventType.OUTPUT)))
        .join(ep, and_(ep.c.event_id == ev.c.id, ep.c.step_key == rc.output_key))
        .join(a, a.c.id == ev.c.artifact_id)
        .outerjoin(ap, and_(ap.c.artifact_id == a.c.id, ap.c.name == "span"))
        .where(
            asn.c.context_id == rc.producer_context_id,
            a.c.type_id == rc.type_id,
            a.c.state == int(ArtifactState.LIVE),
        )
    )
    if max_span is not None:
        stmt = stmt.where(span_col <= max_span)
    if exclude:
        stmt = stmt.where(a.c.id.notin_(sorted(exclude)))
    stmt = stmt.order_by(span_col.desc().nulls_last(), a.c.id.desc()).limit(limit)
    with rc.store.engine.connect() as conn, conn.begin():
        return [(int(r[0]), None if r[1] is None else int(r[1])) for r in conn.execute(stmt)]


def _ids(store: MetadataStore, stmt: Select[Any]) -> list[int]:
    with store.engine.connect() as conn, conn.begin():
        return [int(x) for x in conn.execute(stmt).scalars()]


def _property_matches(name: str, value: PropertyValue) -> Any:
    ap = s.artifact_property
    if isinstance(value, bool):
        cond = or_(ap.c.bool_value == value, ap.c.int_value == int(value))
    elif isinstance(value, int):
        cond = ap.c.int_value == value
    elif isinstance(value, float):
        cond = ap.c.double_value == value
    elif isinstance(value, str):
        cond = ap.c.string_value == value
    else:
        raise InvalidArgumentError(
            f"latest_artifact filter {name}={value!r}: compare with an int, float, str or bool"
        )
    return exists().where(ap.c.artifact_id == s.artifact.c.id, ap.c.name == name, cond)
