"""Run small real TFX 1.16 pipelines with LocalDagRunner into SQLite MLMD stores (test fixtures).

Run with the separate TFX environment (see README.md), never with the project's venv:

    /work/tfxenv/bin/python scripts/tfx_fixtures/make_fixture.py churn --out /tmp/tfx_runs

Each fixture writes seeded CSV spans itself (no downloads), runs the pipeline once per span, and
copies only the metadata file to tests/fixtures/tfx/<name>.sqlite (``--copy-to``).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import time
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # TFMA and the Trainer share Keras 2
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tfx import v1 as tfx

HERE = Path(__file__).resolve().parent
MODULE = str(HERE / "trainer_module.py")
BEAM_ARGS = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]
ROWS = 240


def write_span(data: Path, span: int, *, random_labels: bool = False) -> None:
    """Write span-<span>/data.csv: label = x1 + x2 > 0, or coin flips for a 'bad' span."""
    rng = random.Random(1000 + span)
    folder = data / f"span-{span}"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "data.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["x1", "x2", "label"])
        for _ in range(ROWS):
            x1, x2 = rng.gauss(0, 1), rng.gauss(0, 1)
            label = rng.randint(0, 1) if random_labels else int(x1 + x2 > 0)
            w.writerow([f"{x1:.4f}", f"{x2:.4f}", label])


def example_gen(data: Path) -> tfx.components.CsvExampleGen:
    """CsvExampleGen over span-{SPAN}/ folders: each run ingests the latest span."""
    cfg = tfx.proto.Input(
        splits=[tfx.proto.Input.Split(name="single_split", pattern="span-{SPAN}/*")]
    )
    return tfx.components.CsvExampleGen(input_base=str(data), input_config=cfg)


def trainer(examples, schema, base_model=None) -> tfx.components.Trainer:
    return tfx.components.Trainer(
        module_file=MODULE,
        examples=examples,
        schema=schema,
        base_model=base_model,
        train_args=tfx.proto.TrainArgs(num_steps=10),
        eval_args=tfx.proto.EvalArgs(num_steps=5),
    )


def evaluator(examples, model, baseline) -> tfx.components.Evaluator:
    """Evaluator blessing a model with binary accuracy >= 0.7 (random-label spans fail)."""
    import tensorflow_model_analysis as tfma

    threshold = tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(lower_bound={"value": 0.7})
    )
    eval_config = tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(signature_name="serving_default", label_key="label")],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[
            tfma.MetricsSpec(
                metrics=[tfma.MetricConfig(class_name="BinaryAccuracy", threshold=threshold)]
            )
        ],
    )
    return tfx.components.Evaluator(
        examples=examples, model=model, baseline_model=baseline, eval_config=eval_config
    )


def pusher(model, blessing, serving: Path) -> tfx.components.Pusher:
    dest = tfx.proto.PushDestination(
        filesystem=tfx.proto.PushDestination.Filesystem(base_directory=str(serving))
    )
    return tfx.components.Pusher(model=model, model_blessing=blessing, push_destination=dest)


def churn_components(root: Path, data: Path, warm_start: bool) -> list:
    """ExampleGen -> stats -> schema -> validator -> [latest model] -> Trainer -> Evaluator
    (baseline: latest blessed model) -> Pusher."""
    gen = example_gen(data)
    stats = tfx.components.StatisticsGen(examples=gen.outputs["examples"])
    schema = tfx.components.SchemaGen(statistics=stats.outputs["statistics"])
    validator = tfx.components.ExampleValidator(
        statistics=stats.outputs["statistics"], schema=schema.outputs["schema"]
    )
    parts = [gen, stats, schema, validator]
    base = None
    if warm_start:
        latest = tfx.dsl.Resolver(
            strategy_class=tfx.dsl.experimental.LatestArtifactStrategy,
            model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        ).with_id("latest_model_resolver")
        parts.append(latest)
        base = latest.outputs["model"]
    train = trainer(gen.outputs["examples"], schema.outputs["schema"], base)
    blessed = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
    ).with_id("latest_blessed_model_resolver")
    ev = evaluator(gen.outputs["examples"], train.outputs["model"], blessed.outputs["model"])
    push = pusher(train.outputs["model"], ev.outputs["blessing"], root / "serving")
    return [*parts, train, blessed, ev, push]


def spans_components(root: Path, data: Path, window: int) -> list:
    """ExampleGen (latest span) -> stats -> schema; a SpanRange resolver hands the Trainer the
    latest ``window`` spans; Pusher without blessing (every training is pushed)."""
    gen = example_gen(data)
    stats = tfx.components.StatisticsGen(examples=gen.outputs["examples"])
    schema = tfx.components.SchemaGen(statistics=stats.outputs["statistics"])
    rolling = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.SpanRangeStrategy,
        config={
            "range_config": tfx.proto.RangeConfig(
                rolling_range=tfx.proto.RollingRange(num_spans=window)
            )
        },
        examples=tfx.dsl.Channel(
            type=tfx.types.standard_artifacts.Examples, producer_component_id=gen.id
        ),
    ).with_id("span_window_resolver")
    train = trainer(rolling.outputs["examples"], schema.outputs["schema"])
    dest = tfx.proto.PushDestination(
        filesystem=tfx.proto.PushDestination.Filesystem(base_directory=str(root / "serving"))
    )
    push = tfx.components.Pusher(model=train.outputs["model"], push_destination=dest)
    return [gen, stats, schema, rolling, train, push]


def run_once(name: str, root: Path, components: list, cache: bool) -> float:
    """One LocalDagRunner run; returns its wall seconds."""
    p = tfx.dsl.Pipeline(
        pipeline_name=name,
        pipeline_root=str(root / "pipeline_root"),
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            str(root / "metadata.sqlite")
        ),
        components=components,
        enable_cache=cache,
        beam_pipeline_args=BEAM_ARGS,
    )
    t0 = time.perf_counter()
    tfx.orchestration.LocalDagRunner().run(p)
    return time.perf_counter() - t0


# name -> list of (span to write before the run or None, random labels, enable_cache)
PLANS = {
    # 9 runs, a new span each; spans 4 and 7 have coin-flip labels so their models fail the
    # Evaluator's accuracy threshold and the Pusher does not push them.
    "churn": [(s, s in (4, 7), False) for s in range(1, 10)],
    # No warm start; run 2 repeats run 1 on the same span with caching on; run 3 adds span 2.
    "cached": [(1, False, True), (None, False, True), (2, False, True)],
    # One new span per run; the Trainer reads a rolling window of the latest 3 spans.
    "spans": [(s, False, False) for s in range(1, 6)],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("name", choices=sorted(PLANS))
    ap.add_argument("--out", type=Path, default=Path("/tmp/tfx_runs"))
    ap.add_argument("--copy-to", type=Path, default=HERE.parents[1] / "tests/fixtures/tfx")
    args = ap.parse_args()
    root = args.out / args.name
    if root.exists():
        shutil.rmtree(root)
    data = root / "data"
    data.mkdir(parents=True)
    started = time.perf_counter()
    for i, (span, bad, cache) in enumerate(PLANS[args.name], 1):
        if span is not None:
            write_span(data, span, random_labels=bad)
        if args.name == "spans":
            parts = spans_components(root, data, window=3)
        else:
            parts = churn_components(root, data, warm_start=args.name == "churn")
        secs = run_once(f"{args.name}", root, parts, cache)
        print(
            f"[{args.name}] run {i} (span {span}, random labels {bad}, cache {cache}): {secs:.1f}s",
            flush=True,
        )
    print(f"[{args.name}] total {time.perf_counter() - started:.1f}s", flush=True)
    args.copy_to.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(root / "metadata.sqlite", args.copy_to / f"{args.name}.sqlite")
    print(f"[{args.name}] copied to {args.copy_to / (args.name + '.sqlite')}")


if __name__ == "__main__":
    main()
