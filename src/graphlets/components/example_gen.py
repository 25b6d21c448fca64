"""ExampleGen: one span's CSV or Parquet file (or folder of them) -> Parquet Examples with
train/eval splits.

The split is a seeded draw per row (seed + span), so re-ingesting a span gives the same bytes, the
same content hash, and downstream cache hits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from graphlets.components._io import SPLIT
from graphlets.errors import InvalidArgumentError
from graphlets.pipeline import Examples, Output, component


def read_source(path: Path) -> pl.DataFrame:
    """A CSV or Parquet file, or every such file of a folder stacked."""
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    frames = []
    for f in files:
        if f.suffix == ".parquet":
            frames.append(pl.read_parquet(f))
        elif f.suffix in (".csv", ".txt"):
            frames.append(pl.read_csv(f, infer_schema_length=10_000))
    if not frames:
        raise InvalidArgumentError(
            f"{path} holds no .csv or .parquet file: point the pipeline's spans at the data"
        )
    return pl.concat(frames, how="diagonal_relaxed")


@component(category="process", type_name="CsvExampleGen")
def example_gen(
    span: int,
    span_path: Path | None,
    examples: Output[Examples],
    eval_fraction: float = 0.2,
    seed: int = 0,
) -> dict[str, float]:
    """Ingest the span's file into Parquet with a ``__split__`` column (train / eval)."""
    if span_path is None or not span_path.exists():
        raise InvalidArgumentError(
            f"no data file for span {span}: give the pipeline spans='DIR/span-{{span}}.csv'"
        )
    df = read_source(span_path)
    draw = np.random.default_rng([seed, int(span)]).random(df.height)
    df = df.with_columns(pl.Series(SPLIT, np.where(draw < eval_fraction, "eval", "train")))
    with examples.open() as fh:
        df.write_parquet(fh, statistics=False)
    examples.set("split_names", '["train", "eval"]')
    examples.set("row_count", df.height)
    return {"rows": float(df.height)}
