"""The runner's clock: the times it records, as opposed to the times it waits on.

A run can carry the time its data belongs to. A backfill of 90 daily spans run in one afternoon
should read, in the report, the timeline and the pruning gate, like 90 days of operation: the
runner records every time (``start_time_ms``/``end_time_ms`` of executions and of the run context)
through a :class:`Clock`. The wall clock (:class:`WallClock`, the default) records wall time.
:class:`SpanClock` records span ``d`` at day ``d`` after an epoch, with durations as measured.

Leases, cache ages and timeouts never read this clock: they are about the processes running now,
so they keep the wall clock (:func:`wall_ms`).
"""

from __future__ import annotations

import datetime as dt
import time

from graphlets.pipeline.spans import SpanValue

DAY_MS = 86_400_000


def wall_ms() -> int:
    """Milliseconds since the epoch, by the wall clock."""
    return time.time_ns() // 1_000_000


class Clock:
    """The wall clock; subclasses shift it. Recorded time = wall time + :meth:`offset_ms`."""

    def begin_run(self, span: SpanValue | None) -> None:
        """Called when a run (or a resume) of ``span`` starts; the wall clock ignores it."""
        return None

    def offset_ms(self) -> int:
        """How far recorded time is ahead of wall time (negative: behind)."""
        return 0

    def now_ms(self) -> int:
        """The time to record for an event happening now."""
        return wall_ms() + self.offset_ms()

    def from_wall(self, wall: int) -> int:
        """The recorded time of an event that happened at wall time ``wall`` (e.g. a worker's
        end time), so that durations stay as measured."""
        return wall + self.offset_ms()


class WallClock(Clock):
    """Records wall time (the default)."""


class SpanClock(Clock):
    """Records a run of span ``d`` as starting at ``epoch_ms + d * period_ms``.

    Date spans start at their own midnight (UTC) and ignore the epoch. Time inside a run advances
    with the wall clock, so every duration is the measured one. A run without a span is recorded
    at wall time.

    Args:
        epoch_ms: the time of span 0.
        period_ms: the length of one span (a day by default).
    """

    def __init__(self, epoch_ms: int, period_ms: int = DAY_MS) -> None:
        self.epoch_ms, self.period_ms = int(epoch_ms), int(period_ms)
        self._offset = 0

    @classmethod
    def ending_today(cls, spans: int, period_ms: int = DAY_MS) -> SpanClock:
        """Span ``spans`` at today's midnight (UTC), span 1 ``spans - 1`` periods earlier."""
        midnight = wall_ms() // DAY_MS * DAY_MS
        return cls(midnight - spans * period_ms, period_ms)

    def span_start_ms(self, span: SpanValue) -> int:
        """When span ``span`` begins."""
        if isinstance(span, dt.date):
            midnight = dt.datetime(span.year, span.month, span.day, tzinfo=dt.timezone.utc)
            return int(midnight.timestamp() * 1000)
        return self.epoch_ms + int(span) * self.period_ms

    def begin_run(self, span: SpanValue | None) -> None:
        """Shift the clock so that now is the start of ``span``."""
        self._offset = 0 if span is None else self.span_start_ms(span) - wall_ms()

    def offset_ms(self) -> int:
        """How far the span's time is from wall time."""
        return self._offset
