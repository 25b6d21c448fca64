"""Generate the fleet in chunks of whole pipelines, without touching a database.

A chunk is a list of pipeline indices; :func:`generate_chunk` plans, simulates and emits each of
them and returns their rows as one array per column (chunk-local ids) with the counts the summary
needs. It is a plain function of ``(config, type ids, indices)`` so it runs the same inline or in a
worker process, and the rows do not depend on how the fleet was cut into chunks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from graphlets.simulate.causal import CAUSES, OUTCOMES
from graphlets.simulate.config import FleetConfig
from graphlets.simulate.emit import emit_pipeline
from graphlets.simulate.plan import PipelinePlan, plan_pipeline
from graphlets.simulate.rows import Rows
from graphlets.simulate.tfx import TypeIds
from graphlets.simulate.timeline import COMPLETE, TRAIN, Timeline, col, simulate_pipeline

# Rough rows per run and per trainer, to cut chunks of similar size before anything is generated.
ROWS_PER_RUN, ROWS_PER_TRAINER = 110, 95


@dataclass
class Counts:
    """What a chunk (or a whole fleet) holds."""

    pipelines: int = 0
    runs: int = 0
    models: int = 0
    rows: int = 0
    tables: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    causes: Counter[str] = field(default_factory=Counter)

    def add(self, other: Counts) -> None:
        """Accumulate another chunk's counts."""
        self.pipelines += other.pipelines
        self.runs += other.runs
        self.models += other.models
        self.rows += other.rows
        self.tables.update(other.tables)
        self.outcomes.update(other.outcomes)
        self.causes.update(other.causes)

    def count_timeline(self, tl: Timeline) -> None:
        """Runs, trained models and the latent outcome of every training of one pipeline."""
        self.pipelines += 1
        self.runs += tl.runs
        for j in range(tl.plan.trainers):
            self.models += int((tl.state[:, col(j, TRAIN)] == COMPLETE).sum())
        pairs = tl.outcome.astype(np.int64) * len(CAUSES) + tl.cause
        for code, n in zip(*np.unique(pairs[tl.outcome > 0], return_counts=True), strict=True):
            outcome, cause = OUTCOMES[code // len(CAUSES)], CAUSES[code % len(CAUSES)]
            self.outcomes[outcome] += int(n)
            self.causes[f"{outcome}:{cause}"] += int(n)


@dataclass
class Chunk:
    """Rows of a chunk of pipelines: ``(table, columns, arrays)`` with chunk-local ids."""

    tables: list[tuple[str, tuple[str, ...], tuple[np.ndarray, ...]]]
    ids: dict[str, int]
    counts: Counts


def generate_chunk(cfg: FleetConfig, types: TypeIds, indices: list[int]) -> Chunk:
    """Plan, simulate and emit pipelines ``indices``."""
    rows, counts = Rows(), Counts()
    for i in indices:
        tl = simulate_pipeline(cfg, plan_pipeline(cfg, i))
        counts.count_timeline(tl)
        rows.extend(emit_pipeline(cfg, tl, types))
    tables = list(rows.concatenated())
    for table, _, values in tables:
        counts.tables[table] += len(values[0])
    counts.rows = sum(counts.tables.values())
    return Chunk(tables, dict(rows.ids), counts)


def estimated_rows(plan: PipelinePlan) -> int:
    """Rows a pipeline will write, roughly (for cutting chunks and the disk check)."""
    return plan.n_slots * (ROWS_PER_RUN + ROWS_PER_TRAINER * plan.trainers)


def cut_chunks(plans: list[PipelinePlan], target_rows: int) -> list[list[int]]:
    """Consecutive pipeline indices, about ``target_rows`` rows per chunk."""
    chunks: list[list[int]] = [[]]
    size = 0
    for p in plans:
        if chunks[-1] and size >= target_rows:
            chunks.append([])
            size = 0
        chunks[-1].append(p.index)
        size += estimated_rows(p)
    return [c for c in chunks if c]
