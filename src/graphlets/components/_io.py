"""Helpers the standard components share: reading Examples payloads, dropping blocked spans."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import polars as pl

from graphlets.pipeline import ExampleAnomalies, Examples, Input

SPLIT = "__split__"


def read_examples(examples: Input[Examples], split: str | None = None) -> pl.DataFrame:
    """The rows of an Examples artifact (Parquet), optionally one split, without the split
    column."""
    df = pl.read_parquet(examples.local_path())
    if split is not None and SPLIT in df.columns:
        df = df.filter(pl.col(SPLIT) == split)
    return df.drop(SPLIT, strict=False)


def blocked_spans(anomalies: Iterable[Input[ExampleAnomalies]]) -> set[int]:
    """Spans whose validation blocked training (``blocking`` = 1)."""
    return {
        int(a.span)
        for a in anomalies
        if a.span is not None and int(a.properties.get("blocking", 0) or 0) == 1  # type: ignore[arg-type]
    }


def clean_window(
    examples: Sequence[Input[Examples]], anomalies: Iterable[Input[ExampleAnomalies]]
) -> list[Input[Examples]]:
    """The window's Examples minus the spans with blocking anomalies (never train on them).

    A span without a validation result counts as blocked too: unvalidated data is not used.
    """
    anomalies = list(anomalies)
    validated = {a.span for a in anomalies}
    bad = blocked_spans(anomalies)
    return [e for e in examples if e.span in validated and e.span not in bad]


def read_window(
    examples: Sequence[Input[Examples]], columns: Sequence[str] | None = None, split: str = "train"
) -> pl.DataFrame:
    """The rows of several Examples of one split, stacked (columns aligned by name)."""
    frames = [read_examples(e, split) for e in examples]
    if columns is not None:
        frames = [f.select([c for c in columns if c in f.columns]) for f in frames]
    return pl.concat(frames, how="diagonal_relaxed")
