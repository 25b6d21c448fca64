"""Property: any text given as a store URL parses or raises InvalidArgumentError; opening it
gives a store or a StoreError/InvalidArgumentError, never a driver traceback; the CLI prints
one line and exits 1 or 2."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphlets.errors import GraphletsError, InvalidArgumentError
from graphlets.store import MetadataStore, parse_store_url
from tests.cli.helpers import run
from tests.fuzz import CI_CASES, SLOW_CASES, budget

SCHEMES = ["sqlite", "sqlite+pysqlite", "postgresql", "postgres", "mysql", "http", "", "SQLITE"]
URLS = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda s, sep, rest: f"{s}{sep}{rest}",
        st.sampled_from(SCHEMES),
        st.sampled_from(["://", ":///", "://///", ":", ":/"]),
        st.text(max_size=40),
    ),
    st.builds(
        lambda h, p, d: f"postgresql://u@{h}:{p}/{d}",
        st.sampled_from(["127.0.0.1", "[::1", "host.invalid", ""]),
        st.one_of(st.integers(-5, 10**7).map(str), st.text(max_size=5)),
        st.text(max_size=10),
    ),
)


def check_parse(text: str) -> None:
    try:
        url = parse_store_url(text)
    except InvalidArgumentError as exc:
        assert "\n" not in str(exc)
        return
    assert url.backend in ("sqlite", "postgresql")
    if url.is_memory:  # only sqlite:// or an explicit :memory: is a memory store
        assert ":///" not in text or ":memory:" in text, text


@budget(CI_CASES)
@given(URLS)
def test_parse_store_url_never_raises_anything_else(text: str) -> None:
    check_parse(text)


@pytest.mark.slow
@budget(SLOW_CASES)
@given(URLS)
def test_parse_store_url_never_raises_anything_else_slow(text: str) -> None:
    check_parse(text)


SQLITE_PATHS = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00/?#%"),
    min_size=1,
    max_size=20,
)


def check_open(folder: Path, name: str) -> None:
    """Open ``sqlite:///folder/name``: a missing file is a one-line error and is not created."""
    url = f"sqlite:///{folder}/{name}"
    before = set(os.listdir(folder))
    try:
        MetadataStore(url).close()
    except GraphletsError as exc:
        assert "\n" not in str(exc)
    assert set(os.listdir(folder)) == before  # reading never creates a file


@budget(max(50, CI_CASES // 3))
@given(SQLITE_PATHS)
def test_opening_odd_sqlite_paths(tmp_path: Path, name: str) -> None:
    check_open(tmp_path, name)


@pytest.mark.slow
@budget(SLOW_CASES)
@given(SQLITE_PATHS)
def test_opening_odd_sqlite_paths_slow(tmp_path: Path, name: str) -> None:
    check_open(tmp_path, name)


def check_cli(text: str) -> None:
    if "\x00" in text or text.startswith("-"):
        return  # argv cannot carry a NUL; a leading dash is an option to Click
    res = run("store", "stats", "--store", text)
    assert res.exit_code in (0, 1, 2), (text, res.stderr, res.exception)
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    if res.exit_code == 1:
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr


@budget(max(20, CI_CASES // 15))
@given(URLS.filter(lambda u: "postgres" not in u))  # no server round trips in the default run
def test_cli_odd_store_urls(text: str) -> None:
    check_cli(text)


@pytest.mark.slow
@budget(SLOW_CASES // 5)
@given(URLS)
def test_cli_odd_store_urls_slow(text: str) -> None:
    check_cli(text)
