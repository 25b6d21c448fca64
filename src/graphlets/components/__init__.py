"""The standard components (TFX's names): ExampleGen, StatisticsGen, SchemaGen, ExampleValidator,
Transform, Trainer, Evaluator, Pusher; the standard pipeline that wires them; staged rollout and
production monitoring, which use the model registry."""

from graphlets.components.evaluator import evaluator
from graphlets.components.example_gen import example_gen
from graphlets.components.example_validator import example_validator
from graphlets.components.pipeline import continuous_training
from graphlets.components.pusher import pusher
from graphlets.components.resolvers import ProductionModel, production_model
from graphlets.components.schema_gen import schema_gen
from graphlets.components.statistics_gen import statistics_gen, window_statistics
from graphlets.components.trainer import trainer
from graphlets.components.transform import transform

__all__ = [
    "ProductionModel",
    "continuous_training",
    "evaluator",
    "example_gen",
    "example_validator",
    "production_model",
    "pusher",
    "schema_gen",
    "statistics_gen",
    "trainer",
    "transform",
    "window_statistics",
]
