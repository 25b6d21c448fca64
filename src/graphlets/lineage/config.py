"""Every choice of the graphlet definition (DESIGN.md, "Model graphlet"), in one frozen record.

The definition is ours, not the paper's (its algorithm was not published), so each rule that
could reasonably go another way is a field here instead of a constant in the code: which artifact
types are models, what counts as a push, which input keys are not followed downstream, how shared
upstream cost is split, where cost comes from, and how execution types map to categories.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal

from graphlets.errors import InvalidArgumentError
from graphlets.model.names import END_TIME_MS, START_TIME_MS

SharingPolicy = Literal["split", "full", "first"]
SHARING_POLICIES: tuple[SharingPolicy, ...] = ("split", "full", "first")

# Component categories of Xin et al. (SIGMOD 2021), as short ids used in column names.
CATEGORIES: tuple[str, ...] = (
    "ingest",
    "data_validation",
    "transform",
    "training",
    "model_validation",
    "deployment",
    "other",
)
CATEGORY_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "ingest": "ingest",
        "data_validation": "data analysis and validation",
        "transform": "transform",
        "training": "training",
        "model_validation": "model analysis and validation",
        "deployment": "deployment",
        "other": "other",
    }
)

# (category, regular expression searched in the execution type name, case-insensitive). The first
# match wins; names may be bare (``Trainer``) or fully qualified
# (``tfx.components.trainer.component.Trainer``), hence the ``$`` anchors on the last segment.
DEFAULT_CATEGORY_RULES: tuple[tuple[str, str], ...] = (
    ("ingest", r"(ExampleGen|Ingest|Importer|ImportExamples)$"),
    (
        "data_validation",
        r"(StatisticsGen|SchemaGen|ExampleValidator|DataValidator|Statistics|Schema"
        r"|ValidateData|DataValidation)$",
    ),
    ("transform", r"(Transform|Preprocess|Preprocessor)$"),
    ("training", r"(Trainer|Tuner|Train)$"),
    ("model_validation", r"(Evaluator|InfraValidator|ModelValidator|Evaluate|ModelEvaluator)$"),
    ("deployment", r"(Pusher|Push|Deploy|Deployer|BulkInferrer)$"),
)


def _frozen(m: Mapping[str, float] | None) -> Mapping[str, float]:
    return MappingProxyType(dict(m or {}))


@dataclass(frozen=True)
class GraphletConfig:
    """The graphlet definition's knobs; the defaults are DESIGN.md's.

    Attributes:
        model_types: artifact type names that are models (anchors create one): TFX's ``Model``,
            Kubeflow Pipelines' ``system.Model``.
        model_base_type: also treat types whose MLMD base type is ``mlmd.Model`` as models
            (a custom ``KerasModel``); push types never are, although TFX gives ``PushedModel``
            that base type: a pushed copy is the push signal, not a new model.
        push_types: artifact type names whose presence downstream means a push.
        push_property: property on a push artifact that, when 0/false, says "not pushed" (TFX).
        push_execution_pattern: regex on execution type names of push steps (even when they
            wrote nothing, e.g. a CANCELED pusher).
        blessing_types: artifact types whose ``blessing_property`` = 0 means "will not push".
        blessing_property: property holding the blessing verdict.
        not_followed_keys: input keys under which a model is not followed downstream (warm start,
            evaluation baseline).
        sharing: how the cost of an execution shared by k graphlets is attributed: ``split``
            (1/k each), ``full`` (1 each) or ``first`` (all to the earliest graphlet).
        cost_properties: execution properties read as cost, first found wins (properties before
            custom properties for the same name).
        start_property / end_property: millisecond wall-clock properties for the wall-time cost.
        type_weights: multiplier of wall-time cost per execution type name or category id.
        default_weight: multiplier for types not in ``type_weights``.
        weight_property_costs: also apply weights to costs read from a cost property.
        category_rules: (category, regex) pairs, first match wins; unmatched types are ``other``.
        source_categories: categories whose executions are sources: upstream stops there.
        pipeline_context_type: context type naming the pipeline of an execution.
        node_context_type: context type naming the pipeline node of an execution (TFX and our
            runner: ``node``, named ``PIPELINE.NODE``); an input that an earlier execution of the
            consumer's own node produced is a carry-over (base schema, warm-start model) and is
            not walked upstream.
        node_properties: execution string properties naming the node when an execution has no
            node context (Kubeflow Pipelines' ``task_name``); without either, the execution
            type stands for the node.
        follow_carry_over: walk upstream through carry-over inputs too (the old behaviour: every
            run then chains to the one before, and a graphlet swallows the whole history).
        span_property: artifact property holding the data span.
        span_types: artifact types whose spans are a graphlet's input spans (empty: any type);
            TFX's ExampleStatistics carry a span too, but the data read is the Examples.
        skip_reason_property: execution property explaining a CANCELED execution.
    """

    model_types: tuple[str, ...] = ("Model", "system.Model")
    model_base_type: bool = True
    push_types: tuple[str, ...] = ("PushedModel",)
    push_property: str = "pushed"
    push_execution_pattern: str = r"(Pusher|Push|Deploy|Deployer)$"
    blessing_types: tuple[str, ...] = ("ModelBlessing", "InfraBlessing")
    blessing_property: str = "blessed"
    not_followed_keys: tuple[str, ...] = ("base_model", "baseline_model")
    sharing: SharingPolicy = "split"
    cost_properties: tuple[str, ...] = ("cost", "cost_cpu_seconds", "cpu_seconds")
    start_property: str = START_TIME_MS
    end_property: str = END_TIME_MS
    type_weights: Mapping[str, float] = field(default_factory=dict)
    default_weight: float = 1.0
    weight_property_costs: bool = False
    category_rules: tuple[tuple[str, str], ...] = DEFAULT_CATEGORY_RULES
    source_categories: tuple[str, ...] = ("ingest",)
    pipeline_context_type: str = "pipeline"
    node_context_type: str = "node"
    node_properties: tuple[str, ...] = ("task_name",)
    follow_carry_over: bool = False
    span_property: str = "span"
    span_types: tuple[str, ...] = ("Examples",)
    skip_reason_property: str = "skip_reason"

    def __post_init__(self) -> None:
        object.__setattr__(self, "type_weights", _frozen(self.type_weights))
        if self.sharing not in SHARING_POLICIES:
            raise InvalidArgumentError(
                f"sharing policy {self.sharing!r} is unknown: "
                f"use one of {', '.join(SHARING_POLICIES)}"
            )
        bad = [c for c, _ in self.category_rules if c not in CATEGORIES]
        bad += [c for c in self.source_categories if c not in CATEGORIES]
        if bad:
            raise InvalidArgumentError(
                f"component categories {bad} are unknown: use ids from {', '.join(CATEGORIES)}"
            )
        both = sorted(set(self.model_types) & set(self.push_types))
        if both:
            raise InvalidArgumentError(
                f"artifact types {both} are both model and push types: a pushed copy is the push "
                "signal, not a model; remove them from model_types or push_types"
            )
        if not self.model_types and not self.model_base_type:
            raise InvalidArgumentError(
                "no model types configured: set model_types or model_base_type=True"
            )

    def with_(self, **changes: object) -> GraphletConfig:
        """A copy with some fields changed (``config.with_(sharing="full")``)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def execution_property_names(self) -> tuple[str, ...]:
        """Numeric execution properties the loader pivots into columns."""
        return (*self.cost_properties, self.start_property, self.end_property)

    @property
    def artifact_property_names(self) -> tuple[str, ...]:
        """Numeric artifact properties the loader pivots into columns."""
        return (self.span_property, self.push_property, self.blessing_property)
