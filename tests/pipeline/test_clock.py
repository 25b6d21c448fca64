"""The runner's clock sets the times it records; leases and cache ages keep the wall clock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from graphlets.pipeline import Runner, RunOptions
from graphlets.pipeline import record as rec
from graphlets.pipeline.clock import DAY_MS, SpanClock, WallClock, wall_ms
from graphlets.pipeline.lease import lease_table
from graphlets.store import MetadataStore
from tests.pipeline.helpers import chain

FUTURE = 4_102_444_800_000  # 2100-01-01: no wall-clock time can be mistaken for it
MINUTE = 60_000


def _lease_expiry(store: MetadataStore, name: str) -> int:
    with store.engine.connect() as conn:
        row = conn.execute(select(lease_table.c.expires_ms).where(lease_table.c.name == name))
        return int(row.scalar_one())


def _in_span(value: object, span: int) -> bool:
    start = FUTURE + span * DAY_MS
    return isinstance(value, int) and start <= value < start + MINUTE


def test_span_clock_sets_recorded_times_while_the_lease_keeps_wall_time(
    lite_store: MetadataStore, tmp_path: Path
) -> None:
    pipeline = chain(tmp_path)
    runner = Runner(lite_store, pipeline, blobs=str(tmp_path / "blobs"), clock=SpanClock(FUTURE))
    with runner:
        before = wall_ms()
        result = runner.run(3)
        expiry = _lease_expiry(lite_store, pipeline.name)
        assert before < expiry <= wall_ms() + int(runner.options.lease_ttl_s * 1000) + MINUTE
        later = runner.run(5)
    [run] = lite_store.get_contexts_by_id([result.run_id])
    p = run.custom_properties
    assert _in_span(p[rec.START_TIME_MS], 3) and _in_span(p[rec.END_TIME_MS], 3)
    execs = lite_store.get_executions_by_context(result.run_id)
    for ex in execs:
        c = ex.custom_properties
        assert _in_span(c[rec.START_TIME_MS], 3) and _in_span(c[rec.END_TIME_MS], 3), c
        assert int(c[rec.END_TIME_MS]) >= int(c[rec.START_TIME_MS])  # type: ignore[arg-type]
        assert ex.create_time_since_epoch < FUTURE  # MLMD's own times stay wall times
    for ex in lite_store.get_executions_by_context(later.run_id):
        assert _in_span(ex.custom_properties[rec.START_TIME_MS], 5)


def test_cache_age_is_measured_by_the_wall_clock(lite_store: MetadataStore, tmp_path: Path) -> None:
    pipeline = chain(tmp_path)
    blobs = str(tmp_path / "blobs")
    Runner(lite_store, pipeline, blobs=blobs, clock=SpanClock(FUTURE)).run(2)
    options = RunOptions(cache_max_age_s=3600)  # by span time, span 2 is 75 years from now
    again = Runner(lite_store, pipeline, blobs=blobs, options=options, clock=SpanClock(FUTURE))
    state = again.run(2).outcomes["ingest"].state
    assert state is not None and state.name == "CACHED"


def test_wall_clock_records_wall_time_and_span_clock_places_dates_at_midnight() -> None:
    before = wall_ms()
    assert before <= WallClock().now_ms() <= wall_ms()
    assert WallClock().from_wall(123) == 123
    clock = SpanClock(0)
    clock.begin_run(dt.date(2026, 3, 1))
    midnight = int(dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc).timestamp() * 1000)
    assert midnight <= clock.now_ms() < midnight + MINUTE
    assert clock.from_wall(wall_ms() - 5000) < clock.now_ms() - 4000  # durations as measured
    clock.begin_run(None)
    assert abs(clock.now_ms() - wall_ms()) < MINUTE
    today = SpanClock.ending_today(90)
    assert today.span_start_ms(90) == wall_ms() // DAY_MS * DAY_MS
