"""Typed ids for the CLI and the web (``artifact:12``)."""

from __future__ import annotations

import pytest

from graphlets.errors import IdError, InvalidArgumentError
from graphlets.model import TypedId, parse_id

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "kind", "number"),
    [
        ("artifact:12", "artifact", 12),
        (" execution:7 ", "execution", 7),
        ("context:0", "context", 0),
    ],
)
def test_parse(text: str, kind: str, number: int) -> None:
    tid = parse_id(text)
    assert tid == TypedId(kind, number)  # type: ignore[arg-type]
    assert str(tid) == f"{kind}:{number}"
    assert parse_id(str(tid)) == tid


def test_bare_number_lists_what_it_could_mean() -> None:
    with pytest.raises(IdError) as err:
        parse_id("12")
    msg = str(err.value)
    assert "artifact:12" in msg and "execution:12" in msg and "context:12" in msg
    assert "\n" not in msg
    assert isinstance(err.value, InvalidArgumentError)


@pytest.mark.parametrize(
    "text", ["", "artifact", "artifact:", "artifact:x", "artifact:-1", "model:3", ":3", "a:1:2"]
)
def test_malformed(text: str) -> None:
    with pytest.raises(IdError) as err:
        parse_id(text)
    assert "KIND:NUMBER" in str(err.value) or "ambiguous" in str(err.value)


def test_allowed_kinds() -> None:
    assert parse_id("graphlet:3", allowed=("graphlet", "run")) == TypedId("graphlet", 3)
    with pytest.raises(IdError) as err:
        parse_id("artifact:3", allowed=("graphlet", "run"))
    assert "graphlet, run" in str(err.value)
    with pytest.raises(IdError) as err:
        parse_id("5", allowed=("run",))
    assert "run:5" in str(err.value) and "artifact" not in str(err.value)


# out of range and non-ASCII digits -----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "artifact:9223372036854775808",  # 2**63
        "artifact:" + "9" * 400,
        "artifact:\uff11",  # full-width one: str.isdigit() says yes
        "execution:\u0663",  # Arabic-Indic three
        "context:\u00b2",  # superscript two
        "artifact:1\u200b",  # zero-width space
        "\uff11\uff12",  # a bare full-width number
    ],
)
def test_out_of_range_and_non_ascii_ids_are_refused(text: str) -> None:
    with pytest.raises(IdError) as err:
        parse_id(text)
    msg = str(err.value)
    assert "\n" not in msg and len(msg) < 300


def test_the_largest_int64_id_parses() -> None:
    assert parse_id(f"artifact:{2**63 - 1}").id == 2**63 - 1
    with pytest.raises(IdError, match="out of range"):
        parse_id(f"artifact:{2**63}")
