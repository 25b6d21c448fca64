"""Property names that several layers share: written by one (the runner, the registry, the
monitor), read by others (lineage, analytics, the web). Defined once, here, at the bottom layer."""

from __future__ import annotations

# When a step ran, in milliseconds since the epoch, as its writer recorded it (the runner's clock:
# wall time, or span time for a backfill). MLMD's own create/update times say when the row was
# written, which is the fallback for traces that lack these.
START_TIME_MS = "start_time_ms"
END_TIME_MS = "end_time_ms"
