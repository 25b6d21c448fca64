"""Write a simulated fleet into a store: the ``graphlets simulate`` entry point.

Generation and writing overlap: worker processes generate chunks of pipelines (numpy columns,
chunk-local ids) while this process writes finished chunks, in order, through the
:class:`~graphlets.store.bulk.BulkWriter` (ids from ``reserve``, rows with ``executemany`` /
``COPY``). Chunks are written in pipeline order whatever process made them, and every pipeline
draws from its own random stream, so a seed gives the same store for any number of workers. A
commit every ``COMMIT_ROWS`` rows keeps SQLite's write-ahead log small.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphlets.errors import InvalidArgumentError, StoreError
from graphlets.simulate.config import FleetConfig
from graphlets.simulate.generate import Chunk, Counts, cut_chunks, estimated_rows, generate_chunk
from graphlets.simulate.plan import expected_models, plan_fleet
from graphlets.simulate.rows import ID_TABLES, shifted
from graphlets.simulate.tfx import TypeIds, register_types
from graphlets.store import MetadataStore
from graphlets.store.bulk import BulkWriter
from graphlets.store.url import parse_store_url

CHUNK_ROWS = 600_000
COMMIT_ROWS = 20_000_000
BYTES_PER_ROW = 60  # SQLite, indexes included (measured); for the write-ahead log allowance
# (pipelines done, pipelines in all)
ProgressFn = Callable[[int, int], None]


@dataclass
class SimulationResult:
    """What ``simulate`` wrote (JSON-ready through :meth:`to_dict`)."""

    profile: str
    seed: int
    store: str
    pipelines: int
    runs: int
    models: int
    expected_models: float
    rows: int
    tables: dict[str, int]
    outcomes: dict[str, int]
    causes: dict[str, int]
    seconds: float
    store_bytes: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for ``--json`` and the benchmarks."""
        return dict(self.__dict__)


def simulate(
    cfg: FleetConfig,
    url: str | None,
    *,
    workers: int | None = 0,
    progress: ProgressFn | None = None,
) -> SimulationResult:
    """Generate ``cfg``'s fleet into the store at ``url`` (created when missing, must be empty).

    Args:
        cfg: the fleet profile (``load_profile``), possibly changed with ``cfg.with_(...)``.
        url: store URL; ``None`` is the default store.
        workers: generator processes (0: generate inline); ``None`` picks 1 for big fleets on a
            machine with several cores, else 0. Workers are spawned, so a script that uses them
            needs the usual ``if __name__ == "__main__":`` guard.
        progress: called with (pipelines written, pipelines in all) after every chunk.
    """
    t0 = time.perf_counter()
    plans = plan_fleet(cfg)
    expected = expected_models(cfg, plans)
    total_rows = sum(estimated_rows(p) for p in plans)
    check_disk(cfg, url, expected, total_rows)
    chunks = cut_chunks(plans, CHUNK_ROWS)
    if workers is None:
        workers = 1 if total_rows > 4 * CHUNK_ROWS and (os.cpu_count() or 1) > 1 else 0
    counts = Counts()
    with MetadataStore(url, create=True) as store:
        _require_empty(store)
        types = register_types(store)
        _write_all(store, _chunks(cfg, types, chunks, workers), counts, cfg.pipelines, progress)
        where = store.url
    path = where.path
    return SimulationResult(
        profile=cfg.name,
        seed=cfg.seed,
        store=where.redacted(),
        pipelines=counts.pipelines,
        runs=counts.runs,
        models=counts.models,
        expected_models=round(expected, 1),
        rows=counts.rows,
        tables=dict(counts.tables),
        outcomes=dict(counts.outcomes),
        causes=dict(counts.causes.most_common()),
        seconds=round(time.perf_counter() - t0, 2),
        store_bytes=Path(path).stat().st_size if path is not None else None,
    )


def check_disk(cfg: FleetConfig, url: str | None, models: float, rows: int) -> None:
    """Refuse a SQLite store whose disk cannot hold ``models`` (plus one commit's log)."""
    parsed = parse_store_url(url)
    if parsed.path is None:
        return
    need = int(models * cfg.store.bytes_per_model * 1.1) + min(rows, COMMIT_ROWS) * BYTES_PER_ROW
    folder = Path(parsed.path).parent
    free = shutil.disk_usage(folder if folder.exists() else Path.cwd()).free
    if free < need:
        raise StoreError(
            f"not enough disk for profile {cfg.name!r} at {folder}: it needs about "
            f"{need / 1e9:.1f} GB and {free / 1e9:.1f} GB are free: free space or pass a --store "
            "on a bigger disk"
        )


def _require_empty(store: MetadataStore) -> None:
    n = store.count("execution")
    if n:
        raise InvalidArgumentError(
            f"store {store.url.redacted()} already holds {n} executions: simulate into a new or "
            "empty store"
        )


def _chunks(
    cfg: FleetConfig, types: TypeIds, chunks: list[list[int]], workers: int
) -> Iterator[Chunk]:
    """Generated chunks in order: inline, or from ``workers`` processes a few chunks ahead."""
    if workers <= 0:
        for c in chunks:
            yield generate_chunk(cfg, types, c)
        return
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending: deque[Future[Chunk]] = deque()
        todo = iter(chunks)
        for c in todo:
            pending.append(pool.submit(generate_chunk, cfg, types, c))
            if len(pending) > workers + 1:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _write_all(
    store: MetadataStore,
    chunks: Iterator[Chunk],
    counts: Counts,
    total: int,
    progress: ProgressFn | None,
) -> None:
    """Write chunks through bulk writers, committing every ``COMMIT_ROWS`` rows."""
    writer: BulkWriter | None = None
    in_tx = 0
    try:
        for chunk in chunks:
            if writer is None:
                writer = BulkWriter(store).__enter__()
            write_chunk(writer, chunk)
            counts.add(chunk.counts)
            in_tx += chunk.counts.rows
            if in_tx >= COMMIT_ROWS:
                writer.__exit__(None, None, None)
                writer, in_tx = None, 0
            if progress:
                progress(counts.pipelines, total)
    except BaseException as exc:
        if writer is not None:
            writer.__exit__(type(exc), exc, exc.__traceback__)
        raise
    if writer is not None:
        writer.__exit__(None, None, None)


def write_chunk(w: BulkWriter, chunk: Chunk) -> None:
    """Reserve the chunk's ids and write its rows."""
    first = {t: w.reserve(t, chunk.ids[t]) for t in ID_TABLES}
    for table, cols, values in chunk.tables:
        w.write(table, cols, zip(*shifted(table, cols, values, first), strict=True))
