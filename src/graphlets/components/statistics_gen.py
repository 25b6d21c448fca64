"""StatisticsGen: mergeable per-feature statistics of one span (see
:mod:`graphlets.validation.stats`), so a window's statistics are merged from cached spans."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graphlets.components._io import read_examples
from graphlets.pipeline import Examples, ExampleStatistics, Input, Output, component
from graphlets.validation import compute_statistics, merge_statistics


@component(category="process", type_name="StatisticsGen")
def statistics_gen(examples: Input[Examples], statistics: Output[ExampleStatistics]) -> None:
    """Count, missing, sum, sum of squares, min, max, quantile sketch, category counts."""
    stats = compute_statistics(read_examples(examples))
    statistics.write_json(stats)
    statistics.set("split_names", '["all"]')
    statistics.set("num_rows", int(stats["num_rows"]))


def window_statistics(statistics: Iterable[Input[ExampleStatistics]]) -> dict[str, Any]:
    """Statistics of several spans, merged from their stored per-span statistics."""
    return merge_statistics([s.read_json() for s in statistics])
