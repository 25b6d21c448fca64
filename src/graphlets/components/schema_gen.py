"""SchemaGen: infer a schema from the first span's statistics, then keep it.

A schema that re-inferred itself every day would accept whatever arrived (a renamed column would
redefine the schema). So once a schema exists it is carried forward unchanged (TFX's curated
schema); pass ``refresh=True`` for one run to re-infer it on purpose.
"""

from __future__ import annotations

from graphlets.pipeline import ExampleStatistics, Input, Output, Schema, component, previous
from graphlets.validation import SchemaConfig, infer_schema


@component(category="process", type_name="SchemaGen", inputs={"base_schema": previous("schema")})
def schema_gen(
    statistics: Input[ExampleStatistics],
    base_schema: Input[Schema] | None,
    schema: Output[Schema],
    range_slack: float = 0.25,
    missing_slack: float = 0.05,
    refresh: bool = False,
) -> None:
    """The previous schema when there is one, else one inferred from this span."""
    if base_schema is not None and not refresh:
        schema.write_bytes(base_schema.read_bytes())
        schema.set("inferred_from_span", base_schema.properties.get("inferred_from_span", -1))
        return
    cfg = SchemaConfig(range_slack=range_slack, missing_slack=missing_slack)
    schema.write_json(infer_schema(statistics.read_json(), cfg))
    schema.set("inferred_from_span", statistics.span if statistics.span is not None else -1)
