"""Continuous mode: backfill, following a folder of span files, and schedules (bounded)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from graphlets.errors import InvalidArgumentError
from graphlets.pipeline import Runner, SpanFiles
from graphlets.pipeline.continuous import backfill, completed_spans, every, follow, parse_interval
from graphlets.store import MetadataStore
from tests.pipeline.helpers import chain, load_source

FILES = """
from pathlib import Path
from graphlets.pipeline import Examples, Model, Input, Output, Pipeline, component


@component
def ingest(span: int, span_path: Path | None, examples: Output[Examples]) -> None:
    assert span_path is not None, "no file for this span"
    examples.write_bytes(span_path.read_bytes())


@component
def train(examples: Input[Examples], model: Output[Model]) -> None:
    model.write_text(examples.read_text().upper())


pipeline = Pipeline("files", [ingest, train], spans="data/day-{span}.csv")
"""


@pytest.fixture
def sqlite_store(tmp_path: Path) -> MetadataStore:
    return MetadataStore(f"sqlite:///{tmp_path / 's.sqlite'}", create=True)


@pytest.mark.unit
def test_parse_interval() -> None:
    assert parse_interval("90") == 90 and parse_interval("1.5m") == 90
    assert parse_interval("2h") == 7200 and parse_interval("1d") == 86400
    for bad in ("", "0s", "-1s", "5 weeks", "m"):
        with pytest.raises(InvalidArgumentError, match="not a duration"):
            parse_interval(bad)


def test_backfill_runs_in_span_order_and_stops_at_a_failure(
    sqlite_store: MetadataStore, tmp_path: Path
) -> None:
    with Runner(sqlite_store, chain(tmp_path, FAIL_ON=4), blobs=str(tmp_path / "b")) as runner:
        results = backfill(runner, [3, 1, 2, 5, 4])
    assert [r.span for r in results] == [1, 2, 3, 4]
    assert [r.state for r in results] == ["COMPLETE"] * 3 + ["FAILED"]
    assert completed_spans(runner) == {1, 2, 3}


def test_backfill_keep_going(sqlite_store: MetadataStore, tmp_path: Path) -> None:
    with Runner(sqlite_store, chain(tmp_path, FAIL_ON=2), blobs=str(tmp_path / "b")) as runner:
        results = backfill(runner, [1, 2, 3], keep_going=True)
    assert [r.state for r in results] == ["COMPLETE", "FAILED", "COMPLETE"]


def test_follow_runs_existing_then_new_span_files(
    sqlite_store: MetadataStore, tmp_path: Path
) -> None:
    pipeline = load_source(tmp_path, FILES)
    data = tmp_path / "data"
    data.mkdir()
    for n in (2, 1):
        (data / f"day-{n}.csv").write_text(f"rows of {n}")
    assert pipeline.spans is not None and pipeline.spans.base == tmp_path

    def arrive() -> None:
        time.sleep(0.3)
        (data / "day-3.csv").write_text("rows of 3")

    thread = threading.Thread(target=arrive)
    thread.start()
    with Runner(sqlite_store, pipeline, blobs=str(tmp_path / "b")) as runner:
        results = follow(runner, pipeline.spans, poll_s=0.05, max_runs=3)
    thread.join()
    assert [r.span for r in results] == [1, 2, 3] and all(r.ok for r in results)
    [model] = results[2].outcomes["train"].outputs["model"]
    assert Path(str(model.uri)).read_text() == "ROWS OF 3"
    with Runner(sqlite_store, pipeline, blobs=str(tmp_path / "b")) as runner:  # nothing new
        stop = threading.Event()
        threading.Timer(0.2, stop.set).start()
        assert follow(runner, pipeline.spans, poll_s=0.05, stop=stop) == []


def test_follow_a_plain_folder(sqlite_store: MetadataStore, tmp_path: Path) -> None:
    pipeline = load_source(tmp_path, FILES)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "2026-01-02.csv").write_text("b")
    (inbox / "2026-01-01.csv").write_text("a")
    files = SpanFiles(str(inbox))
    pipeline.spans = files
    with Runner(sqlite_store, pipeline, blobs=str(tmp_path / "b")) as runner:
        results = follow(runner, files, poll_s=0.01, max_runs=2)
    assert [str(r.span) for r in results] == ["2026-01-01", "2026-01-02"]
    run = sqlite_store.get_contexts_by_id([results[0].run_id])[0]
    assert run.custom_properties["span"] == 20260101
    assert run.custom_properties["span_label"] == "2026-01-01"


def test_every_runs_on_a_schedule(sqlite_store: MetadataStore, tmp_path: Path) -> None:
    pipeline = load_source(tmp_path, FILES)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "day-1.csv").write_text("x")
    t0 = time.monotonic()
    with Runner(sqlite_store, pipeline, blobs=str(tmp_path / "b")) as runner:
        results = every(runner, 0.2, max_runs=3)
    assert time.monotonic() - t0 >= 0.4
    assert [r.span for r in results] == [1, 1, 1]
    assert [r.counts() for r in results][1:] == [{"CACHED": 2}, {"CACHED": 2}]
