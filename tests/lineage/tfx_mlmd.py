"""A store written by ml-metadata 1.17.1 the way TFX writes one.

TFX's shapes: fully qualified execution type names, ``pipeline`` / ``pipeline_run`` / ``node``
contexts, event paths ``[key, index]``, an execution registered RUNNING with its inputs and
published COMPLETE with its outputs (so MLMD's create and update times differ), ``span`` declared
on Examples, ``blessed`` a custom property of ModelBlessing, ``pushed`` a custom property of
PushedModel, a cache hit published CACHED with OUTPUT events to the existing artifacts, and a
failed execution whose output stays behind a PENDING_OUTPUT event, ABANDONED. Import it after
``pytest.importorskip("ml_metadata")`` (ml-metadata has no wheel past Python 3.11).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2 as pb

PIPELINE = "tfx_pipeline"
PREFIX = {
    "CsvExampleGen": "tfx.components.example_gen.csv_example_gen.component.",
    "StatisticsGen": "tfx.components.statistics_gen.component.",
    "SchemaGen": "tfx.components.schema_gen.component.",
    "Transform": "tfx.components.transform.component.",
    "Trainer": "tfx.components.trainer.component.",
    "Evaluator": "tfx.components.evaluator.component.",
    "Pusher": "tfx.components.pusher.component.",
}
ARTIFACTS = (
    "Examples", "ExampleStatistics", "Schema", "TransformGraph", "Model", "ModelRun",
    "ModelEvaluation", "ModelBlessing", "PushedModel",
)  # fmt: skip


@dataclass
class TfxStore:
    """ml-metadata store plus the ids it wrote, by name (``Trainer@1``, ``model@2``...)."""

    store: Any
    types: dict[str, int] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def execute(
        self,
        comp: str,
        run: int,
        inputs: dict[str, list[int]],
        outputs: dict[str, str | tuple[str, dict[str, Any]]],
        *,
        state: str = "COMPLETE",
        reuse: dict[str, int] | None = None,
    ) -> dict[str, int]:
        """Register ``comp`` RUNNING with its inputs, then publish it with its outputs."""
        ctxs = self._contexts(comp, run)
        ex = pb.Execution(type_id=self.types[comp], last_known_state=pb.Execution.RUNNING)
        ins = [(self._ref(a), _event(pb.Event.INPUT, k, i)) for k, v in inputs.items()
               for i, a in enumerate(v)]  # fmt: skip
        eid, _, _ = self.store.put_execution(ex, ins, ctxs, reuse_context_if_already_exist=True)
        time.sleep(0.002)
        ex = self.store.get_executions_by_id([eid])[0]
        ex.last_known_state = getattr(pb.Execution, state)
        outs = [
            (self._new(spec, state), _event(_out_type(state), key, 0))
            for key, spec in outputs.items()
        ]
        outs += [(self._ref(a), _event(pb.Event.OUTPUT, k, 0)) for k, a in (reuse or {}).items()]
        _, art_ids, _ = self.store.put_execution(
            ex, outs, ctxs, reuse_context_if_already_exist=True
        )
        made = dict(zip([*outputs, *(reuse or {})], art_ids, strict=True))
        self.ids[f"{comp}@{run}"] = eid
        self.ids.update({f"{k}@{run}": v for k, v in made.items()})
        return made

    def _contexts(self, comp: str, run: int) -> list[Any]:
        names = [("pipeline", PIPELINE), ("pipeline_run", f"run-{run}"),
                 ("node", f"{PIPELINE}.{comp}")]  # fmt: skip
        return [pb.Context(type_id=self.types[t], name=n) for t, n in names]

    def _ref(self, aid: int) -> Any:
        return self.store.get_artifacts_by_id([aid])[0]

    def _new(self, spec: str | tuple[str, dict[str, Any]], state: str) -> Any:
        name, custom = (spec, {}) if isinstance(spec, str) else spec
        live = pb.Artifact.LIVE if state == "COMPLETE" else pb.Artifact.ABANDONED
        art = pb.Artifact(type_id=self.types[name], uri=f"/tfx/{name}/{time.time_ns()}", state=live)
        for k, v in custom.items():
            target = art.properties if k == "span" else art.custom_properties
            target[k].int_value = v
        return art


def _event(kind: int, key: str, index: int) -> Any:
    ev = pb.Event(type=kind)
    ev.path.steps.add().key = key
    ev.path.steps.add().index = index
    return ev


def _out_type(state: str) -> int:
    return pb.Event.OUTPUT if state == "COMPLETE" else pb.Event.PENDING_OUTPUT


def open_mlmd(path: Path) -> Any:
    """An ml-metadata store on a SQLite file (created when missing)."""
    cfg = pb.ConnectionConfig()
    cfg.sqlite.filename_uri = str(path)
    cfg.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    return metadata_store.MetadataStore(cfg)


def write_tfx_store(path: Path) -> TfxStore:
    """Three TFX runs: pushed; warm-started, unblessed (``pushed`` = 0); Trainer failed."""
    t = TfxStore(open_mlmd(path))
    for name in ARTIFACTS:
        at = pb.ArtifactType(name=name)
        if name in ("Examples", "ExampleStatistics"):
            at.properties["span"] = pb.INT
        t.types[name] = t.store.put_artifact_type(at)
    for comp, prefix in PREFIX.items():
        t.types[comp] = t.store.put_execution_type(pb.ExecutionType(name=prefix + comp))
    for name in ("pipeline", "pipeline_run", "node"):
        t.types[name] = t.store.put_context_type(pb.ContextType(name=name))
    ex1 = _ingest(t, 1)
    schema = t.execute(
        "SchemaGen", 1, {"statistics": [t.ids["statistics@1"]]}, {"schema": "Schema"}
    )
    _train_eval_push(t, 1, [ex1], schema["schema"], None, blessed=1)
    ex2 = _ingest(t, 2)
    t.execute(
        "SchemaGen", 2, {"statistics": [t.ids["statistics@1"]]}, {}, state="CACHED",
        reuse={"schema": schema["schema"]},
    )  # fmt: skip
    _train_eval_push(t, 2, [ex1, ex2], schema["schema"], t.ids["model@1"], blessed=0)
    ex3 = t.execute("CsvExampleGen", 3, {}, {"examples": ("Examples", {"span": 3})})["examples"]
    tg = t.execute(
        "Transform", 3, {"examples": [ex2, ex3], "schema": [schema["schema"]]},
        {"transform_graph": "TransformGraph"},
    )["transform_graph"]  # fmt: skip
    t.execute(
        "Trainer", 3, {"examples": [ex2, ex3], "transform_graph": [tg],
                       "base_model": [t.ids["model@2"]]},
        {"model": "Model"}, state="FAILED",
    )  # fmt: skip
    return t


def _ingest(t: TfxStore, run: int) -> int:
    ex = t.execute("CsvExampleGen", run, {}, {"examples": ("Examples", {"span": run})})["examples"]
    t.execute(
        "StatisticsGen", run, {"examples": [ex]},
        {"statistics": ("ExampleStatistics", {"span": run})},
    )  # fmt: skip
    return int(ex)


def _train_eval_push(
    t: TfxStore, run: int, examples: list[int], schema: int, previous: int | None, blessed: int
) -> None:
    tg = t.execute(
        "Transform", run, {"examples": examples, "schema": [schema]},
        {"transform_graph": "TransformGraph"},
    )["transform_graph"]  # fmt: skip
    ins = {"examples": examples, "transform_graph": [tg], "schema": [schema]}
    if previous is not None:
        ins["base_model"] = [previous]
    model = t.execute("Trainer", run, ins, {"model": "Model", "model_run": "ModelRun"})["model"]
    eins = {"examples": examples[-1:], "model": [model]}
    if previous is not None:
        eins["baseline_model"] = [previous]
    bl = t.execute(
        "Evaluator", run, eins,
        {"evaluation": "ModelEvaluation", "blessing": ("ModelBlessing", {"blessed": blessed})},
    )["blessing"]  # fmt: skip
    t.execute(
        "Pusher", run, {"model": [model], "model_blessing": [bl]},
        {"pushed_model": ("PushedModel", {"pushed": blessed})},
    )  # fmt: skip


@dataclass(frozen=True)
class Written:
    """What :func:`write_tfx_store` wrote, as plain values a child process can hand back."""

    ids: dict[str, int]
    executions: list[tuple[int, int, int]]  # id, create time, last update time (ms)


def write_tfx_store_plain(path: Path) -> Written:
    """:func:`write_tfx_store`, returning plain values: call it through ``tests.mlmd_proc.in_child``
    so that the test process never opens the file through ml-metadata's own SQLite."""
    t = write_tfx_store(path)
    execs = [
        (int(e.id), int(e.create_time_since_epoch), int(e.last_update_time_since_epoch))
        for e in t.store.get_executions()
    ]
    return Written(dict(t.ids), execs)
