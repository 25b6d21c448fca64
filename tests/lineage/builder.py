"""A small builder of TFX-shaped provenance through graphlets' own MetadataStore API.

Each ``run`` call records one execution with its input and output events (keys as TFX names them),
its cost (custom property ``cpu_seconds``) and its pipeline / run contexts (and, with
``node_contexts=True``, its ``node`` context ``PIPELINE.NODE`` as TFX and our runner record it), so
the graphs in the tests read like the pipelines they describe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphlets.model import (
    Artifact,
    ArtifactBaseType,
    ArtifactState,
    ArtifactType,
    Association,
    Attribution,
    Context,
    ContextType,
    Event,
    EventStep,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    PropertyType,
)
from graphlets.store import MetadataStore

ARTIFACT_TYPES = {
    "Examples": {"span": PropertyType.INT},
    "ExampleStatistics": {"span": PropertyType.INT},
    "Schema": {},
    "ExampleAnomalies": {},
    "TransformGraph": {},
    "Model": {},
    "ModelRun": {},
    "ModelEvaluation": {},
    "ModelBlessing": {},
    "PushedModel": {},
}
EXECUTION_TYPES = (
    "CsvExampleGen",
    "StatisticsGen",
    "SchemaGen",
    "ExampleValidator",
    "Transform",
    "Trainer",
    "Evaluator",
    "Pusher",
    "Resolver",
    "Importer",
)
Out = str | tuple[str, Mapping[str, Any]]


@dataclass
class Builder:
    """Records executions into ``store``; ids of everything written are returned."""

    store: MetadataStore
    pipeline: str = "p"
    types: dict[str, int] = field(default_factory=dict)
    contexts: dict[str, int] = field(default_factory=dict)
    node_contexts: bool = False
    base_types: Mapping[str, ArtifactBaseType] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, props in ARTIFACT_TYPES.items():
            base = self.base_types.get(name, ArtifactBaseType.UNSET)
            self.types[name] = self.store.put_artifact_type(
                ArtifactType(name, props, base_type=base)
            )
        for name in EXECUTION_TYPES:
            self.types[name] = self.store.put_execution_type(ExecutionType(name))
        for name in ("pipeline", "pipeline_run", "node"):
            self.types[name] = self.store.put_context_type(ContextType(name))

    def add_types(self, artifacts: Sequence[str] = (), executions: Sequence[str] = ()) -> None:
        """Register more artifact and execution types (no properties) by name."""
        for name in artifacts:
            self.types[name] = self.store.put_artifact_type(ArtifactType(name))
        for name in executions:
            self.types[name] = self.store.put_execution_type(ExecutionType(name))

    def context(self, type_name: str, name: str) -> int:
        key = f"{type_name}:{name}"
        if key not in self.contexts:
            [cid] = self.store.put_contexts([Context(self.types[type_name], name=name)])
            self.contexts[key] = cid
        return self.contexts[key]

    def run(
        self,
        type_name: str,
        inputs: Mapping[str, int | Sequence[int]] | None = None,
        outputs: Mapping[str, Out] | None = None,
        *,
        state: ExecutionState = ExecutionState.COMPLETE,
        cost: float = 1.0,
        run: str = "r1",
        reuse: Mapping[str, int] | None = None,
        pending: Mapping[str, str] | None = None,
        internal: Mapping[str, int] | None = None,
        custom: Mapping[str, Any] | None = None,
        pipeline: str | None = None,
        node: str | None = None,
    ) -> tuple[int, dict[str, int]]:
        """Record one execution; returns its id and the ids of its outputs by key.

        Args:
            inputs: key -> artifact id(s) read (INPUT events).
            outputs: key -> new artifact type name, or (type name, custom properties) (OUTPUT).
            state: execution state.
            cost: ``cpu_seconds`` custom property.
            run: pipeline_run context name.
            reuse: key -> existing artifact re-emitted with an OUTPUT event (a cache hit).
            pending: key -> type of an ABANDONED artifact behind a PENDING_OUTPUT event.
            internal: key -> existing artifact re-emitted with an INTERNAL_OUTPUT event (what a
                TFX 1.16 resolver node records for what it resolved).
            custom: more custom properties of the execution.
            node: node id for the ``node`` context (default: the type name), when the builder
                records node contexts.
        """
        props = {"cpu_seconds": cost, **(custom or {})}
        [eid] = self.store.put_executions(
            [Execution(self.types[type_name], last_known_state=state, custom_properties=props)]
        )
        events: list[Event] = []
        for key, ids in (inputs or {}).items():
            for i, aid in enumerate([ids] if isinstance(ids, int) else ids):
                events.append(_event(aid, eid, EventType.INPUT, key, i))
        made: dict[str, int] = {}
        for key, spec in (outputs or {}).items():
            made[key] = self._artifact(spec, ArtifactState.LIVE)
            events.append(_event(made[key], eid, EventType.OUTPUT, key, 0))
        for key, aid in (reuse or {}).items():
            made[key] = aid
            events.append(_event(aid, eid, EventType.OUTPUT, key, 0))
        for key, aid in (internal or {}).items():
            made[key] = aid
            events.append(_event(aid, eid, EventType.INTERNAL_OUTPUT, key, 0))
        for key, tname in (pending or {}).items():
            made[key] = self._artifact(tname, ArtifactState.ABANDONED)
            events.append(_event(made[key], eid, EventType.PENDING_OUTPUT, key, 0))
        self.store.put_events(events)
        ctxs = [
            self.context("pipeline", pipeline or self.pipeline),
            self.context("pipeline_run", run),
        ]
        if self.node_contexts:
            ctxs.append(self.context("node", f"{pipeline or self.pipeline}.{node or type_name}"))
        self.store.put_attributions_and_associations(
            [Attribution(c, a) for c in ctxs for a in made.values()],
            [Association(c, eid) for c in ctxs],
        )
        return eid, made

    def _artifact(self, spec: Out, state: ArtifactState) -> int:
        name, custom = (spec, {}) if isinstance(spec, str) else spec
        props = {k: v for k, v in custom.items() if k in ARTIFACT_TYPES.get(name, {})}
        rest = {k: v for k, v in custom.items() if k not in props}
        [aid] = self.store.put_artifacts(
            [Artifact(self.types[name], state=state, properties=props, custom_properties=rest)]
        )
        return aid


def _event(aid: int, eid: int, kind: EventType, key: str, index: int) -> Event:
    return Event(aid, eid, kind, path=(EventStep(key=key), EventStep(index=index)))


# Costs of the standard run (cpu_seconds), exact in binary floating point so sums compare exactly.
COST = {
    "CsvExampleGen": 1.0,
    "StatisticsGen": 1.0,
    "SchemaGen": 0.5,
    "ExampleValidator": 1.0,
    "Transform": 2.0,
    "Trainer": 10.0,
    "Evaluator": 3.0,
    "Pusher": 0.5,
}
CACHED_COST = 0.25


def ingest(b: Builder, span: int, run: str) -> dict[str, int]:
    """ExampleGen -> StatisticsGen -> SchemaGen -> ExampleValidator for one span."""
    ids: dict[str, int] = {}
    ids["gen"], o = b.run(
        "CsvExampleGen", outputs={"examples": ("Examples", {"span": span})},
        cost=COST["CsvExampleGen"], run=run,
    )  # fmt: skip
    ids["examples"] = o["examples"]
    ids["stats_gen"], o = b.run(
        "StatisticsGen", {"examples": ids["examples"]},
        {"statistics": ("ExampleStatistics", {"span": span})}, cost=COST["StatisticsGen"], run=run,
    )  # fmt: skip
    ids["stats"] = o["statistics"]
    ids["schema_gen"], o = b.run(
        "SchemaGen", {"statistics": ids["stats"]}, {"schema": "Schema"}, cost=COST["SchemaGen"],
        run=run,
    )  # fmt: skip
    ids["schema"] = o["schema"]
    ids["validator"], _ = b.run(
        "ExampleValidator", {"statistics": ids["stats"], "schema": ids["schema"]},
        {"anomalies": "ExampleAnomalies"}, cost=COST["ExampleValidator"], run=run,
    )  # fmt: skip
    return ids


def train(
    b: Builder,
    run: str,
    examples: list[int],
    schema: int,
    *,
    base_model: int | None = None,
    state: ExecutionState = ExecutionState.COMPLETE,
) -> dict[str, int]:
    """Transform over the window, then the Trainer (warm started from ``base_model``)."""
    ids: dict[str, int] = {}
    ids["transform"], o = b.run(
        "Transform", {"examples": examples, "schema": schema},
        {"transform_graph": "TransformGraph"}, cost=COST["Transform"], run=run,
    )  # fmt: skip
    ids["transform_graph"] = o["transform_graph"]
    ins: dict[str, int | list[int]] = {
        "examples": examples, "transform_graph": ids["transform_graph"], "schema": schema,
    }  # fmt: skip
    if base_model is not None:
        ins["base_model"] = base_model
    if state == ExecutionState.FAILED:
        ids["trainer"], o = b.run(
            "Trainer", ins, pending={"model": "Model"}, state=state, cost=COST["Trainer"], run=run
        )
    else:
        ids["trainer"], o = b.run(
            "Trainer", ins, {"model": "Model", "model_run": "ModelRun"}, state=state,
            cost=COST["Trainer"], run=run,
        )  # fmt: skip
    ids["model"] = o["model"]
    return ids


def evaluate(
    b: Builder,
    run: str,
    examples: int,
    model: int,
    *,
    baseline: int | None = None,
    blessed: int = 1,
    state: ExecutionState = ExecutionState.COMPLETE,
) -> dict[str, int]:
    """Evaluator (against ``baseline``) -> ModelEvaluation, ModelBlessing(blessed)."""
    ins: dict[str, int | list[int]] = {"examples": examples, "model": model}
    if baseline is not None:
        ins["baseline_model"] = baseline
    outs: dict[str, Out] = {}
    if state != ExecutionState.FAILED:
        outs = {
            "evaluation": "ModelEvaluation",
            "blessing": ("ModelBlessing", {"blessed": blessed}),
        }
    eid, o = b.run("Evaluator", ins, outs, state=state, cost=COST["Evaluator"], run=run)
    return {"evaluator": eid, **({"blessing": o["blessing"]} if "blessing" in o else {})}


def push(b: Builder, run: str, model: int, blessing: int, *, pushed: int = 1) -> dict[str, int]:
    """Pusher -> PushedModel(pushed)."""
    eid, o = b.run(
        "Pusher", {"model": model, "model_blessing": blessing},
        {"pushed_model": ("PushedModel", {"pushed": pushed})}, cost=COST["Pusher"], run=run,
    )  # fmt: skip
    return {"pusher": eid, "pushed_model": o["pushed_model"]}


def full_run(
    b: Builder,
    span: int,
    run: str,
    *,
    window: list[int] | None = None,
    base_model: int | None = None,
    baseline: int | None = None,
    blessed: int = 1,
) -> dict[str, int]:
    """A whole TFX run; the Pusher writes ``pushed`` = ``blessed`` (as TFX's Pusher does)."""
    ids = ingest(b, span, run)
    ids |= train(b, run, [*(window or []), ids["examples"]], ids["schema"], base_model=base_model)
    ids |= evaluate(b, run, ids["examples"], ids["model"], baseline=baseline, blessed=blessed)
    ids |= push(b, run, ids["model"], ids["blessing"], pushed=blessed)
    return ids
