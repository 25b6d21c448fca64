"""A continuous-training pipeline of plain typed functions: customer churn, one CSV file per day.

Make some daily span files, then run the pipeline over them::

    python examples/churn_pipeline.py make-data /tmp/churn --days 14
    graphlets store init --store sqlite:////tmp/churn/store.sqlite
    graphlets run examples/churn_pipeline.py --data /tmp/churn --spans 1..14 \\
        --store sqlite:////tmp/churn/store.sqlite
    graphlets runs ls --store sqlite:////tmp/churn/store.sqlite

Each day: ingest the span's file, compute statistics, infer a schema, validate the statistics
against it, train a logistic regression on a rolling window of the last 3 days (warm-started from
the previous day's model), evaluate it on today's data against the model in production, and push it
only when it is blessed. The data drifts, and some days are noisy, so not every model is pushed.
Everything is plain Python (no numpy), so the example runs anywhere graphlets does.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import random
from pathlib import Path

from graphlets.pipeline import (
    ExampleAnomalies,
    Examples,
    ExampleStatistics,
    Input,
    Inputs,
    Model,
    ModelBlessing,
    ModelEvaluation,
    Output,
    Pipeline,
    PushedModel,
    Schema,
    component,
    latest_artifact,
    log_metric,
    previous,
    prop,
    rolling_window,
)

FEATURES = ("tenure_months", "monthly_charges", "support_calls", "usage_drop")
LABEL = "churned"
NOISY_EVERY = 5  # every fifth day the labels are noisier: the model trained on it is not pushed


# data ---------------------------------------------------------------------------------------
def make_day(day: int, rows: int, seed: int) -> str:
    """One day of synthetic customers as CSV; churn depends on the features with a slow drift."""
    rng = random.Random(seed * 100_003 + day)
    drift = 0.04 * day
    noise = 1.4 if day % NOISY_EVERY == 0 else 0.25
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*FEATURES, LABEL])
    for _ in range(rows):
        x = [rng.uniform(0, 72), rng.uniform(20, 120), rng.randint(0, 9), rng.uniform(0, 1)]
        z = -0.05 * x[0] + 0.02 * x[1] + (0.35 + drift) * x[2] + 2.5 * x[3] - 2.0
        p = 1 / (1 + math.exp(-(z + rng.gauss(0, 4 * noise))))
        writer.writerow([round(x[0], 2), round(x[1], 2), x[2], round(x[3], 3), int(p > 0.5)])
    return out.getvalue()


def read_rows(text: str) -> list[dict[str, float]]:
    """Parse a span's CSV into numeric rows, checking the header."""
    reader = csv.DictReader(io.StringIO(text))
    missing = set((*FEATURES, LABEL)) - set(reader.fieldnames or ())
    if missing:
        raise ValueError(f"span file lacks columns {sorted(missing)}")
    return [{k: float(v) for k, v in row.items()} for row in reader]


def normalise(row: dict[str, float], scale: dict[str, list[float]]) -> list[float]:
    """Features scaled by the schema's (mean, std), plus a bias term."""
    return [(row[f] - scale[f][0]) / (scale[f][1] or 1.0) for f in FEATURES] + [1.0]


def predict(weights: list[float], x: list[float]) -> float:
    """Logistic regression's probability."""
    z = sum(w * v for w, v in zip(weights, x, strict=True))
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))


# components ---------------------------------------------------------------------------------
@component(category="process")
def ingest(span: int, span_path: Path | None, examples: Output[Examples]) -> None:
    """Copy the day's file into the blob store (its bytes become the span's content hash)."""
    if span_path is None:
        raise FileNotFoundError(
            f"no file for span {span}: make data with `python examples/churn_pipeline.py "
            "make-data DIR` and pass --data DIR"
        )
    rows = read_rows(span_path.read_text())
    examples.write_file(span_path)
    examples.set("row_count", len(rows))


@component(category="process")
def statistics(examples: Input[Examples], statistics: Output[ExampleStatistics]) -> None:
    """Count, mean, std, min and max per column."""
    rows = read_rows(examples.read_text())
    stats = {}
    for col in (*FEATURES, LABEL):
        values = [r[col] for r in rows]
        mean = sum(values) / len(values)
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
        stats[col] = {
            "count": len(values),
            "mean": mean,
            "std": std,
            "min": min(values),
            "max": max(values),
        }
    statistics.write_json(stats)


@component(category="process")
def schema_gen(statistics: Input[ExampleStatistics], schema: Output[Schema]) -> None:
    """Columns and their rough ranges (rounded, so a stable day yields the same schema bytes)."""
    stats = statistics.read_json()
    schema.write_json(
        {
            col: {"min": math.floor(s["min"]), "max": math.ceil(s["max"] * 1.5)}
            for col, s in stats.items()
        }
    )


@component(category="process")
def validate(
    statistics: Input[ExampleStatistics], schema: Input[Schema], anomalies: Output[ExampleAnomalies]
) -> None:
    """Columns whose values leave the schema's ranges."""
    stats, ranges = statistics.read_json(), schema.read_json()
    found = [
        col
        for col, r in ranges.items()
        if stats[col]["min"] < r["min"] or stats[col]["max"] > r["max"]
    ]
    anomalies.write_json(found)
    anomalies.set("anomaly_count", len(found))


@component(
    category="train", inputs={"examples": rolling_window(3), "base_model": previous("model")}
)
def train(
    examples: Inputs[Examples],
    statistics: Input[ExampleStatistics],
    base_model: Input[Model] | None,
    model: Output[Model],
    epochs: int = 30,
    learning_rate: float = 0.05,
) -> dict[str, float]:
    """Logistic regression by SGD over the window, warm-started from yesterday's model."""
    stats = statistics.read_json()
    scale = {f: [stats[f]["mean"], stats[f]["std"]] for f in FEATURES}
    data = [(normalise(r, scale), r[LABEL]) for e in examples for r in read_rows(e.read_text())]
    weights = base_model.read_json()["weights"] if base_model else [0.0] * (len(FEATURES) + 1)
    rng = random.Random(len(data))
    loss = 0.0
    for _ in range(epochs):
        rng.shuffle(data)
        loss = 0.0
        for x, y in data:
            p = predict(weights, x)
            loss -= y * math.log(p + 1e-12) + (1 - y) * math.log(1 - p + 1e-12)
            weights = [w - learning_rate * (p - y) * v for w, v in zip(weights, x, strict=True)]
    model.write_json({"weights": weights, "scale": scale, "spans": examples.spans})
    return {"train_loss": loss / len(data)}


def accuracy(
    weights: list[float], scale: dict[str, list[float]], rows: list[dict[str, float]]
) -> float:
    """Share of rows the model classifies right."""
    hits = sum((predict(weights, normalise(r, scale)) > 0.5) == (r[LABEL] > 0.5) for r in rows)
    return hits / len(rows)


@component(category="evaluate", inputs={"baseline": latest_artifact("PushedModel", pushed=1)})
def evaluate(
    examples: Input[Examples],
    model: Input[Model],
    baseline: Input[PushedModel] | None,
    evaluation: Output[ModelEvaluation],
    blessing: Output[ModelBlessing],
    min_accuracy: float = 0.7,
    tolerance: float = 0.0,
) -> None:
    """Today's accuracy of the new model and of the one in production; bless if not worse."""
    rows = read_rows(examples.read_text())
    new = model.read_json()
    acc = accuracy(new["weights"], new["scale"], rows)
    base = baseline.read_json() if baseline else None
    base_acc = accuracy(base["weights"], base["scale"], rows) if base else 0.0
    blessed = acc >= min_accuracy and acc >= base_acc - tolerance
    evaluation.write_json({"accuracy": acc, "baseline_accuracy": base_acc})
    blessing.set("blessed", int(blessed))
    log_metric("accuracy", acc)
    log_metric("baseline_accuracy", base_acc)


@component(category="deploy", when=prop("blessing", "blessed") == 1)
def push(model: Input[Model], blessing: Input[ModelBlessing], pushed: Output[PushedModel]) -> None:
    """Publish the blessed model (here: a copy in the blob store marked pushed=1)."""
    pushed.write_bytes(model.read_bytes())
    pushed.set("pushed", 1)


pipeline = Pipeline(
    "churn",
    [ingest, statistics, schema_gen, validate, train, evaluate, push],
    spans="churn-data/day-{span}.csv",
)


def main() -> None:
    """``make-data DIR --days N``: write span files ``DIR/day-1.csv`` ... ``DIR/day-N.csv``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("make-data", help="write daily span files")
    make.add_argument("folder", type=Path)
    make.add_argument("--days", type=int, default=14)
    make.add_argument("--first", type=int, default=1, help="first day number")
    make.add_argument("--rows", type=int, default=400)
    make.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    for day in range(args.first, args.first + args.days):
        (args.folder / f"day-{day}.csv").write_text(make_day(day, args.rows, args.seed))
    print(json.dumps({"folder": str(args.folder), "days": args.days, "rows": args.rows}))


if __name__ == "__main__":
    main()
