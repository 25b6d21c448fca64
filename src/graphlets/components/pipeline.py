"""The standard continuous-training pipeline, wired from the standard components.

ExampleGen -> StatisticsGen -> SchemaGen -> ExampleValidator -> Transform -> Trainer -> Evaluator
-> Pusher, with the trainer on a rolling window of clean spans, warm-started from the previous
model, the evaluator against the registry's production model, and the pusher behind the blessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphlets.components.evaluator import evaluator
from graphlets.components.example_gen import example_gen
from graphlets.components.example_validator import example_validator
from graphlets.components.resolvers import production_model
from graphlets.components.schema_gen import schema_gen
from graphlets.components.statistics_gen import statistics_gen
from graphlets.components.trainer import trainer
from graphlets.components.transform import transform
from graphlets.pipeline import Component, Pipeline, SpanFiles, rolling_window


def continuous_training(
    name: str,
    spans: str | SpanFiles,
    *,
    model_name: str | None = None,
    window: int = 7,
    params: Mapping[str, Any] | None = None,
    trainer_component: Component | None = None,
    transform_component: Component | None = None,
) -> Pipeline:
    """The pipeline ``name`` over span files ``spans`` (e.g. ``"data/span-{span}.csv"``).

    Args:
        model_name: registry name the pusher registers to and the evaluator compares against
            (default: the pipeline name).
        window: spans per training window.
        params: ``"node.param"`` values (e.g. ``{"trainer.algorithm": "lightgbm"}``).
        trainer_component: a replacement trainer (e.g. ``trainer.configure(version="2", ...)``).
        transform_component: a replacement transform (the demo's "code change" incident).
    """
    from graphlets.components.pusher import pusher

    registered = model_name or name
    win = {"examples": rolling_window(window), "anomalies": rolling_window(window, "anomalies")}
    train = (trainer_component or trainer).configure(
        inputs={**win, "window_statistics": rolling_window(window, "statistics")}
    )
    nodes = [
        example_gen,
        statistics_gen,
        schema_gen,
        example_validator,
        (transform_component or transform).configure(inputs=win),
        train,
        evaluator.configure(inputs={"baseline_model": production_model(registered)}),
        pusher,
    ]
    all_params = {"pusher.model_name": registered, **dict(params or {})}
    return Pipeline(name, nodes, params=all_params, spans=spans)
