"""What every request handler needs: the open store, the settings, and the graphlet cache.

One :class:`WebContext` is built by :func:`graphlets.web.app.create_app` and kept on
``app.state``; handlers get it through the :func:`get_ctx` dependency, so tests can build apps on
many stores side by side.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from fastapi import Request
from sqlalchemy import func, select

from graphlets.lineage import GraphletConfig, GraphletResult, LoadFilter, segment_store
from graphlets.store import MetadataStore
from graphlets.store import schema as s
from graphlets.store.stats import PipelineTypes

CACHE_ENTRIES = 16
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    """How the app was configured.

    Attributes:
        token: the bearer token writes need; None refuses every write.
        blob_url: the content-addressed blob store payload downloads read from (None: no
            downloads).
        reports_dir: folder holding the optimizer's ``tradeoff.json`` / ``tradeoff.png``.
        graphlets: the graphlet definition used by the graphlet and waste pages.
    """

    token: str | None = None
    blob_url: str | None = None
    reports_dir: Path | None = None
    graphlets: GraphletConfig = field(default_factory=GraphletConfig)

    @property
    def pipeline_types(self) -> PipelineTypes:
        """The type names the pipeline pages count with, taken from the graphlet definition."""
        g = self.graphlets
        return PipelineTypes(
            pipeline=g.pipeline_context_type,
            models=g.model_types,
            pushes=g.push_types,
            push_property=g.push_property,
            start_property=g.start_property,
            end_property=g.end_property,
        )


@dataclass(frozen=True)
class Analysis:
    """A segmentation and when it was made.

    Attributes:
        result: the graphlets.
        as_of_ms: wall-clock time the segmentation finished.
        stale: True when the store changed since; a refresh is then already running.
    """

    result: GraphletResult
    as_of_ms: int
    stale: bool = False


Segmenter = Callable[[MetadataStore, GraphletConfig, "LoadFilter | None"], GraphletResult]


def _segment(store: MetadataStore, cfg: GraphletConfig, where: LoadFilter | None) -> GraphletResult:
    return segment_store(store, cfg, where)


class GraphletCache:
    """Segmentations by pipeline (None = the whole store), refreshed when the store changes.

    Segmenting loads a whole pipeline in bulk (a fraction of a second for 10,000 executions, more
    on PostgreSQL); pages that show graphlets must not pay that on every view of a store that a
    runner keeps writing. So the first view of a pipeline segments it; later views get the last
    segmentation at once, and when the store's fingerprint (row counts, highest ids, last update
    time) has moved since, one background thread per pipeline recomputes it and the page says its
    graphlets are "as of" that time.
    """

    def __init__(
        self, store: MetadataStore, config: GraphletConfig, segment: Segmenter = _segment
    ) -> None:
        self.store = store
        self.config = config
        self._segment = segment
        self._entries: OrderedDict[str | None, tuple[tuple[int, ...], Analysis]] = OrderedDict()
        self._refreshing: set[str | None] = set()
        self._lock = threading.Lock()

    def fingerprint(self) -> tuple[int, ...]:
        """Counts, highest ids and last update times of executions, artifacts and events."""
        e, a, ev = s.execution, s.artifact, s.event
        q = select(
            func.count(e.c.id),
            func.coalesce(func.max(e.c.id), 0),
            func.coalesce(func.max(e.c.last_update_time_since_epoch), 0),
        )
        qa = select(
            func.count(a.c.id),
            func.coalesce(func.max(a.c.last_update_time_since_epoch), 0),
        )
        qe = select(func.count(ev.c.id), func.coalesce(func.max(ev.c.id), 0))
        with self.store.engine.connect() as conn:
            rows = [conn.execute(x).one() for x in (q, qa, qe)]
        return tuple(int(v) for row in rows for v in row)

    def get(self, pipeline: str | None = None) -> Analysis:
        """The segmentation of one pipeline (by name) or of the whole store (None)."""
        now = self.fingerprint()
        with self._lock:
            found = self._entries.get(pipeline)
            if found is not None:
                self._entries.move_to_end(pipeline)
                if found[0] == now:
                    return found[1]
                if pipeline not in self._refreshing:
                    self._refreshing.add(pipeline)
                    threading.Thread(
                        target=self._refresh, args=(pipeline, now), daemon=True
                    ).start()
                return replace(found[1], stale=True)
        return self._compute(pipeline, now)

    def _compute(self, pipeline: str | None, fingerprint: tuple[int, ...]) -> Analysis:
        where = LoadFilter(pipeline=pipeline) if pipeline is not None else None
        result = self._segment(self.store, self.config, where)
        analysis = Analysis(result, int(time.time() * 1000))
        with self._lock:
            self._entries[pipeline] = (fingerprint, analysis)
            self._entries.move_to_end(pipeline)
            while len(self._entries) > CACHE_ENTRIES:
                self._entries.popitem(last=False)
        return analysis

    def _refresh(self, pipeline: str | None, fingerprint: tuple[int, ...]) -> None:
        try:
            self._compute(pipeline, fingerprint)
        except Exception:  # the next view retries; the page keeps the last good graphlets
            log.exception("refreshing the graphlets of %s failed", pipeline or "the store")
        finally:
            with self._lock:
                self._refreshing.discard(pipeline)

    def wait(self, timeout: float = 30.0) -> None:
        """Block until background refreshes finish (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        while self._refreshing and time.monotonic() < deadline:
            time.sleep(0.01)

    def clear(self) -> None:
        """Forget every segmentation (the next view computes afresh)."""
        with self._lock:
            self._entries.clear()


@dataclass
class WebContext:
    """The store, the settings and the caches of one app."""

    store: MetadataStore
    settings: Settings
    graphlets: GraphletCache


def get_ctx(request: Request) -> WebContext:
    """FastAPI dependency: the app's :class:`WebContext`."""
    ctx: WebContext = request.app.state.ctx
    return ctx
