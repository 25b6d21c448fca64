"""A minimal, fast generator of TFX-shaped MLMD stores, for the graphlet benchmarks.

    .venv/bin/python bench/tfx_gen.py /tmp/fleet.sqlite --pipelines 300 --models 150

Until the simulator (issue 7) lands, this writes the shape a fleet of TFX pipelines leaves in
MLMD, with raw rows through graphlets' BulkWriter (one transaction, ``executemany``), so a
paper-scale store (3000 pipelines, ~450,000 models, ~3.8M executions, ~90M rows) takes minutes.

One run of a pipeline (one span), with TFX's type names, event keys and properties:

    CsvExampleGen -> Examples(span)
    StatisticsGen(examples) -> ExampleStatistics(span)
    SchemaGen(statistics of span 0) -> Schema   (run 0 COMPLETE; later runs CACHED, re-emitting)
    ExampleValidator(statistics, schema) -> ExampleAnomalies
    Transform(examples of the last W spans, schema) -> TransformGraph
    Trainer(examples x W, transform_graph, schema, base_model = previous model) -> Model, ModelRun
    Evaluator(examples, model, baseline_model = latest blessed) -> ModelEvaluation, ModelBlessing
    Pusher(model, model_blessing) -> PushedModel(custom pushed = blessed)

Per pipeline: models ~ lognormal (mean ``--models``), window W in {1, 3, 7, 7, 14}, a blessing rate,
and a run period (hourly to weekly) within a 4-month window. Per run, with small probabilities:
ExampleGen fails (run stops), the Trainer fails (ABANDONED model behind PENDING_OUTPUT) or is
skipped (CANCELED with ``skip_reason``), the Evaluator fails; a pipeline's newest run is still
pending (no Evaluator yet). Each execution has MLMD create/update times and a ``cpu_seconds`` custom
property. Contexts: ``pipeline``, ``pipeline_run`` and ``node``, with associations and attributions.
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from graphlets.model import ArtifactType, ContextType, ExecutionType, PropertyType
from graphlets.store import MetadataStore
from graphlets.store.bulk import BulkWriter

T0_MS = 1_609_459_200_000  # 2021-01-01
FOUR_MONTHS_MS = 120 * 86_400_000
BYTES_PER_RUN = 10_000  # measured: SQLite file size / runs, indexes included
COMPONENTS = {
    "ExampleGen": "tfx.components.example_gen.csv_example_gen.component.CsvExampleGen",
    "StatisticsGen": "tfx.components.statistics_gen.component.StatisticsGen",
    "SchemaGen": "tfx.components.schema_gen.component.SchemaGen",
    "ExampleValidator": "tfx.components.example_validator.component.ExampleValidator",
    "Transform": "tfx.components.transform.component.Transform",
    "Trainer": "tfx.components.trainer.component.Trainer",
    "Evaluator": "tfx.components.evaluator.component.Evaluator",
    "Pusher": "tfx.components.pusher.component.Pusher",
}
# Seconds of compute per component (mean); each execution draws around it.
SECONDS = {
    "ExampleGen": 60, "StatisticsGen": 40, "SchemaGen": 5, "ExampleValidator": 10,
    "Transform": 120, "Trainer": 600, "Evaluator": 90, "Pusher": 5,
}  # fmt: skip
ARTIFACTS = {
    "Examples": {"span": PropertyType.INT, "version": PropertyType.INT,
                 "split_names": PropertyType.STRING},
    "ExampleStatistics": {"span": PropertyType.INT, "split_names": PropertyType.STRING},
    "Schema": {}, "ExampleAnomalies": {"span": PropertyType.INT}, "TransformGraph": {},
    "Model": {}, "ModelRun": {}, "ModelEvaluation": {}, "ModelBlessing": {}, "PushedModel": {},
}  # fmt: skip
COMPLETE, FAILED, CACHED, CANCELED = 3, 4, 5, 6
LIVE, ABANDONED = 2, 5
INPUT, OUTPUT, PENDING_OUTPUT = 3, 4, 7
P_EXAMPLEGEN_FAIL, P_TRAINER_FAIL, P_SKIP, P_EVAL_FAIL = 0.01, 0.03, 0.02, 0.02


@dataclass
class Counts:
    """What was generated."""

    pipelines: int = 0
    runs: int = 0
    models: int = 0
    executions: int = 0
    artifacts: int = 0
    events: int = 0
    rows: int = 0
    seconds: float = 0.0
    model_ids: list[int] = field(default_factory=list)


@dataclass
class _Ids:
    nxt: dict[str, int]

    def take(self, table: str) -> int:
        i = self.nxt[table]
        self.nxt[table] = i + 1
        return i


class _Rows:
    """Rows per table, flushed through the bulk writer in large batches."""

    COLUMNS: ClassVar[dict[str, tuple[str, ...]]] = {
        "execution": ("id", "type_id", "last_known_state", "name", "create_time_since_epoch",
                      "last_update_time_since_epoch"),
        "executionproperty": ("execution_id", "name", "is_custom_property", "double_value"),
        "artifact": ("id", "type_id", "uri", "state", "create_time_since_epoch",
                     "last_update_time_since_epoch"),
        "artifactproperty": ("artifact_id", "name", "is_custom_property", "int_value",
                             "string_value"),
        "event": ("id", "artifact_id", "execution_id", "type", "milliseconds_since_epoch"),
        "eventpath": ("event_id", "is_index_step", "step_index", "step_key"),
        "context": ("id", "type_id", "name", "create_time_since_epoch",
                    "last_update_time_since_epoch"),
        "association": ("context_id", "execution_id"),
        "attribution": ("context_id", "artifact_id"),
    }  # fmt: skip

    def __init__(self, writer: BulkWriter) -> None:
        self.w = writer
        self.rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in self.COLUMNS}
        self.total = 0

    def flush(self) -> None:
        for table, rows in self.rows.items():
            if rows:
                self.w.write(table, self.COLUMNS[table], rows)
                self.total += len(rows)
                rows.clear()

    @property
    def pending(self) -> int:
        return sum(len(r) for r in self.rows.values())


def free_disk_ok(path: Path, runs: int) -> tuple[bool, int, int]:
    """(enough space?, bytes needed, bytes free) for a store of ``runs`` runs at ``path``."""
    need = runs * BYTES_PER_RUN * 12 // 10
    free = shutil.disk_usage(path.parent).free
    return free >= need, need, free


def generate(
    path: Path,
    pipelines: int,
    models: float,
    *,
    seed: int = 0,
    on_pipeline: Callable[[int, Counts], None] | None = None,
) -> Counts:
    """Write a new store at ``path`` (removed first if it exists)."""
    t0 = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    rng = random.Random(seed)
    plans = [_plan(rng, p, models) for p in range(pipelines)]
    counts = Counts(pipelines=pipelines)
    with MetadataStore(url, create=True) as store:
        types = _types(store)
        with BulkWriter(store) as w:
            ids = _reserve(w, plans, pipelines)
            rows = _Rows(w)
            for plan in plans:
                _pipeline(rows, ids, types, plan, counts)
                if rows.pending > 500_000:
                    rows.flush()
                if on_pipeline:
                    on_pipeline(plan["p"], counts)
            rows.flush()
            counts.rows = rows.total
    counts.seconds = time.perf_counter() - t0
    return counts


def _plan(rng: random.Random, p: int, models: float) -> dict[str, Any]:
    sigma = 1.0
    runs = max(2, min(int(rng.lognormvariate(math.log(models) - sigma**2 / 2, sigma)), 5000))
    period = rng.choice([3_600_000, 6 * 3_600_000, 86_400_000, 86_400_000, 7 * 86_400_000])
    period = min(period, FOUR_MONTHS_MS // runs)
    start = T0_MS + rng.randrange(max(1, FOUR_MONTHS_MS - runs * period))
    return {
        "p": p,
        "runs": runs,
        "window": rng.choice([1, 3, 7, 7, 14]),
        "bless": rng.uniform(0.4, 0.95),
        "period": period,
        "start": start,
        "seed": rng.randrange(2**31),
    }


def _types(store: MetadataStore) -> dict[str, int]:
    t: dict[str, int] = {}
    for name, props in ARTIFACTS.items():
        t[name] = store.put_artifact_type(ArtifactType(name, props))
    for short, full in COMPONENTS.items():
        t[short] = store.put_execution_type(ExecutionType(full))
    for name in ("pipeline", "pipeline_run", "node"):
        t[name] = store.put_context_type(ContextType(name))
    return t


def _reserve(w: BulkWriter, plans: list[dict[str, Any]], pipelines: int) -> _Ids:
    runs = sum(p["runs"] for p in plans)
    events = sum(p["runs"] * (40 + 2 * p["window"]) for p in plans)
    return _Ids(
        {
            "execution": w.reserve("execution", runs * 8),
            "artifact": w.reserve("artifact", runs * 10 + pipelines),
            "event": w.reserve("event", events),
            "context": w.reserve("context", runs + pipelines * (1 + len(COMPONENTS))),
        }
    )


class _Run:
    """Emits the rows of one pipeline run."""

    def __init__(self, rows: _Rows, ids: _Ids, types: dict[str, int], ctx: list[int]) -> None:
        self.r, self.ids, self.types, self.ctx = rows.rows, ids, types, ctx

    def execution(
        self, comp: str, state: int, t: int, seconds: float, node_ctx: int, run_ctx: int
    ) -> int:
        eid = self.ids.take("execution")
        dur = int(seconds * 1000)
        self.r["execution"].append((eid, self.types[comp], state, None, t, t + dur))
        self.r["executionproperty"].append((eid, "cpu_seconds", 1, seconds))
        for c in (self.ctx[0], run_ctx, node_ctx):
            self.r["association"].append((c, eid))
        return eid

    def artifact(
        self, tname: str, t: int, state: int, run_ctx: int, node_ctx: int, props: dict[str, Any]
    ) -> int:
        aid = self.ids.take("artifact")
        self.r["artifact"].append((aid, self.types[tname], f"/fleet/{tname}/{aid}", state, t, t))
        for name, v in props.items():
            custom = name not in ARTIFACTS[tname]
            row = (aid, name, int(custom), v, None) if isinstance(v, int) else (
                aid, name, int(custom), None, v)  # fmt: skip
            self.r["artifactproperty"].append(row)
        for c in (self.ctx[0], run_ctx, node_ctx):
            self.r["attribution"].append((c, aid))
        return aid

    def event(self, aid: int, eid: int, kind: int, key: str, t: int, index: int = 0) -> None:
        ev = self.ids.take("event")
        self.r["event"].append((ev, aid, eid, kind, t))
        self.r["eventpath"].append((ev, 0, None, key))
        self.r["eventpath"].append((ev, 1, index, None))


def _pipeline(
    rows: _Rows, ids: _Ids, types: dict[str, int], plan: dict[str, Any], counts: Counts
) -> None:
    rng = random.Random(plan["seed"])
    name = f"pipeline-{plan['p']:05d}"
    t0 = plan["start"]
    ctx = [ids.take("context")]
    rows.rows["context"].append((ctx[0], types["pipeline"], name, t0, t0))
    nodes = {}
    for comp in COMPONENTS:
        nodes[comp] = ids.take("context")
        rows.rows["context"].append((nodes[comp], types["node"], f"{name}.{comp}", t0, t0))
    st: dict[str, Any] = {"examples": [], "stats0": None, "schema": None, "model": None,
                          "blessed": None}  # fmt: skip
    run = _Run(rows, ids, types, ctx)
    for k in range(plan["runs"]):
        _one_run(run, rng, plan, k, nodes, st, counts)
    counts.pipelines = max(counts.pipelines, plan["p"] + 1)


def _one_run(
    run: _Run,
    rng: random.Random,
    plan: dict[str, Any],
    k: int,
    nodes: dict[str, int],
    st: dict[str, Any],
    counts: Counts,
) -> None:
    t = plan["start"] + k * plan["period"]
    rc = run.ids.take("context")
    run.r["context"].append((rc, run.types["pipeline_run"], f"p{plan['p']}-run-{k}", t, t))
    counts.runs += 1

    def ex(comp: str, state: int = COMPLETE, scale: float = 1.0) -> tuple[int, int]:
        nonlocal t
        sec = SECONDS[comp] * scale * rng.uniform(0.5, 1.5)
        eid = run.execution(comp, state, t, sec, nodes[comp], rc)
        t += int(sec * 1000) + 1000
        counts.executions += 1
        return eid, t

    def art(tname: str, comp: str, props: dict[str, Any] | None = None, state: int = LIVE) -> int:
        counts.artifacts += 1
        return run.artifact(tname, t, state, rc, nodes[comp], props or {})

    # ingest and data validation
    if rng.random() < P_EXAMPLEGEN_FAIL:
        ex("ExampleGen", FAILED)
        return
    eg, _ = ex("ExampleGen")
    examples = art("Examples", "ExampleGen", {"span": k, "version": 0, "split_names": "train,eval"})
    run.event(examples, eg, OUTPUT, "examples", t)
    st["examples"] = (st["examples"] + [examples])[-plan["window"] :]
    sg, _ = ex("StatisticsGen")
    run.event(examples, sg, INPUT, "examples", t)
    stats = art("ExampleStatistics", "StatisticsGen", {"span": k, "split_names": "train,eval"})
    run.event(stats, sg, OUTPUT, "statistics", t)
    if st["schema"] is None:
        sch, _ = ex("SchemaGen")
        st["stats0"] = stats
        st["schema"] = art("Schema", "SchemaGen")
    else:
        sch, _ = ex("SchemaGen", CACHED, scale=0.01)
    run.event(st["stats0"], sch, INPUT, "statistics", t)
    run.event(st["schema"], sch, OUTPUT, "schema", t)
    val, _ = ex("ExampleValidator")
    run.event(stats, val, INPUT, "statistics", t)
    run.event(st["schema"], val, INPUT, "schema", t)
    run.event(art("ExampleAnomalies", "ExampleValidator", {"span": k}), val, OUTPUT, "anomalies", t)
    # transform and training
    tr, _ = ex("Transform", scale=len(st["examples"]) ** 0.5)
    for i, e in enumerate(st["examples"]):
        run.event(e, tr, INPUT, "examples", t, i)
    run.event(st["schema"], tr, INPUT, "schema", t)
    graph = art("TransformGraph", "Transform")
    run.event(graph, tr, OUTPUT, "transform_graph", t)
    _train_and_after(run, rng, plan, k, st, counts, ex, art, graph)


def _train_and_after(
    run: _Run,
    rng: random.Random,
    plan: dict[str, Any],
    k: int,
    st: dict[str, Any],
    counts: Counts,
    ex: Callable[..., tuple[int, int]],
    art: Callable[..., int],
    graph: int,
) -> None:
    roll = rng.random()
    if roll < P_SKIP:
        ex("Trainer", CANCELED, scale=0.0)
        return  # skip_reason would be a string property; the state is what is counted
    state = FAILED if roll < P_SKIP + P_TRAINER_FAIL else COMPLETE
    trainer, t = ex("Trainer", state, scale=0.3 if state == FAILED else 1.0)
    ins = [(e, "examples", i) for i, e in enumerate(st["examples"])]
    ins += [(graph, "transform_graph", 0), (st["schema"], "schema", 0)]
    if st["model"] is not None:
        ins.append((st["model"], "base_model", 0))
    for aid, key, i in ins:
        run.event(aid, trainer, INPUT, key, t, i)
    if state == FAILED:
        run.event(art("Model", "Trainer", state=ABANDONED), trainer, PENDING_OUTPUT, "model", t)
        return
    model = art("Model", "Trainer")
    run.event(model, trainer, OUTPUT, "model", t)
    run.event(art("ModelRun", "Trainer"), trainer, OUTPUT, "model_run", t)
    counts.models += 1
    counts.model_ids.append(model)
    st["model"] = model
    if k == plan["runs"] - 1:
        return  # the newest run: evaluation has not happened yet
    failed = rng.random() < P_EVAL_FAIL
    ev, t = ex("Evaluator", FAILED if failed else COMPLETE)
    run.event(st["examples"][-1], ev, INPUT, "examples", t)
    run.event(model, ev, INPUT, "model", t)
    if st["blessed"] is not None:
        run.event(st["blessed"], ev, INPUT, "baseline_model", t)
    if failed:
        return
    blessed = int(rng.random() < plan["bless"])
    run.event(art("ModelEvaluation", "Evaluator"), ev, OUTPUT, "evaluation", t)
    blessing = art("ModelBlessing", "Evaluator", {"blessed": blessed})
    run.event(blessing, ev, OUTPUT, "blessing", t)
    pu, t = ex("Pusher")
    run.event(model, pu, INPUT, "model", t)
    run.event(blessing, pu, INPUT, "model_blessing", t)
    run.event(art("PushedModel", "Pusher", {"pushed": blessed}), pu, OUTPUT, "pushed_model", t)
    if blessed:
        st["blessed"] = model


def main(argv: list[str] | None = None) -> int:
    """Command line: generate one store and print what it holds."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", type=Path)
    ap.add_argument("--pipelines", type=int, default=50)
    ap.add_argument("--models", type=float, default=90.0, help="mean models per pipeline")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    runs = int(args.pipelines * args.models)
    ok, need, free = free_disk_ok(args.path, runs)
    if not ok:
        print(
            f"not enough disk: need ~{need / 1e9:.1f} GB, {free / 1e9:.1f} GB free", file=sys.stderr
        )
        return 1
    c = generate(args.path, args.pipelines, args.models, seed=args.seed)
    print(
        f"{c.pipelines} pipelines, {c.runs} runs, {c.models} models, {c.executions} executions, "
        f"{c.artifacts} artifacts, {c.rows} rows in {c.seconds:.1f} s -> {args.path}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
