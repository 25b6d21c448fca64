"""Code fingerprints cover the function, same-module helpers and constants, and nothing else."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from graphlets.pipeline.fingerprint import code_fingerprint, constant_repr, describe_code
from graphlets.pipeline.loader import load_module

pytestmark = pytest.mark.unit

BASE = '''
import json
from enum import Enum

LIMIT = 10
NAMES = ("a", "b")
UNUSED = 5


class Mode(Enum):
    FAST = 1


class Scaler:
    def scale(self, x):
        return x * LIMIT


def helper(x):
    return inner(x) + 1


def inner(x):
    return x * 2


def not_called(x):
    return x


def make_adder(n):
    def add(x):
        return x + n
    return add


ADD3 = make_adder(3)


def step(x):
    """Docstring."""
    # comment
    y = helper(x) + LIMIT + len(NAMES)
    return json.dumps({"y": y, "mode": Mode.FAST.name, "s": Scaler().scale(1)})
'''


def _fp(tmp_path: Path, source: str, name: str = "step") -> str:
    path = tmp_path / "mod.py"
    path.write_text(textwrap.dedent(source))
    return code_fingerprint(getattr(load_module(path), name))


def test_formatting_comments_docstrings_do_not_change_it(tmp_path: Path) -> None:
    base = _fp(tmp_path, BASE)
    assert _fp(tmp_path, BASE) == base
    cosmetic = BASE.replace('    """Docstring."""\n', '    """Another docstring."""\n')
    cosmetic = cosmetic.replace("    # comment\n", "    # other comment\n\n")
    cosmetic = cosmetic.replace("helper(x) + LIMIT", "helper(x)  +  LIMIT")
    assert _fp(tmp_path, cosmetic) == base


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("    y = helper(x) + LIMIT", "    y = helper(x) - LIMIT"),  # the function
        ("    return inner(x) + 1", "    return inner(x) + 2"),  # a helper
        ("    return x * 2", "    return x * 3"),  # a helper's helper
        ("LIMIT = 10", "LIMIT = 11"),  # a constant
        ('NAMES = ("a", "b")', 'NAMES = ("a", "c")'),  # a tuple constant
        ("        return x * LIMIT", "        return x * LIMIT * 2"),  # a class method
        ("    FAST = 1", "    FAST = 2"),  # an enum used by name
    ],
)
def test_changes_it_covers(tmp_path: Path, old: str, new: str) -> None:
    base = _fp(tmp_path, BASE)
    assert old in BASE
    assert _fp(tmp_path, BASE.replace(old, new)) != base


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("UNUSED = 5", "UNUSED = 6"),
        ("def not_called(x):\n    return x", "def not_called(x):\n    return x + 1"),
    ],
)
def test_changes_it_ignores(tmp_path: Path, old: str, new: str) -> None:
    assert _fp(tmp_path, BASE.replace(old, new)) == _fp(tmp_path, BASE)


def test_describe_lists_what_is_covered(tmp_path: Path) -> None:
    path = tmp_path / "mod.py"
    path.write_text(BASE)
    doc = describe_code(load_module(path).step)
    assert set(doc["helpers"]) == {"helper", "inner", "Scaler", "Mode"}
    assert set(doc["constants"]) == {"LIMIT", "NAMES"}
    assert "json" not in doc["helpers"] and "json" not in doc["constants"]


def test_closure_values_are_covered(tmp_path: Path) -> None:
    base = _fp(tmp_path, BASE, "ADD3")
    assert _fp(tmp_path, BASE.replace("make_adder(3)", "make_adder(4)"), "ADD3") != base


def test_functions_without_source_fall_back_to_bytecode() -> None:
    scope: dict[str, object] = {"K": 1}
    exec("def f(x):\n    return x + K\n", scope)
    first = code_fingerprint(scope["f"])  # type: ignore[arg-type]
    scope["K"] = 2
    assert code_fingerprint(scope["f"]) != first  # type: ignore[arg-type]
    exec("def f(x):\n    return x - K\n", scope)
    assert code_fingerprint(scope["f"]) != first  # type: ignore[arg-type]


def test_constant_repr() -> None:
    assert constant_repr({"b": [1, 2.0], "a": None}) == constant_repr({"a": None, "b": [1, 2.0]})
    assert constant_repr({1, 2}) == constant_repr({2, 1})
    assert constant_repr(object()) is None
    assert constant_repr([object()]) is None
    assert constant_repr(list(range(20_000))) is None  # too big to be a constant
    assert constant_repr(1) != constant_repr(True) != constant_repr(1.0)


SHADOW = """
LIMIT = 3


def statistics(examples, statistics):
    return statistics.write(examples)


def train(statistics, LIMIT=2):
    return statistics + LIMIT
"""


def test_parameters_shadowing_globals_are_not_globals(tmp_path: Path) -> None:
    path = tmp_path / "shadow.py"
    path.write_text(SHADOW)
    mod = load_module(path)
    assert describe_code(mod.statistics)["helpers"] == {}
    doc = describe_code(mod.train)
    assert doc["helpers"] == {} and doc["constants"] == {}


def test_a_component_named_like_its_parameter(tmp_path: Path) -> None:
    source = """
from graphlets.pipeline import ExampleStatistics, Output, component


@component
def statistics(statistics: Output[ExampleStatistics]) -> None:
    statistics.write_text("x")
"""
    path = tmp_path / "comp.py"
    path.write_text(source)
    comp = load_module(path).statistics
    assert len(comp.code_fingerprint) == 64  # no recursion through the component itself


def test_parameter_defaults_are_parameters_not_code(tmp_path: Path) -> None:
    source = "def f(x, epochs=3, *, lr=0.1):\n    return x * epochs * lr\n"
    base = _fp(tmp_path, source, "f")
    assert _fp(tmp_path, source.replace("epochs=3", "epochs=4"), "f") == base
    assert _fp(tmp_path, source.replace("lr=0.1", "lr=0.2"), "f") == base
    assert _fp(tmp_path, source.replace("x * epochs", "x + epochs"), "f") != base
