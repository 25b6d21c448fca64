"""Pipeline checks before anything runs: each error names the component and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphlets.errors import InvalidArgumentError
from graphlets.pipeline import (
    Examples,
    ExampleStatistics,
    Input,
    Inputs,
    Model,
    Output,
    Pipeline,
    Schema,
    component,
    latest_artifact,
    previous,
    prop,
    rolling_window,
)
from graphlets.pipeline.dag import coerce_params

pytestmark = pytest.mark.unit


@component
def ingest(span: int, examples: Output[Examples]) -> None:
    examples.write_text(str(span))


@component
def stats(examples: Input[Examples], statistics: Output[ExampleStatistics]) -> None:
    statistics.write_text("s")


@component
def train(statistics: Input[ExampleStatistics], model: Output[Model], epochs: int = 3) -> None:
    model.write_text("m")


@component
def needs_lr(model: Input[Model], schema: Output[Schema], lr: float) -> None:
    schema.write_text("x")


def test_wires_by_name_and_orders_topologically() -> None:
    p = Pipeline("p", [train, stats, ingest])
    assert p.order == ["ingest", "stats", "train"]
    assert p.upstream == {"train": {"stats"}, "stats": {"ingest"}, "ingest": set()}
    assert p.descendants("ingest") == ["stats", "train"]


def test_missing_input_names_component_and_fix() -> None:
    with pytest.raises(
        InvalidArgumentError,
        match=r"component 'stats' needs input 'examples' "
        r"\(Examples\) but no component outputs 'examples'.*configure",
    ):
        Pipeline("p", [stats, train])


def test_type_mismatch() -> None:
    @component
    def wrong(examples: Input[Model], schema: Output[Schema]) -> None:
        schema.write_text("x")

    with pytest.raises(
        InvalidArgumentError, match="input 'examples' expects Model but 'ingest' outputs Examples"
    ):
        Pipeline("p", [ingest, wrong])


def test_duplicate_names_and_outputs() -> None:
    with pytest.raises(InvalidArgumentError, match=r"two components are named 'ingest'.*configure"):
        Pipeline("p", [ingest, ingest])
    with pytest.raises(InvalidArgumentError, match="'ingest' and 'ingest2' both output 'examples'"):
        Pipeline("p", [ingest, ingest.configure(name="ingest2")])
    ok = Pipeline("p", [ingest, ingest.configure(name="ingest2", outputs={"examples": "ex2"})])
    assert set(ok.producers) == {"examples", "ex2"}


def test_cycle_is_named() -> None:
    @component
    def a(schema: Input[Schema], model: Output[Model]) -> None:
        model.write_text("a")

    @component
    def b(model: Input[Model], schema: Output[Schema]) -> None:
        schema.write_text("b")

    with pytest.raises(InvalidArgumentError, match=r"cycle: (a -> b -> a|b -> a -> b).*previous"):
        Pipeline("p", [a, b])


def test_previous_of_own_output_is_not_a_cycle() -> None:
    @component(inputs={"base": previous("model")})
    def warm(
        statistics: Input[ExampleStatistics], base: Input[Model] | None, model: Output[Model]
    ) -> None:
        model.write_text("w")

    p = Pipeline("p", [ingest, stats, warm])
    assert p.upstream["warm"] == {"stats"}


def test_window_needs_a_list_annotation() -> None:
    @component(inputs={"examples": rolling_window(3)})
    def single(examples: Input[Examples], model: Output[Model]) -> None:
        model.write_text("x")

    with pytest.raises(InvalidArgumentError, match=r"annotate it Inputs\[Examples\]"):
        Pipeline("p", [ingest, single])

    @component(inputs={"examples": rolling_window(3)})
    def many(examples: Inputs[Examples], model: Output[Model]) -> None:
        model.write_text("x")

    assert Pipeline("p", [ingest, many]).upstream["many"] == {"ingest"}


def test_latest_artifact_type_must_match() -> None:
    @component(inputs={"baseline": latest_artifact("Schema")})
    def evaluate(baseline: Input[Model] | None, schema: Output[Schema]) -> None:
        schema.write_text("x")

    with pytest.raises(InvalidArgumentError, match="resolves latest_artifact"):
        Pipeline("p", [evaluate])


def test_condition_over_unknown_input() -> None:
    @component(when=prop("blessing", "blessed") == 1)
    def push(model: Input[Model], schema: Output[Schema]) -> None:
        schema.write_text("x")

    with pytest.raises(InvalidArgumentError, match=r"when= reads \['blessing'\]"):
        Pipeline("p", [ingest, stats, train, push])


def test_parameters_need_values_and_known_names() -> None:
    with pytest.raises(InvalidArgumentError, match=r"parameter 'lr' has no default.*--param"):
        Pipeline("p", [ingest, stats, train, needs_lr])
    p = Pipeline("p", [ingest, stats, train, needs_lr], params={"needs_lr.lr": 0.1, "epochs": 7})
    assert p.param_values("needs_lr") == {"lr": 0.1}
    assert p.param_values("train") == {"epochs": 7}
    assert p.with_params({"train.epochs": 9}).param_values("train") == {"epochs": 9}
    with pytest.raises(InvalidArgumentError, match="names no component parameter"):
        Pipeline("p", [ingest], params={"ingest.nope": 1})
    with pytest.raises(InvalidArgumentError, match="no component has a parameter 'nope'"):
        Pipeline("p", [ingest], params={"nope": 1})


def test_coerce_params_to_declared_types() -> None:
    @component
    def typed(
        schema: Output[Schema],
        n: int = 1,
        x: float = 0.0,
        flag: bool = False,
        path: Path | None = None,
        cols: list = [],  # noqa: B006 (a parameter default, never mutated)
        name: str = "",
    ) -> None:
        schema.write_text("x")

    p = Pipeline("p", [typed])
    got = coerce_params(
        p,
        {
            "n": "3",
            "typed.x": "0.5",
            "flag": "true",
            "path": "/tmp/a",
            "cols": '["a"]',
            "name": "7",
        },
    )
    assert got == {
        "n": 3,
        "typed.x": 0.5,
        "flag": True,
        "path": Path("/tmp/a"),
        "cols": ["a"],
        "name": "7",
    }
    with pytest.raises(InvalidArgumentError, match="expected int"):
        coerce_params(p, {"n": "three"})
    with pytest.raises(InvalidArgumentError, match="no component has a parameter"):
        coerce_params(p, {"nope": "1"})


def test_bad_pipeline_name_and_steps() -> None:
    with pytest.raises(InvalidArgumentError, match="pipeline name"):
        Pipeline("a b", [ingest])
    with pytest.raises(InvalidArgumentError, match="decorate the function with @component"):
        Pipeline("p", [lambda: None])  # type: ignore[list-item]
    with pytest.raises(InvalidArgumentError, match="at least one component"):
        Pipeline("p", [])
