"""A synthetic TFX-shaped history recorded straight through the store API (no pipeline runs).

This was the demo before the runner existed; it stays because it records a multi-pipeline history
in milliseconds, which the web and analytics tests use as a fixture. The demo main job itself runs
the real pipeline (:func:`graphlets.demo.run_demo`). What it records: daily spans ingested,
statistics, a schema, validation, a trainer over a rolling window of spans with warm start, an
evaluator against the last pushed model, and a pusher for blessed models; which models are
blessed follows a seeded drift process, so some trainings are wasted.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

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
    ExecutionState,
    ExecutionType,
    PropertyType,
)
from graphlets.pipeline import record as rec
from graphlets.pipeline.clock import DAY_MS
from graphlets.store import MetadataStore

ARTIFACT_TYPES = {
    "Examples": ({"span": PropertyType.INT}, ArtifactBaseType.DATASET),
    "ExampleStatistics": ({"span": PropertyType.INT}, ArtifactBaseType.STATISTICS),
    "Schema": ({}, ArtifactBaseType.UNSET),
    "ExampleAnomalies": ({"span": PropertyType.INT}, ArtifactBaseType.UNSET),
    "Model": ({}, ArtifactBaseType.MODEL),
    "ModelEvaluation": ({}, ArtifactBaseType.METRICS),
    "ModelBlessing": ({}, ArtifactBaseType.UNSET),
    "PushedModel": ({}, ArtifactBaseType.UNSET),
}
EXECUTION_TYPES = (
    "ExampleGen",
    "StatisticsGen",
    "SchemaGen",
    "ExampleValidator",
    "Trainer",
    "Evaluator",
    "Pusher",
)
# Compute per step in CPU seconds: training dominates, as in the SIGMOD 2021 study.
COST = {
    "ExampleGen": 4.0,
    "StatisticsGen": 2.0,
    "SchemaGen": 0.5,
    "ExampleValidator": 0.5,
    "Trainer": 30.0,
    "Evaluator": 5.0,
    "Pusher": 0.2,
}
START_MS = 1_767_225_600_000  # 2026-01-01


@dataclass
class _Run:
    """What one pipeline remembers between spans."""

    name: str
    window: int
    examples: list[int] = field(default_factory=list)
    schema: int | None = None
    last_model: int | None = None
    pushed_model: int | None = None


@dataclass
class DemoRecorder:
    """Writes one pipeline's daily runs into a store, like a runner would."""

    store: MetadataStore
    rng: random.Random
    type_ids: dict[str, int] = field(default_factory=dict)

    def setup(self) -> None:
        """Register the TFX-named types."""
        for name, (props, base) in ARTIFACT_TYPES.items():
            t = ArtifactType(name, props, base_type=base)
            self.type_ids[name] = self.store.put_artifact_type(t)
        for name in EXECUTION_TYPES:
            self.type_ids[name] = self.store.put_execution_type(ExecutionType(name))
        for name in ("pipeline", "pipeline_run"):
            self.type_ids[name] = self.store.put_context_type(ContextType(name))

    def step(
        self,
        kind: str,
        day: int,
        ctx: list[Context],
        inputs: dict[str, list[int]],
        outputs: dict[str, tuple[str, dict[str, object]]],
        fail: bool = False,
    ) -> dict[str, int]:
        """Record one COMPLETE (or FAILED) execution with its inputs and outputs."""
        start = START_MS + day * DAY_MS + self.rng.randrange(3_600_000)
        cpu = COST[kind] * self.rng.uniform(0.8, 1.2)
        state = ExecutionState.FAILED if fail else ExecutionState.COMPLETE
        custom: dict[str, object] = {
            rec.START_TIME_MS: start,
            rec.CPU_SECONDS: round(cpu, 3),
            rec.END_TIME_MS: start + int(cpu * 1000),
        }
        if fail:
            custom[rec.ERROR] = f"{kind} crashed on span {day}"
        execution = Execution(self.type_ids[kind], last_known_state=state, custom_properties=custom)  # type: ignore[arg-type]
        pairs: list[tuple[Artifact, Event | None]] = []
        input_ids = [(k, a) for k, ids in inputs.items() for a in ids]
        existing = self.store.get_artifacts_by_id([a for _, a in input_ids])
        index: dict[str, int] = {}
        for (key, _), art in zip(input_ids, existing, strict=True):
            index[key] = index.get(key, -1) + 1
            path = (EventStep(key=key), EventStep(index=index[key]))
            pairs.append((art, Event(type=EventType.INPUT, path=path)))
        for key, (type_name, props) in outputs.items():
            declared = ARTIFACT_TYPES[type_name][0]
            art = Artifact(
                self.type_ids[type_name],
                uri=f"demo://{kind}/{day}/{key}/{self.rng.getrandbits(32):08x}",
                state=ArtifactState.ABANDONED if fail else ArtifactState.LIVE,
                properties={k: v for k, v in props.items() if k in declared},  # type: ignore[misc]
                custom_properties={k: v for k, v in props.items() if k not in declared},  # type: ignore[misc]
            )
            etype = EventType.PENDING_OUTPUT if fail else EventType.OUTPUT
            pairs.append((art, Event(type=etype, path=(EventStep(key=key),))))
        _, ids, _ = self.store.put_execution(
            execution, pairs, ctx, reuse_context_if_already_exist=True
        )
        return dict(zip(outputs, ids[len(input_ids) :], strict=True))

    def day(self, run: _Run, day: int, drift: float) -> None:
        """One span: ingest, analyse, validate, train on the window, evaluate, maybe push."""
        ctx = [
            Context(self.type_ids["pipeline"], name=run.name),
            Context(self.type_ids["pipeline_run"], name=f"{run.name}-{day:03d}"),
        ]
        ex = self.step("ExampleGen", day, ctx, {}, {"examples": ("Examples", {"span": day})})
        run.examples.append(ex["examples"])
        stats = self.step(
            "StatisticsGen",
            day,
            ctx,
            {"examples": [ex["examples"]]},
            {"statistics": ("ExampleStatistics", {"span": day})},
        )
        if run.schema is None:
            run.schema = self.step(
                "SchemaGen",
                day,
                ctx,
                {"statistics": [stats["statistics"]]},
                {"schema": ("Schema", {})},
            )["schema"]
        self.step(
            "ExampleValidator",
            day,
            ctx,
            {"statistics": [stats["statistics"]], "schema": [run.schema]},
            {"anomalies": ("ExampleAnomalies", {"span": day})},
        )
        inputs = {"examples": run.examples[-run.window :], "schema": [run.schema]}
        if run.last_model is not None:
            inputs["base_model"] = [run.last_model]
        failed = self.rng.random() < 0.04
        model = self.step("Trainer", day, ctx, inputs, {"model": ("Model", {})}, fail=failed)
        if failed:
            return
        run.last_model = model["model"]
        eval_in = {"model": [model["model"]], "examples": [ex["examples"]]}
        if run.pushed_model is not None:
            eval_in["baseline_model"] = [run.pushed_model]
        blessed = int(run.pushed_model is None or self.rng.random() > drift)
        ev = self.step(
            "Evaluator",
            day,
            ctx,
            eval_in,
            {
                "evaluation": ("ModelEvaluation", {}),
                "blessing": ("ModelBlessing", {"blessed": blessed}),
            },
        )
        if blessed:
            self.step(
                "Pusher",
                day,
                ctx,
                {"model": [model["model"]], "model_blessing": [ev["blessing"]]},
                {"pushed_model": ("PushedModel", {"pushed": 1})},
            )
            run.pushed_model = model["model"]


def record_history(
    store: MetadataStore,
    days: int = 30,
    pipelines: int = 2,
    seed: int = 7,
    advance: Callable[[int], None] | None = None,
) -> int:
    """Record ``days`` daily runs of each pipeline; returns the number of runs recorded."""
    rng = random.Random(seed)
    recorder = DemoRecorder(store, rng)
    recorder.setup()
    runs = [_Run(f"demo-pipeline-{i}", window=3 + 2 * i) for i in range(pipelines)]
    for day in range(days):
        # drift episodes: the chance that a new model loses to production rises and falls
        drift = 0.85 if (day // 7) % 2 else 0.35
        for run in runs:
            recorder.day(run, day, drift)
        if advance:
            advance(1)
    return days * pipelines
