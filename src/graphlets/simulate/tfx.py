"""TFX's names: the types a TFX fleet leaves in MLMD, and how the simulator registers them.

Execution types carry TFX's fully qualified component class names; artifact types are TFX's standard
artifacts with their declared properties (``span`` on the data artifacts, the Trainer's
``module_path`` and ``train_args`` execution properties); context types are ``pipeline``,
``pipeline_run`` and ``node``. ``blessed`` (ModelBlessing, InfraBlessing) and ``pushed``
(PushedModel) are custom properties, as TFX writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphlets.model import ArtifactType, ContextType, ExecutionType, PropertyType
from graphlets.store import MetadataStore

EXECUTION_TYPES = {
    "CsvExampleGen": "tfx.components.example_gen.csv_example_gen.component.CsvExampleGen",
    "BigQueryExampleGen": (
        "tfx.extensions.google_cloud_big_query.example_gen.component.BigQueryExampleGen"
    ),
    "ImportExampleGen": "tfx.components.example_gen.import_example_gen.component.ImportExampleGen",
    "StatisticsGen": "tfx.components.statistics_gen.component.StatisticsGen",
    "SchemaGen": "tfx.components.schema_gen.component.SchemaGen",
    "ExampleValidator": "tfx.components.example_validator.component.ExampleValidator",
    "Transform": "tfx.components.transform.component.Transform",
    "Trainer": "tfx.components.trainer.component.Trainer",
    "Evaluator": "tfx.components.evaluator.component.Evaluator",
    "InfraValidator": "tfx.components.infra_validator.component.InfraValidator",
    "Pusher": "tfx.components.pusher.component.Pusher",
}
EXECUTION_PROPERTIES = {
    "Trainer": {"module_path": PropertyType.STRING, "train_args": PropertyType.STRING},
}
_SPLITS = {"span": PropertyType.INT, "split_names": PropertyType.STRING}
ARTIFACT_TYPES: dict[str, dict[str, PropertyType]] = {
    "Examples": {**_SPLITS, "version": PropertyType.INT},
    "ExampleStatistics": _SPLITS,
    "Schema": {},
    "ExampleAnomalies": _SPLITS,
    "TransformGraph": {},
    "Model": {},
    "ModelRun": {},
    "ModelEvaluation": {},
    "ModelBlessing": {},
    "InfraBlessing": {},
    "PushedModel": {},
}
CONTEXT_TYPES = ("pipeline", "pipeline_run", "node")
# Output artifacts of each component: (artifact type, event key); the first is the primary one,
# written ABANDONED behind a PENDING_OUTPUT event when the execution fails, re-emitted when CACHED.
OUTPUTS: dict[str, tuple[tuple[str, str], ...]] = {
    "ExampleGen": (("Examples", "examples"),),
    "StatisticsGen": (("ExampleStatistics", "statistics"),),
    "SchemaGen": (("Schema", "schema"),),
    "ExampleValidator": (("ExampleAnomalies", "anomalies"),),
    "Transform": (("TransformGraph", "transform_graph"),),
    "Trainer": (("Model", "model"), ("ModelRun", "model_run")),
    "Evaluator": (("ModelEvaluation", "evaluation"), ("ModelBlessing", "blessing")),
    "InfraValidator": (("InfraBlessing", "blessing"),),
    "Pusher": (("PushedModel", "pushed_model"),),
}
# Every event key the simulator writes (event paths hold an index into this tuple until written).
KEYS = (
    "examples",
    "statistics",
    "schema",
    "anomalies",
    "transform_graph",
    "model",
    "model_run",
    "evaluation",
    "blessing",
    "pushed_model",
    "base_model",
    "baseline_model",
    "model_blessing",
    "infra_blessing",
)
KEY = {k: i for i, k in enumerate(KEYS)}


@dataclass(frozen=True)
class TypeIds:
    """Type ids in the store, by short name (execution types by component class name)."""

    execution: dict[str, int] = field(default_factory=dict)
    artifact: dict[str, int] = field(default_factory=dict)
    context: dict[str, int] = field(default_factory=dict)


def register_types(store: MetadataStore) -> TypeIds:
    """Create (or check) the TFX types in ``store``; returns their ids."""
    ids = TypeIds()
    for short, full in EXECUTION_TYPES.items():
        props = EXECUTION_PROPERTIES.get(short, {})
        ids.execution[short] = store.put_execution_type(ExecutionType(full, props))
    for name, aprops in ARTIFACT_TYPES.items():
        ids.artifact[name] = store.put_artifact_type(ArtifactType(name, aprops))
    for name in CONTEXT_TYPES:
        ids.context[name] = store.put_context_type(ContextType(name))
    return ids
