"""Which version becomes the ``fallback`` after a rollback, from the audit trail alone.

Rolling back walks back in time: v3 -> v2 -> v1, then there is no fallback. A version that was
rolled back away from was judged bad, so it never becomes the fallback again, unless it was put in
production explicitly since then (a promote, or a rollback onto a fallback alias someone set by
hand). MLflow's aliases and TFX's pusher have no rollback of their own; this is what their users
do by hand (re-point ``champion`` at the previous good version), automated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def rolled_away(history: Iterable[Mapping[str, Any]]) -> set[int]:
    """Versions whose last exit from production was a rollback (and not re-entered since)."""
    bad: set[int] = set()
    for row in history:
        if row.get("action") == "rollback" and "from_version" in row:
            bad.add(int(row["from_version"]))
        if row.get("to_stage") == "production" and "version" in row:
            bad.discard(int(row["version"]))
    return bad


def next_fallback(
    history: Sequence[Mapping[str, Any]], leaving: int, entering: int, alive: set[int]
) -> int | None:
    """The fallback after rolling back from ``leaving`` to ``entering``.

    Args:
        history: the model's audit trail, oldest first (:meth:`ModelRegistry.history`).
        leaving: the production version being rolled back away from.
        entering: the fallback version going back into production.
        alive: versions whose model payload gc has not collected.

    Returns:
        The most recent earlier production version that is alive and was not rolled back away
        from, or None.
    """
    excluded = rolled_away(history) | {leaving, entering}
    entered = [
        int(r["version"]) for r in history if r.get("to_stage") == "production" and "version" in r
    ]
    return next((x for x in reversed(entered) if x not in excluded and x in alive), None)
