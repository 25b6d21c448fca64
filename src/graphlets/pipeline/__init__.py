"""The pipeline SDK and the continuous-training runner.

Write components as typed functions, wire them by name into a :class:`Pipeline`, run it with
:class:`Runner` (or ``graphlets run FILE``). See docs/howto/write-a-pipeline.md.
"""

from graphlets.pipeline.artifacts import (
    STANDARD_ARTIFACTS,
    ArtifactClass,
    ArtifactRef,
    ExampleAnomalies,
    Examples,
    ExampleStatistics,
    HyperParameters,
    InfraBlessing,
    Input,
    Inputs,
    Model,
    ModelBlessing,
    ModelEvaluation,
    ModelRun,
    Output,
    PushedModel,
    Schema,
    TransformGraph,
)
from graphlets.pipeline.component import Component, component
from graphlets.pipeline.conditions import Condition, prop
from graphlets.pipeline.dag import Pipeline
from graphlets.pipeline.executors import (
    DaskExecutor,
    Executor,
    InlineExecutor,
    ProcessExecutor,
    make_executor,
)
from graphlets.pipeline.loader import load_pipeline
from graphlets.pipeline.resolvers import (
    ResolveContext,
    Resolver,
    latest_artifact,
    latest_span,
    previous,
    rolling_window,
    this_run,
)
from graphlets.pipeline.runner import Runner, RunResult
from graphlets.pipeline.session import NodeOutcome, RunOptions
from graphlets.pipeline.spans import SpanFiles, SpanValue, parse_span, parse_span_range
from graphlets.pipeline.tracking import log_metric, log_metrics, log_param

__all__ = [
    "STANDARD_ARTIFACTS",
    "ArtifactClass",
    "ArtifactRef",
    "Component",
    "Condition",
    "DaskExecutor",
    "ExampleAnomalies",
    "ExampleStatistics",
    "Examples",
    "Executor",
    "HyperParameters",
    "InfraBlessing",
    "InlineExecutor",
    "Input",
    "Inputs",
    "Model",
    "ModelBlessing",
    "ModelEvaluation",
    "ModelRun",
    "NodeOutcome",
    "Output",
    "Pipeline",
    "ProcessExecutor",
    "PushedModel",
    "ResolveContext",
    "Resolver",
    "RunOptions",
    "RunResult",
    "Runner",
    "Schema",
    "SpanFiles",
    "SpanValue",
    "TransformGraph",
    "component",
    "latest_artifact",
    "latest_span",
    "load_pipeline",
    "log_metric",
    "log_metrics",
    "log_param",
    "make_executor",
    "parse_span",
    "parse_span_range",
    "previous",
    "prop",
    "rolling_window",
    "this_run",
]
