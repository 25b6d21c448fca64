"""Property: any text given as a typed id parses to an in-range id or raises IdError, on the
API and through the CLI (exit 1 or 2, one line, no traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphlets.errors import IdError
from graphlets.model import parse_id
from graphlets.model.ids import KINDS, MAX_ID
from tests.cli.helpers import run
from tests.fuzz import CI_CASES, SLOW_CASES, budget

DIGITS = st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=25)
NUMBERS = st.integers(min_value=-(2**70), max_value=2**70).map(str)
ID_TEXT = st.one_of(
    st.text(max_size=40),
    st.builds(lambda k, n: f"{k}:{n}", st.sampled_from([*KINDS, "model", ""]), NUMBERS | DIGITS),
    st.builds(lambda k, t: f"{k}:{t}", st.sampled_from(KINDS), st.text(max_size=30)),
)


def check_parse(text: str) -> None:
    try:
        tid = parse_id(text, allowed=KINDS)
    except IdError as exc:
        assert "\n" not in str(exc)
        return
    assert 0 <= tid.id <= MAX_ID and tid.kind in KINDS
    kind, _, number = text.strip().partition(":")
    assert tid.kind == kind and number.isascii() and number.isdigit() and tid.id == int(number)


@budget(CI_CASES)
@given(ID_TEXT)
def test_parse_id_never_raises_anything_else(text: str) -> None:
    check_parse(text)


@pytest.mark.slow
@budget(SLOW_CASES)
@given(ID_TEXT)
def test_parse_id_never_raises_anything_else_slow(text: str) -> None:
    check_parse(text)


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ids") / "store.sqlite"
    assert run("store", "init", "--store", f"sqlite:///{path}").exit_code == 0
    return f"sqlite:///{path}"


def check_cli(url: str, text: str) -> None:
    if text.startswith("-") or "\x00" in text:
        return  # an option to Click / not passable in argv: not an id at all
    res = run("store", "show", text, "--store", url)
    assert res.exit_code in (1, 2), (text, res.stdout, res.exception)
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    if res.exit_code == 1:
        assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr


@budget(max(30, CI_CASES // 6))
@given(ID_TEXT)
def test_cli_show_odd_ids_is_one_line(url: str, text: str) -> None:
    check_cli(url, text)


@pytest.mark.slow
@budget(SLOW_CASES)
@given(ID_TEXT)
def test_cli_show_odd_ids_is_one_line_slow(url: str, text: str) -> None:
    check_cli(url, text)


def test_fuzz_store_is_empty(url: str, tmp_path: Path) -> None:
    """The CLI property holds because no id exists: every valid id is a not-found line."""
    res = run("store", "show", "artifact:1", "--store", url)
    assert res.exit_code == 1 and "does not exist" in res.stderr
