"""When each execution first touched an artifact, by MLMD's event times.

An execution's ``create_time_since_epoch`` says when its row was written: for a store copied or
imported from another tool that is the copy's time, while event times travel with the events. So
where a trace records no start time of its own, the first event of an execution is the better
guess of when it ran (:func:`graphlets.analytics.data.recorded_times`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from graphlets.store import schema as s


def first_event_statement() -> Select[Any]:
    """``execution_id, first_event_ms``: the earliest event time of every execution with events."""
    e = s.event
    return select(e.c.execution_id, func.min(e.c.milliseconds_since_epoch)).group_by(
        e.c.execution_id
    )
