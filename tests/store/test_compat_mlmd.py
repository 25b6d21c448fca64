"""Compatibility with ml-metadata 1.17.1, proven both ways on SQLite and PostgreSQL.

One TFX-shaped graph (ExampleGen -> StatisticsGen -> SchemaGen -> Trainer -> Evaluator -> Pusher
over two pipeline runs, with a CACHED SchemaGen, a FAILED Trainer and its ABANDONED model) is
written through the same sequence of API calls by ml-metadata or by graphlets, and read back by the
other, field by field: ids, names, uris, states, properties, custom properties, times, events with
their paths, contexts, parent contexts and base types. Both writers must produce the same store.

ml-metadata links its own SQLite: on a SQLite file its side runs in a child process
(``tests.mlmd_proc``), never next to graphlets' connections to the same file. On PostgreSQL it
runs in this process (libpq and psycopg share no locks).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest
from google.protobuf import json_format
from sqlalchemy.engine import make_url

from graphlets.model import (
    Artifact,
    ArtifactBaseType,
    ArtifactState,
    ArtifactType,
    Context,
    ContextType,
    Event,
    EventStep,
    EventType,
    Execution,
    ExecutionBaseType,
    ExecutionState,
    ExecutionType,
    ParentContext,
    PropertyType,
)
from graphlets.store import MetadataStore
from tests.mlmd_proc import in_child
from tests.store.backends import require_mlmd

try:
    from ml_metadata.metadata_store import metadata_store as mlmd
    from ml_metadata.proto import metadata_store_pb2 as pb
except ImportError:  # pragma: no cover - require_mlmd() skips or fails below
    mlmd = pb = None

pytestmark = pytest.mark.mlmd

EPOCH_MS = 1_795_628_277_804  # does not fit in 32 bits
Path_ = tuple[str | int, ...]
R = TypeVar("R")
Props = dict[str, Any]


@pytest.fixture(autouse=True)
def _need_mlmd() -> None:
    require_mlmd()


# Writers: the same calls on ml-metadata and on graphlets -----------------------------------------


@dataclass
class NewArtifact:
    type_id: int
    name: str
    uri: str
    state: ArtifactState
    properties: Props = field(default_factory=dict)
    custom_properties: Props = field(default_factory=dict)
    external_id: str | None = None


@dataclass
class Step:
    type_id: int
    name: str
    state: ExecutionState
    properties: Props = field(default_factory=dict)
    custom_properties: Props = field(default_factory=dict)


class Writer(Protocol):
    def put_type(self, kind: str, name: str, props: dict[str, PropertyType], base: int) -> int: ...
    def put_context(self, type_id: int, name: str, props: Props, custom: Props) -> int: ...
    def put_parent(self, child: int, parent: int) -> None: ...
    def put_execution(
        self,
        step: Step,
        inputs: list[tuple[int, Path_]],
        outputs: list[tuple[NewArtifact | int, EventType, Path_]],
        contexts: list[int],
    ) -> tuple[int, list[int]]: ...
    def set_state(self, artifact_id: int, state: ArtifactState) -> None: ...


def _steps(path: Path_) -> tuple[EventStep, ...]:
    return tuple(EventStep(index=p) if isinstance(p, int) else EventStep(key=p) for p in path)


class GraphletsWriter:
    def __init__(self, store: MetadataStore) -> None:
        self.s = store

    def put_type(self, kind: str, name: str, props: dict[str, PropertyType], base: int) -> int:
        if kind == "artifact":
            return self.s.put_artifact_type(
                ArtifactType(name, props, base_type=ArtifactBaseType(base))
            )
        if kind == "execution":
            return self.s.put_execution_type(
                ExecutionType(name, props, base_type=ExecutionBaseType(base))
            )
        return self.s.put_context_type(ContextType(name, props))

    def put_context(self, type_id: int, name: str, props: Props, custom: Props) -> int:
        return self.s.put_contexts([Context(type_id, name, props, custom)])[0]

    def put_parent(self, child: int, parent: int) -> None:
        self.s.put_parent_contexts([ParentContext(child, parent)])

    def put_execution(
        self,
        step: Step,
        inputs: list[tuple[int, Path_]],
        outputs: list[tuple[NewArtifact | int, EventType, Path_]],
        contexts: list[int],
    ) -> tuple[int, list[int]]:
        pairs: list[tuple[Artifact, Event | None]] = [
            (self.s.get_artifacts_by_id([aid])[0], Event(type=EventType.INPUT, path=_steps(p)))
            for aid, p in inputs
        ]
        for out, etype, p in outputs:
            art = self._artifact(out)
            pairs.append((art, Event(type=etype, path=_steps(p))))
        ex = Execution(
            step.type_id,
            step.name,
            step.properties,
            step.custom_properties,
            last_known_state=step.state,
        )
        eid, aids, _ = self.s.put_execution(ex, pairs, self.s.get_contexts_by_id(contexts))
        return eid, aids[len(inputs) :]

    def _artifact(self, out: NewArtifact | int) -> Artifact:
        if isinstance(out, int):
            return self.s.get_artifacts_by_id([out])[0]
        return Artifact(
            out.type_id,
            out.name,
            out.properties,
            out.custom_properties,
            external_id=out.external_id,
            uri=out.uri,
            state=out.state,
        )

    def set_state(self, artifact_id: int, state: ArtifactState) -> None:
        [a] = self.s.get_artifacts_by_id([artifact_id])
        self.s.put_artifacts([replace(a, state=state)])


def _set_value(v: Any, x: Any) -> None:
    if isinstance(x, bool):
        v.bool_value = x
    elif isinstance(x, int):
        v.int_value = x
    elif isinstance(x, float):
        v.double_value = x
    elif isinstance(x, str):
        v.string_value = x
    else:
        v.struct_value.update(x)


def _fill(msg: Any, props: Props, custom: Props) -> Any:
    for k, x in props.items():
        _set_value(msg.properties[k], x)
    for k, x in custom.items():
        _set_value(msg.custom_properties[k], x)
    return msg


class MlmdWriter:
    def __init__(self, store: Any) -> None:
        self.s = store

    def put_type(self, kind: str, name: str, props: dict[str, PropertyType], base: int) -> int:
        cls = {
            "artifact": pb.ArtifactType,
            "execution": pb.ExecutionType,
            "context": pb.ContextType,
        }[kind]
        t = cls(name=name)
        for k, v in props.items():
            t.properties[k] = int(v)
        if base:
            t.base_type = base
        return int(getattr(self.s, f"put_{kind}_type")(t))

    def put_context(self, type_id: int, name: str, props: Props, custom: Props) -> int:
        return int(
            self.s.put_contexts([_fill(pb.Context(type_id=type_id, name=name), props, custom)])[0]
        )

    def put_parent(self, child: int, parent: int) -> None:
        self.s.put_parent_contexts([pb.ParentContext(child_id=child, parent_id=parent)])

    def put_execution(
        self,
        step: Step,
        inputs: list[tuple[int, Path_]],
        outputs: list[tuple[NewArtifact | int, EventType, Path_]],
        contexts: list[int],
    ) -> tuple[int, list[int]]:
        pairs = [
            (self.s.get_artifacts_by_id([aid])[0], self._event(pb.Event.INPUT, p))
            for aid, p in inputs
        ]
        for out, etype, p in outputs:
            pairs.append((self._artifact(out), self._event(int(etype), p)))
        ex = _fill(
            pb.Execution(type_id=step.type_id, name=step.name, last_known_state=int(step.state)),
            step.properties,
            step.custom_properties,
        )
        eid, aids, _ = self.s.put_execution(ex, pairs, self.s.get_contexts_by_id(contexts))
        return int(eid), [int(a) for a in aids[len(inputs) :]]

    def _artifact(self, out: NewArtifact | int) -> Any:
        if isinstance(out, int):
            return self.s.get_artifacts_by_id([out])[0]
        a = pb.Artifact(type_id=out.type_id, name=out.name, uri=out.uri, state=int(out.state))
        if out.external_id:
            a.external_id = out.external_id
        return _fill(a, out.properties, out.custom_properties)

    @staticmethod
    def _event(etype: int, path: Path_) -> Any:
        e = pb.Event(type=etype)
        for p in path:
            step = e.path.steps.add()
            if isinstance(p, int):
                step.index = p
            else:
                step.key = p
        return e

    def set_state(self, artifact_id: int, state: ArtifactState) -> None:
        [a] = self.s.get_artifacts_by_id([artifact_id])
        a.state = int(state)
        self.s.put_artifacts([a])


# The graph, and what it must read as ------------------------------------------------------------


@dataclass
class Expected:
    """What the builder wrote, by the ids the writer returned (times excluded)."""

    types: dict[tuple[str, str], tuple[int, dict[str, int], int]] = field(default_factory=dict)
    artifacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    executions: dict[int, dict[str, Any]] = field(default_factory=dict)
    contexts: dict[int, dict[str, Any]] = field(default_factory=dict)
    events: set[tuple[int, int, int, Path_]] = field(default_factory=set)
    attributions: set[tuple[int, int]] = field(default_factory=set)
    associations: set[tuple[int, int]] = field(default_factory=set)
    parents: set[tuple[int, int]] = field(default_factory=set)


P = PropertyType
ARTIFACT_TYPES = {
    "Examples": (
        {"span": P.INT, "split_names": P.STRING, "version": P.INT},
        ArtifactBaseType.DATASET,
    ),
    "ExampleStatistics": ({"span": P.INT, "split_names": P.STRING}, ArtifactBaseType.STATISTICS),
    "Schema": ({}, 0),
    "Model": ({}, ArtifactBaseType.MODEL),
    "ModelBlessing": ({}, 0),
    "PushedModel": ({}, 0),
}
EXECUTION_TYPES = {
    "CsvExampleGen": ({"input_base": P.STRING, "span": P.INT}, ExecutionBaseType.PROCESS),
    "StatisticsGen": ({"exclude_splits": P.STRING}, ExecutionBaseType.PROCESS),
    "SchemaGen": ({"infer_feature_shape": P.INT}, 0),
    "Trainer": ({"train_args": P.STRING, "learning_rate": P.DOUBLE}, ExecutionBaseType.TRAIN),
    "Evaluator": ({"eval_config": P.STRUCT}, ExecutionBaseType.EVALUATE),
    "Pusher": ({"push_destination": P.STRING, "dry_run": P.BOOLEAN}, ExecutionBaseType.DEPLOY),
}
CONTEXT_TYPES = {
    "pipeline": {},
    "pipeline_run": {"run_number": P.INT},
    "node": {"node_id": P.STRING},
}


def build_graph(w: Writer, big_ints: bool) -> Expected:
    """Two runs of a TFX pipeline through ``w``; ``big_ints`` adds int64 values beyond int32
    (ml-metadata's own PostgreSQL schema stores int_value as a 32-bit integer and cannot)."""
    x = Expected()
    t: dict[str, int] = {}
    for kind, table in (("artifact", ARTIFACT_TYPES), ("execution", EXECUTION_TYPES)):
        for name, (props, base) in table.items():
            t[name] = w.put_type(kind, name, props, int(base))
            x.types[(kind, name)] = (t[name], {k: int(v) for k, v in props.items()}, int(base))
    for name, props in CONTEXT_TYPES.items():
        t[name] = w.put_type("context", name, props, 0)
        x.types[("context", name)] = (t[name], {k: int(v) for k, v in props.items()}, 0)

    def context(type_name: str, name: str, props: Props, custom: Props) -> int:
        cid = w.put_context(t[type_name], name, props, custom)
        x.contexts[cid] = _node(type_name, t[type_name], name, props, custom)
        return cid

    pipeline = context("pipeline", "taxi", {}, {"owner": "ml-team", "tfx_version": "1.14.0"})
    nodes = {
        comp: context("node", f"taxi.{comp}", {"node_id": comp}, {}) for comp in EXECUTION_TYPES
    }
    for nid in nodes.values():
        w.put_parent(nid, pipeline)
        x.parents.add((nid, pipeline))
    start_ms = EPOCH_MS if big_ints else 1_795_628
    arts: dict[str, int] = {}

    def run(
        comp: str,
        ctxs: list[int],
        state: ExecutionState,
        props: Props,
        custom: Props,
        inputs: list[tuple[str, Path_]],
        outputs: list[tuple[str, NewArtifact | str, EventType, Path_]],
    ) -> int:
        step = Step(t[comp], f"{comp}-{len(x.executions)}", state, props, custom)
        out_specs: list[tuple[NewArtifact | int, EventType, Path_]] = [
            (arts[o] if isinstance(o, str) else o, etype, p) for _, o, etype, p in outputs
        ]
        all_ctx = [pipeline, nodes[comp], *ctxs]
        eid, out_ids = w.put_execution(step, [(arts[a], p) for a, p in inputs], out_specs, all_ctx)
        x.executions[eid] = _node(comp, t[comp], step.name, props, custom) | {"state": int(state)}
        for (key, spec, etype, p), aid in zip(outputs, out_ids, strict=True):
            arts[key] = aid
            if isinstance(spec, NewArtifact):
                type_name = next(
                    n for n, tid in t.items() if tid == spec.type_id and n in ARTIFACT_TYPES
                )
                x.artifacts[aid] = _node(
                    type_name, spec.type_id, spec.name, spec.properties, spec.custom_properties
                ) | {"uri": spec.uri, "state": int(spec.state), "external_id": spec.external_id}
            x.events.add((aid, eid, int(etype), p))
        for a, p in inputs:
            x.events.add((arts[a], eid, int(EventType.INPUT), p))
        touched = [arts[a] for a, _ in inputs] + out_ids
        x.attributions |= {(c, a) for c in all_ctx for a in touched}
        x.associations |= {(c, eid) for c in all_ctx}
        return eid

    def new(
        type_name: str,
        name: str,
        state: ArtifactState,
        props: Props | None = None,
        custom: Props | None = None,
        external_id: str | None = None,
    ) -> NewArtifact:
        return NewArtifact(
            t[type_name],
            name,
            f"/pipelines/taxi/{name}",
            state,
            props or {},
            custom or {},
            external_id,
        )

    live, out, pend = ArtifactState.LIVE, EventType.OUTPUT, EventType.PENDING_OUTPUT
    env = {
        "python": "3.11.7",
        "packages": {"tfx": "1.14.0", "tensorflow": "2.13.1"},
        "gpus": [],
        "cpu_count": 2.0,
    }
    for r in (1, 2):
        run_ctx = context(
            "pipeline_run", f"taxi-run-{r}", {"run_number": r}, {"started_ms": start_ms + r}
        )
        w.put_parent(run_ctx, pipeline)
        x.parents.add((run_ctx, pipeline))
        common = {"start_time_ms": start_ms + 1000 * r, "env": env, "is_cached": False}
        run(
            "CsvExampleGen",
            [run_ctx],
            ExecutionState.COMPLETE,
            {"input_base": "/data/taxi", "span": r},
            {**common, "cpu_seconds": 12.5},
            [],
            [
                (
                    f"examples{r}",
                    new(
                        "Examples",
                        f"examples-span-{r}",
                        live,
                        {"span": r, "split_names": '["train", "eval"]', "version": 0},
                        {
                            "file_format": "tfrecords_gzip",
                            "payload_bytes": 2**40 if big_ints else 2**20,
                        },
                        external_id=f"ext-examples-{r}",
                    ),
                    out,
                    ("examples", 0),
                )
            ],
        )
        run(
            "StatisticsGen",
            [run_ctx],
            ExecutionState.COMPLETE,
            {"exclude_splits": "[]"},
            common,
            [(f"examples{r}", ("examples", 0))],
            [
                (
                    f"stats{r}",
                    new(
                        "ExampleStatistics",
                        f"stats-span-{r}",
                        live,
                        {"span": r, "split_names": '["train", "eval"]'},
                    ),
                    out,
                    ("statistics", 0),
                )
            ],
        )
        if r == 1:
            run(
                "SchemaGen",
                [run_ctx],
                ExecutionState.COMPLETE,
                {"infer_feature_shape": 1},
                common,
                [("stats1", ("statistics", 0))],
                [("schema", new("Schema", "schema-1", live), out, ("schema", 0))],
            )
        else:  # a cache hit: the execution re-emits the existing schema
            run(
                "SchemaGen",
                [run_ctx],
                ExecutionState.CACHED,
                {"infer_feature_shape": 1},
                {**common, "is_cached": True},
                [("stats2", ("statistics", 0))],
                [("schema", "schema", out, ("schema", 0))],
            )
        window = [(f"examples{i}", ("examples", i - 1)) for i in range(1, r + 1)]
        if r == 1:
            run(
                "Trainer",
                [run_ctx],
                ExecutionState.COMPLETE,
                {"train_args": '{"num_steps": 100}', "learning_rate": 0.001},
                {**common, "cpu_seconds": 3600.25},
                [*window, ("schema", ("schema", 0))],
                [
                    (
                        "model1",
                        new("Model", "model-1", live, custom={"accuracy": 0.91}),
                        out,
                        ("model", 0),
                    )
                ],
            )
            run(
                "Evaluator",
                [run_ctx],
                ExecutionState.COMPLETE,
                {"eval_config": {"metrics": ["auc"], "threshold": 0.5}},
                common,
                [("model1", ("model", 0)), ("examples1", ("examples", 0))],
                [
                    (
                        "blessing1",
                        new("ModelBlessing", "blessing-1", live, custom={"blessed": 1}),
                        out,
                        ("blessing", 0),
                    )
                ],
            )
            run(
                "Pusher",
                [run_ctx],
                ExecutionState.COMPLETE,
                {"push_destination": "/serving/taxi", "dry_run": False},
                common,
                [("model1", ("model", 0)), ("blessing1", ("model_blessing", 0))],
                [
                    (
                        "pushed1",
                        new("PushedModel", "pushed-1", live, custom={"pushed": 1}),
                        out,
                        ("pushed_model", 0),
                    )
                ],
            )
        else:  # the trainer fails after registering its output: the model is abandoned
            run(
                "Trainer",
                [run_ctx],
                ExecutionState.FAILED,
                {"train_args": '{"num_steps": 100}', "learning_rate": 0.001},
                {**common, "error": "OOM: killed"},
                [*window, ("schema", ("schema", 0))],
                [("model2", new("Model", "model-2", ArtifactState.PENDING), pend, ("model", 0))],
            )
            w.set_state(arts["model2"], ArtifactState.ABANDONED)
            x.artifacts[arts["model2"]]["state"] = int(ArtifactState.ABANDONED)
    return x


def _node(type_name: str, type_id: int, name: str, props: Props, custom: Props) -> dict[str, Any]:
    return {
        "type": type_name,
        "type_id": type_id,
        "name": name,
        "properties": _jsonish(props),
        "custom_properties": _jsonish(custom),
    }


def _jsonish(props: Props) -> Props:
    """Structs read back through protobuf's Struct, whose only number type is double."""
    return {
        k: json_format.MessageToDict(_struct(v)) if isinstance(v, dict) else v
        for k, v in props.items()
    }


def _struct(v: dict[str, Any]) -> Any:
    from google.protobuf import struct_pb2

    s = struct_pb2.Struct()
    s.update(v)
    return s


# Readers: both produce the same plain snapshot ---------------------------------------------------


def snapshot_graphlets(store: MetadataStore) -> dict[str, Any]:
    snap: dict[str, Any] = {"types": {}}
    for kind, types in (
        ("artifact", store.get_artifact_types()),
        ("execution", store.get_execution_types()),
        ("context", store.get_context_types()),
    ):
        for t in types:
            base = int(getattr(t, "base_type", 0))
            snap["types"][(kind, t.name)] = (
                t.id,
                {k: int(v) for k, v in t.properties.items()},
                base,
            )

    def node(n: Any) -> dict[str, Any]:
        return {
            "type": n.type,
            "type_id": n.type_id,
            "name": n.name,
            "properties": dict(n.properties),
            "custom_properties": dict(n.custom_properties),
            "create": n.create_time_since_epoch,
            "update": n.last_update_time_since_epoch,
            "external_id": n.external_id,
        }

    snap["artifacts"] = {
        a.id: node(a) | {"uri": a.uri, "state": int(a.state)} for a in store.get_artifacts()
    }
    snap["executions"] = {
        e.id: node(e) | {"state": int(e.last_known_state)} for e in store.get_executions()
    }
    snap["contexts"] = {c.id: node(c) for c in store.get_contexts()}
    events = store.get_events_by_execution_ids(list(snap["executions"]))
    snap["events"] = {
        (
            e.artifact_id,
            e.execution_id,
            int(e.type),
            tuple(s.key if s.key is not None else s.index for s in e.path),
        ): e.milliseconds_since_epoch
        for e in events
    }
    ctx_ids = list(snap["contexts"])
    snap["attributions"] = {(c, a.id) for c in ctx_ids for a in store.get_artifacts_by_context(c)}
    snap["associations"] = {(c, e.id) for c in ctx_ids for e in store.get_executions_by_context(c)}
    snap["parents"] = {(c, p.id) for c in ctx_ids for p in store.get_parent_contexts_by_context(c)}
    return snap


def _from_value(v: Any) -> Any:
    which = v.WhichOneof("value")
    if which == "struct_value":
        return json_format.MessageToDict(v.struct_value)
    return getattr(v, which)


def _opt(msg: Any, name: str) -> Any:
    return getattr(msg, name) if msg.HasField(name) else None


def snapshot_mlmd(store: Any) -> dict[str, Any]:
    snap: dict[str, Any] = {"types": {}}
    for kind in ("artifact", "execution", "context"):
        for t in getattr(store, f"get_{kind}_types")():
            base = int(t.base_type) if kind != "context" and t.HasField("base_type") else 0
            snap["types"][(kind, t.name)] = (
                t.id,
                {k: int(v) for k, v in t.properties.items()},
                base,
            )

    def node(n: Any) -> dict[str, Any]:
        return {
            "type": n.type,
            "type_id": n.type_id,
            "name": _opt(n, "name"),
            "properties": {k: _from_value(v) for k, v in n.properties.items()},
            "custom_properties": {k: _from_value(v) for k, v in n.custom_properties.items()},
            "create": n.create_time_since_epoch,
            "update": n.last_update_time_since_epoch,
            "external_id": _opt(n, "external_id"),
        }

    snap["artifacts"] = {
        a.id: node(a) | {"uri": _opt(a, "uri"), "state": int(a.state)}
        for a in store.get_artifacts()
    }
    snap["executions"] = {
        e.id: node(e) | {"state": int(e.last_known_state)} for e in store.get_executions()
    }
    snap["contexts"] = {c.id: node(c) for c in store.get_contexts()}
    events = store.get_events_by_execution_ids(list(snap["executions"]))
    snap["events"] = {
        (
            e.artifact_id,
            e.execution_id,
            int(e.type),
            tuple(s.key if s.HasField("key") else s.index for s in e.path.steps),
        ): _opt(e, "milliseconds_since_epoch")
        for e in events
    }
    ctx_ids = list(snap["contexts"])
    snap["attributions"] = {(c, a.id) for c in ctx_ids for a in store.get_artifacts_by_context(c)}
    snap["associations"] = {(c, e.id) for c in ctx_ids for e in store.get_executions_by_context(c)}
    snap["parents"] = {(c, p.id) for c in ctx_ids for p in store.get_parent_contexts_by_context(c)}
    return snap


def check_against_expected(snap: dict[str, Any], x: Expected, t0: int, t1: int) -> None:
    """Field by field: everything the builder wrote is there, with the ids the writer returned."""
    assert snap["types"] == x.types
    for table, want in (
        ("artifacts", x.artifacts),
        ("executions", x.executions),
        ("contexts", x.contexts),
    ):
        got = snap[table]
        assert set(got) == set(want), table
        for nid, fields in want.items():
            for key, value in fields.items():
                assert got[nid][key] == value, (table, nid, key)
                if isinstance(value, (bool, int, float)):
                    assert type(got[nid][key]) is type(value), (table, nid, key)
            for key in ("properties", "custom_properties"):
                for name, value in fields[key].items():
                    assert type(got[nid][key][name]) is type(value), (table, nid, name)
            assert t0 <= got[nid]["create"] <= got[nid]["update"] <= t1, (table, nid)
    assert set(snap["events"]) == x.events
    assert all(ms is not None and t0 <= ms <= t1 for ms in snap["events"].values())
    assert snap["attributions"] == x.attributions
    assert snap["associations"] == x.associations
    assert snap["parents"] == x.parents


def _without_times(snap: dict[str, Any]) -> dict[str, Any]:
    out = dict(snap)
    for table in ("artifacts", "executions", "contexts"):
        out[table] = {
            i: {k: v for k, v in n.items() if k not in ("create", "update")}
            for i, n in snap[table].items()
        }
    out["events"] = set(snap["events"])
    return out


# Stores ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One database, addressed both ways (picklable: ml-metadata's side runs in a child)."""

    url: str
    path: Path | None = None  # the SQLite file; None on PostgreSQL

    def config(self, create: bool) -> Any:
        """ml-metadata's ConnectionConfig for this database (``create``: make it if missing)."""
        c = pb.ConnectionConfig()
        if self.path is not None:
            c.sqlite.filename_uri = str(self.path)
            mode = pb.SqliteMetadataSourceConfig
            c.sqlite.connection_mode = mode.READWRITE_OPENCREATE if create else mode.READWRITE
            return c
        u = make_url(self.url)
        c.postgresql.host = u.host or "127.0.0.1"
        c.postgresql.port = str(u.port or 5432)
        c.postgresql.user = u.username or "postgres"
        if u.password:
            c.postgresql.password = u.password
        c.postgresql.dbname = u.database or ""
        c.postgresql.skip_db_creation = not create
        return c


def _sqlite_target(path: Path) -> Target:
    return Target(f"sqlite:///{path}", path)


def _pg_target(url: str) -> Target:
    return Target(url)


def on_mlmd_side(fn: Callable[..., R], target: Target, *args: Any) -> R:
    """``fn(target, *args)`` where ml-metadata may open the database: in a child process for a
    SQLite file (ml-metadata's own SQLite must not share a process with ours: see mlmd_proc)."""
    if target.path is not None:
        return in_child(fn, target, *args)
    return fn(target, *args)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "sqlite":
        yield _sqlite_target(tmp_path / "store.sqlite")
    else:
        yield _pg_target(request.getfixturevalue("pg_url"))


@pytest.fixture
def second_target(request: pytest.FixtureRequest, target: Target, tmp_path: Path) -> Target:
    """Another empty database on the same backend."""
    if target.url.startswith("sqlite"):
        return _sqlite_target(tmp_path / "other.sqlite")
    return _pg_target(request.getfixturevalue("pg_url_2"))


@pytest.fixture
def pg_url_2(pg_url: str) -> Iterator[str]:
    """A second fresh PostgreSQL database (``pg_url`` is per test, so chain a new name)."""
    import uuid

    from sqlalchemy import create_engine, text

    from tests.conftest import _admin_url

    name = f"graphlets_test_{uuid.uuid4().hex[:12]}"
    try:
        yield make_url(pg_url).set(database=name).render_as_string(False)
    finally:
        admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _mlmd_can_hold_int64(target: Target) -> bool:
    return target.url.startswith("sqlite")


def mlmd_write(target: Target) -> tuple[Expected, int, int]:
    """ml-metadata writes the graph (call through :func:`on_mlmd_side`)."""
    t0 = _now_ms()
    store = mlmd.MetadataStore(target.config(True))
    x = build_graph(MlmdWriter(store), big_ints=_mlmd_can_hold_int64(target))
    del store
    return x, t0, _now_ms()


def mlmd_snapshot(target: Target) -> dict[str, Any]:
    """What ml-metadata reads (call through :func:`on_mlmd_side`)."""
    return snapshot_mlmd(mlmd.MetadataStore(target.config(False)))


def mlmd_put_model(target: Target, size: int) -> int:
    """ml-metadata adds a Model artifact; its id (call through :func:`on_mlmd_side`)."""
    theirs = mlmd.MetadataStore(target.config(False))
    tid = theirs.get_artifact_type("Model").id
    model = pb.Artifact(type_id=tid, name="model-from-mlmd", uri="/m", state=pb.Artifact.LIVE)
    model.custom_properties["size"].int_value = size
    [aid] = theirs.put_artifacts([model])
    return int(aid)


def mlmd_execution(target: Target, eid: int) -> tuple[Any, Any]:
    """One execution and its only event, as ml-metadata reads them."""
    reader = mlmd.MetadataStore(target.config(False))
    [ex] = reader.get_executions_by_id([eid])
    [ev] = reader.get_events_by_execution_ids([eid])
    return ex, ev


def _write_with_graphlets(target: Target, big_ints: bool = True) -> tuple[Expected, int, int]:
    t0 = _now_ms()
    with MetadataStore(target.url, create=True) as store:
        x = build_graph(GraphletsWriter(store), big_ints=big_ints)
    return x, t0, _now_ms()


# Tests -------------------------------------------------------------------------------------------


def test_mlmd_writes_graphlets_reads(target: Target) -> None:
    x, t0, t1 = on_mlmd_side(mlmd_write, target)
    with MetadataStore(target.url) as store:
        ours = snapshot_graphlets(store)
    check_against_expected(ours, x, t0, t1)
    theirs = on_mlmd_side(mlmd_snapshot, target)
    assert ours == theirs  # times and event timestamps included


def test_graphlets_writes_mlmd_reads(target: Target) -> None:
    x, t0, t1 = _write_with_graphlets(target)
    theirs = on_mlmd_side(mlmd_snapshot, target)
    check_against_expected(theirs, x, t0, t1)
    with MetadataStore(target.url) as store:
        assert snapshot_graphlets(store) == theirs


def test_both_writers_make_the_same_store(target: Target, second_target: Target) -> None:
    x_mlmd, _, _ = on_mlmd_side(mlmd_write, target)
    x_ours, _, _ = _write_with_graphlets(second_target, big_ints=_mlmd_can_hold_int64(target))
    assert x_ours == x_mlmd  # the same ids came back from every call
    with MetadataStore(target.url) as a, MetadataStore(second_target.url) as b:
        assert _without_times(snapshot_graphlets(a)) == _without_times(snapshot_graphlets(b))


def test_each_side_keeps_writing_the_others_store(target: Target) -> None:
    """TFX keeps running on a graphlets store, and graphlets appends to a TFX store."""
    _write_with_graphlets(target)
    size = 2**40 if target.url.startswith("postgresql") else 7
    mlmd_aid = on_mlmd_side(mlmd_put_model, target, size)
    with MetadataStore(target.url) as ours:
        [got] = ours.get_artifacts_by_id([mlmd_aid])
        assert (got.name, got.uri, got.state, got.type) == (
            "model-from-mlmd",
            "/m",
            ArtifactState.LIVE,
            "Model",
        )
        assert got.custom_properties["size"] == size
        et = ours.get_execution_type("Pusher").id
        assert et is not None
        eid, [aid], _ = ours.put_execution(
            Execution(
                et,
                name="push-from-graphlets",
                last_known_state=ExecutionState.COMPLETE,
                custom_properties={"flag": True, "cfg": {"k": "v"}},
            ),
            [(got, Event(type=EventType.INPUT, path=(EventStep(key="model"), EventStep(index=0))))],
        )
        assert aid == mlmd_aid
    ex, ev = on_mlmd_side(mlmd_execution, target, eid)
    assert ex.name == "push-from-graphlets" and ex.last_known_state == pb.Execution.COMPLETE
    assert ex.custom_properties["flag"].bool_value is True
    assert json_format.MessageToDict(ex.custom_properties["cfg"].struct_value) == {"k": "v"}
    assert (ev.artifact_id, ev.type) == (mlmd_aid, pb.Event.INPUT)
    assert [(s.key, s.index) for s in ev.path.steps] == [("model", 0), ("", 0)]
    assert ev.path.steps[1].HasField("index") and not ev.path.steps[1].HasField("key")


def test_mlmd_store_gains_graphlets_indexes_and_stays_readable(target: Target) -> None:
    """``store init``/``upgrade`` on an ml-metadata store adds only what ml-metadata ignores."""
    on_mlmd_side(mlmd_write, target)
    with MetadataStore(target.url) as ours:
        assert ours.migrations_pending
        before = snapshot_graphlets(ours)
    with MetadataStore(target.url, create=True) as ours:
        assert not ours.migrations_pending
        assert snapshot_graphlets(ours) == before
    assert on_mlmd_side(mlmd_snapshot, target) == before
