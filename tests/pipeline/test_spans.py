"""Span values, ranges, file names and span folders."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from graphlets.errors import InvalidArgumentError
from graphlets.pipeline.spans import (
    SpanFiles,
    parse_span,
    parse_span_range,
    span_from_name,
    span_key,
    span_label,
)

pytestmark = pytest.mark.unit


def test_values_keys_and_labels() -> None:
    assert parse_span("17") == 17 and span_key(17) == 17
    d = parse_span("2026-01-05")
    assert d == dt.date(2026, 1, 5) and span_key(d) == 20260105 and span_label(d) == "2026-01-05"
    assert span_label(None) == "-"
    with pytest.raises(InvalidArgumentError, match="neither an integer nor a date"):
        parse_span("monday")
    with pytest.raises(InvalidArgumentError, match="not a valid date"):
        parse_span("2026-02-30")
    with pytest.raises(InvalidArgumentError, match="datetime"):
        span_key(dt.datetime(2026, 1, 1))


def test_ranges() -> None:
    assert parse_span_range("3..6") == [3, 4, 5, 6]
    assert parse_span_range("5") == [5]
    days = parse_span_range("2026-02-27..2026-03-02")
    assert [span_label(d) for d in days] == ["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"]
    with pytest.raises(InvalidArgumentError, match="mixes a date and an integer"):
        parse_span_range("1..2026-01-01")
    with pytest.raises(InvalidArgumentError, match="ends before it starts"):
        parse_span_range("5..3")


def test_span_from_file_names() -> None:
    assert span_from_name("day-2026-01-05.csv") == dt.date(2026, 1, 5)
    assert span_from_name("/x/y/span_0042.csv.gz") == 42
    assert span_from_name("v2-part-7.csv") == 7
    assert span_from_name("readme.txt") is None


def test_span_files_by_pattern_and_folder(tmp_path: Path) -> None:
    for n in (3, 1, 2):
        (tmp_path / f"day-{n}.csv").write_text("x")
    (tmp_path / "notes.txt").write_text("no span")
    (tmp_path / ".hidden-9.csv").write_text("x")
    files = SpanFiles("day-{span}.csv", tmp_path)
    assert [s for s, _ in files.available()] == [1, 2, 3]
    assert files.path(2) == tmp_path / "day-2.csv" and files.path(9) is None
    folder = SpanFiles(str(tmp_path))
    assert [s for s, _ in folder.available()] == [1, 2, 3]
    assert folder.path(3) == tmp_path / "day-3.csv"
    other = tmp_path / "other"
    other.mkdir()
    (other / "day-8.csv").write_text("x")
    moved = files.in_folder(other)
    assert [s for s, _ in moved.available()] == [8]
    assert SpanFiles("missing/{span}.csv", tmp_path).available() == []
    with pytest.raises(InvalidArgumentError, match="in a folder name"):
        SpanFiles("{span}/data.csv", tmp_path).available()
