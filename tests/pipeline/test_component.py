"""``@component``: what the signature of a plain typed function declares."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphlets.errors import InvalidArgumentError
from graphlets.model import ExecutionBaseType
from graphlets.pipeline import (
    Examples,
    Input,
    Inputs,
    Model,
    Output,
    component,
    previous,
    prop,
    rolling_window,
)
from graphlets.pipeline.resolvers import Previous, RollingWindow, ThisRun

pytestmark = pytest.mark.unit


def test_signature_becomes_inputs_outputs_params_and_runtime() -> None:
    @component(
        category="train",
        retries=2,
        inputs={"examples": rolling_window(3), "base": previous("model")},
    )
    def train_model(
        span: int,
        examples: Inputs[Examples],
        base: Input[Model] | None,
        model: Output[Model],
        epochs: int = 3,
        data: Path | None = None,
    ) -> None:
        """Train."""

    c = train_model
    assert c.name == "train_model" and c.type_name == "TrainModel"
    assert c.base_type == ExecutionBaseType.TRAIN and c.retries == 2
    assert c.runtime == ("span",)
    ex, base = c.inputs["examples"], c.inputs["base"]
    assert ex.many and not ex.optional and isinstance(ex.resolver, RollingWindow)
    assert base.optional and not base.many and isinstance(base.resolver, Previous)
    assert base.channel == "model"
    assert c.outputs["model"].type_name == "Model"
    assert c.params["epochs"].default == 3 and not c.params["epochs"].required
    assert set(c.params) == {"epochs", "data"}
    assert c.execution_type().name == "TrainModel"


def test_calling_a_component_calls_the_function() -> None:
    @component
    def add(x: int = 1, y: int = 2) -> int:  # type: ignore[misc]
        return x + y

    assert add(3, 4) == 7


def test_configure_copies_with_changes() -> None:
    @component
    def ingest(examples: Output[Examples], rows: int = 1) -> None:
        examples.write_text("x")

    other = ingest.configure(
        name="ingest2", params={"rows": 5}, outputs={"examples": "more_examples"}, cache=False
    )
    assert other.name == "ingest2" and other.bound == {"rows": 5} and not other.cache
    assert other.outputs["examples"].channel == "more_examples"
    assert ingest.name == "ingest" and ingest.bound == {}
    with pytest.raises(InvalidArgumentError, match="no parameter 'nope'"):
        ingest.configure(params={"nope": 1})
    with pytest.raises(InvalidArgumentError, match="no output 'nope'"):
        ingest.configure(outputs={"nope": "x"})


def test_input_renamed_to_another_channel() -> None:
    @component(inputs={"examples": "clean_examples"})
    def stats(examples: Input[Examples], model: Output[Model]) -> None:
        model.write_text("x")

    spec = stats.inputs["examples"]
    assert spec.channel == "clean_examples" and isinstance(spec.resolver, ThisRun)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def f(x): pass", "has no type hint"),
        ("def f(x: set): pass", "has type"),
        ("def f(*a: int): pass", "cannot be wired"),
        ("def f(m: Output[Model] | None): pass", "cannot be Optional"),
        ("def f(m: Input[int]): pass", "ArtifactClass subclass"),
    ],
)
def test_bad_signatures_are_refused(source: str, message: str) -> None:
    scope: dict[str, object] = {"Output": Output, "Input": Input, "Model": Model}
    exec(source, scope)
    with pytest.raises(InvalidArgumentError, match=message):
        component(scope["f"])  # type: ignore[arg-type]


def test_bad_options_are_refused() -> None:
    def f(model: Output[Model]) -> None:
        pass

    with pytest.raises(InvalidArgumentError, match="unknown option 'retry'"):
        component(retry=3)(f)
    with pytest.raises(InvalidArgumentError, match="retries=-1 is invalid"):
        component(retries=-1)(f)
    with pytest.raises(InvalidArgumentError, match="category 'fly'"):
        component(category="fly")(f)
    with pytest.raises(InvalidArgumentError, match="no input 'x'"):
        component(inputs={"x": previous("y")})(f)
    with pytest.raises(InvalidArgumentError, match="not a condition"):
        component(when=3)(f)


def test_condition_forms() -> None:
    cond = (prop("blessing", "blessed") == 1) & (prop("eval", "acc") >= 0.5)
    assert cond.keys() == {"blessing", "eval"}
    either = (prop("a", "x") < 1) | (prop("a", "x") > 5)
    assert either.keys() == {"a"}


def test_conditions_explain_themselves() -> None:
    from graphlets.model import Artifact

    blessed = {"blessing": [Artifact(type_id=1, custom_properties={"blessed": 1})]}
    ok, why = (prop("blessing", "blessed") == 1).evaluate(blessed)
    assert ok and why == "blessing.blessed == 1 (got 1)"
    ok, why = (prop("blessing", "blessed") == 1).evaluate({"blessing": []})
    assert not ok and "input or property missing" in why
    ok, why = (prop("blessing", "blessed") > "x").evaluate(blessed)  # incomparable: not met
    assert not ok
    both = (prop("blessing", "blessed") == 1) & (prop("blessing", "blessed") < 0)
    ok, why = both.evaluate(blessed)
    assert not ok and " and " in why
    either = (prop("blessing", "blessed") == 1) | (prop("blessing", "blessed") < 0)
    assert either.evaluate(blessed)[0]
