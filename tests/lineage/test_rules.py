"""Component categories, cost sources and weights, and config validation."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from graphlets.errors import InvalidArgumentError
from graphlets.lineage import GraphletConfig, categorize
from graphlets.lineage.cost import execution_costs, type_weights

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("tfx.components.example_gen.csv_example_gen.component.CsvExampleGen", "ingest"),
        ("ImportExampleGen", "ingest"),
        ("BigQueryExampleGen", "ingest"),
        ("ExampleGen", "ingest"),
        ("tfx.components.statistics_gen.component.StatisticsGen", "data_validation"),
        ("SchemaGen", "data_validation"),
        ("ImportSchemaGen", "data_validation"),
        ("ExampleValidator", "data_validation"),
        ("tfx.components.transform.component.Transform", "transform"),
        ("Trainer", "training"),
        ("tfx.components.tuner.component.Tuner", "training"),
        ("tfx.components.evaluator.component.Evaluator", "model_validation"),
        ("InfraValidator", "model_validation"),
        ("ModelValidator", "model_validation"),
        ("tfx.components.pusher.component.Pusher", "deployment"),
        ("BulkInferrer", "deployment"),
        ("tfx.dsl.components.common.resolver.Resolver", "other"),
        ("mlmd.Process", "other"),
    ],
)
def test_default_categories(name: str, category: str) -> None:
    assert categorize(name) == category


def test_category_rules_are_configurable() -> None:
    cfg = GraphletConfig(category_rules=(("training", r"Fit$"), ("ingest", r"Load")))
    assert (categorize("my.Fit", cfg), categorize("LoadCsv", cfg)) == ("training", "ingest")
    assert categorize("Trainer", cfg) == "other"


def _execs(**cols: list[float]) -> pl.DataFrame:
    n = len(next(iter(cols.values())))
    base = {"create_ms": [1_000] * n, "update_ms": [4_000] * n}
    names = ("cost", "cost_cpu_seconds", "cpu_seconds", "start_time_ms", "end_time_ms")
    return pl.DataFrame({**base, **{c: cols.get(c, [np.nan] * n) for c in names}})


def test_cost_sources_in_order() -> None:
    nan = np.nan
    ex = _execs(
        cost=[nan, 2.0, nan, nan],
        cost_cpu_seconds=[nan, 9.0, 3.0, nan],
        cpu_seconds=[nan, 9.0, 9.0, nan],
        start_time_ms=[nan, nan, nan, 10_000],
        end_time_ms=[nan, nan, nan, 12_500],
    )
    c = execution_costs(ex, np.ones(4), GraphletConfig())
    assert c.cost.tolist() == [3.0, 2.0, 3.0, 2.5]  # MLMD times, cost, cost_cpu_seconds, wall
    assert [c.labels[i] for i in c.source] == [
        "wall_time:mlmd_times", "property:cost", "property:cost_cpu_seconds",
        "wall_time:start_end_ms",
    ]  # fmt: skip
    assert c.source_counts()["property:cost"] == 1


def test_weights_apply_to_wall_time_by_type_or_category() -> None:
    cfg = GraphletConfig(type_weights={"Trainer": 4.0, "ingest": 0.5}, default_weight=2.0)
    w = type_weights(["Trainer", "CsvExampleGen", "Pusher"], np.array([3, 0, 5]), cfg)
    assert w.tolist() == [4.0, 0.5, 2.0]
    ex = _execs(cost=[np.nan, 1.0])
    c = execution_costs(ex, np.array([4.0, 4.0]), cfg)
    assert c.cost.tolist() == [12.0, 1.0]  # the trace's own cost is not weighted
    c = execution_costs(ex, np.array([4.0, 4.0]), cfg.with_(weight_property_costs=True))
    assert c.cost.tolist() == [12.0, 4.0]


def test_config_rejects_what_can_never_work() -> None:
    with pytest.raises(InvalidArgumentError, match="sharing policy 'half' is unknown"):
        GraphletConfig(sharing="half")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match=r"categories \['cooking'\] are unknown"):
        GraphletConfig(category_rules=(("cooking", "Chef"),))
    with pytest.raises(InvalidArgumentError, match="no model types configured"):
        GraphletConfig(model_types=(), model_base_type=False)
