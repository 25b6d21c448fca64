"""Events of one pipeline: who read and wrote which artifact, with TFX's keys, built per column.

:class:`Grid` numbers the executions and artifacts of a pipeline in run order and keeps, for every
output slot, the newest LIVE artifact at each run (a running maximum over ids, which grow with
time), so "the current schema" or "the model this Evaluator checks" is an array look-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from graphlets.model.enums import EventType
from graphlets.simulate.rows import Rows
from graphlets.simulate.tfx import KEY, KEYS, OUTPUTS
from graphlets.simulate.timeline import (
    CACHED,
    COMPLETE,
    EG,
    EVAL,
    FAILED,
    INFRA,
    NONE,
    PUSH,
    SCH,
    SG,
    TF,
    TRAIN,
    VAL,
    Timeline,
    col,
    columns,
)

INPUT, OUTPUT, PENDING = int(EventType.INPUT), int(EventType.OUTPUT), int(EventType.PENDING_OUTPUT)
_KEY_NAMES = np.array(KEYS, dtype=object)


@dataclass
class Grid:
    """Local ids of one pipeline's executions and artifacts, laid out by run and column.

    Attributes:
        eid: ``[R, C]`` execution id (-1 when the component did not run).
        e_run / e_col: run and column of each execution, in id order.
        slots: ``(column, output number)`` of each artifact slot.
        aid: ``[R, S]`` id of the artifact made in each slot (-1 when none).
        a_run / a_slot / a_col: run, slot and producing column of each artifact, in id order.
        cur: ``[R, S]`` newest LIVE artifact of each slot up to and including the run.
        start / end: ``[R, C]`` execution times (ms).
        node_context: local id of each column's ``node`` context (-1 for a node that never ran).
    """

    eid: np.ndarray
    e_run: np.ndarray
    e_col: np.ndarray
    slots: list[tuple[int, int]]
    aid: np.ndarray
    a_run: np.ndarray
    a_slot: np.ndarray
    a_col: np.ndarray
    cur: np.ndarray
    start: np.ndarray
    end: np.ndarray
    node_context: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    slot_of: dict[tuple[int, int], int] = field(default_factory=dict)

    @classmethod
    def build(cls, tl: Timeline, start: np.ndarray, end: np.ndarray) -> Grid:
        state = tl.state
        used = (state != NONE).any(axis=0)
        node_context = np.where(used, np.cumsum(used), -1)
        eid, e_run, e_col = _number(state != NONE)
        comps = columns(tl.plan.trainers)
        slots = [(c, k) for c, comp in enumerate(comps) for k in range(len(OUTPUTS[comp]))]
        slot_col = np.array([c for c, _ in slots])
        primary = np.array([k == 0 for _, k in slots])
        st = state[:, slot_col]
        made = (st == COMPLETE) | (primary & (st == FAILED))
        aid, a_run, a_slot = _number(made)
        cur = np.maximum.accumulate(np.where(st == COMPLETE, aid, -1), axis=0)
        return cls(eid, e_run, e_col, slots, aid, a_run, a_slot, slot_col[a_slot], cur, start,
                   end, node_context, {s: i for i, s in enumerate(slots)})  # fmt: skip

    def run_context(self, run: np.ndarray) -> np.ndarray:
        """Local id of each run's ``pipeline_run`` context (after the pipeline and node ones)."""
        return 1 + int(self.node_context.max(initial=0)) + run

    def current(self, c: int, k: int = 0) -> np.ndarray:
        """Newest LIVE artifact of output ``k`` of column ``c``, per run."""
        return self.cur[:, self.slot_of[(c, k)]]

    def previous(self, c: int, k: int = 0) -> np.ndarray:
        """Newest LIVE artifact of that output made in an earlier run."""
        now = self.current(c, k)
        return np.concatenate([[-1], now[:-1]])


def _number(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids 0..n-1 for the True cells of ``mask`` in row-major (run) order."""
    flat = np.flatnonzero(mask.ravel())
    ids = np.full(mask.size, -1, dtype=np.int64)
    ids[flat] = np.arange(len(flat))
    width = mask.shape[1]
    return ids.reshape(mask.shape), flat // width, flat % width


class _Edges:
    """Event columns gathered edge group by edge group."""

    def __init__(self, tl: Timeline, g: Grid) -> None:
        self.tl, self.g = tl, g
        self.parts: list[tuple[np.ndarray, ...]] = []

    def ran(self, c: int, states: tuple[int, ...] = (COMPLETE, FAILED, CACHED)) -> np.ndarray:
        return np.flatnonzero(np.isin(self.tl.state[:, c], states))

    def add(self, runs: np.ndarray, c: int, art: np.ndarray, kind: int, key: str,
            index: np.ndarray | int = 0) -> None:  # fmt: skip
        ok = art >= 0
        r = runs[ok] if np.ndim(art) == 1 else np.broadcast_to(runs[:, None], art.shape)[ok]
        times = self.g.start if kind == INPUT else self.g.end
        idx = np.broadcast_to(index, art.shape)[ok]
        self.parts.append((art[ok], self.g.eid[r, c], np.full(len(r), kind), np.full(len(r),
                          KEY[key]), idx.astype(np.int64), times[r, c]))  # fmt: skip

    def inputs(self, c: int, art_per_run: np.ndarray, key: str, runs: np.ndarray | None = None,
               ) -> None:  # fmt: skip
        runs = self.ran(c) if runs is None else runs
        self.add(runs, c, art_per_run[runs], INPUT, key)

    def window(self, c: int, ex_ids: np.ndarray) -> None:
        """The Examples of each run's training window, oldest first (path index = position)."""
        runs = self.ran(c)
        d = self.tl.draws
        offs = np.arange(self.tl.plan.window)
        ordinal = d.win_lo[runs][:, None] + offs
        valid = ordinal <= d.win_hi[runs][:, None]
        art = np.where(valid, ex_ids[np.minimum(ordinal, len(ex_ids) - 1)], -1)
        self.add(runs, c, art, INPUT, "examples", np.broadcast_to(offs, art.shape))

    def outputs(self, c: int) -> None:
        state = self.tl.state[:, c]
        comp = columns(self.tl.plan.trainers)[c]
        for k, (_, key) in enumerate(OUTPUTS[comp]):
            s = self.g.slot_of[(c, k)]
            made = np.flatnonzero(self.g.aid[:, s] >= 0)
            kinds = np.where(state[made] == COMPLETE, OUTPUT, PENDING)
            for kind in (OUTPUT, PENDING):
                runs = made[kinds == kind]
                self.add(runs, c, self.g.aid[runs, s], kind, key)
            if k == 0:
                cached = self.ran(c, (CACHED,))
                self.add(cached, c, self.g.cur[cached, s], OUTPUT, key)


def add_events(rows: Rows, tl: Timeline, g: Grid, index_steps: bool) -> None:
    """Every event of the pipeline, sorted by execution, with its path steps."""
    e = _Edges(tl, g)
    ex_ids = g.aid[:, g.slot_of[(EG, 0)]][tl.state[:, EG] == COMPLETE]
    _upstream(e, tl, g, ex_ids)
    for j in range(tl.plan.trainers):
        _trainer_chain(e, tl, g, j, ex_ids)
    art, exe, kind, key, index, ms = (np.concatenate(p) for p in zip(*e.parts, strict=True))
    order = np.argsort(exe, kind="stable")
    ids = rows.take("event", len(order))
    rows.add("event", ("id", "artifact_id", "execution_id", "type", "milliseconds_since_epoch"),
             ids, art[order], exe[order], kind[order], ms[order])  # fmt: skip
    n = len(ids)
    rows.add("eventpath", ("event_id", "is_index_step", "step_key"), ids,
             np.zeros(n, dtype=np.int64), _KEY_NAMES[key[order]])  # fmt: skip
    if index_steps:
        rows.add("eventpath", ("event_id", "is_index_step", "step_index"), ids,
                 np.ones(n, dtype=np.int64), index[order])  # fmt: skip


def _upstream(e: _Edges, tl: Timeline, g: Grid, ex_ids: np.ndarray) -> None:
    examples, stats = g.current(EG), g.current(SG)
    schema = g.current(SCH)
    e.outputs(EG)
    e.inputs(SG, examples, "examples")
    e.outputs(SG)
    fresh = e.ran(SCH, (COMPLETE, FAILED))
    e.inputs(SCH, stats, "statistics", fresh)
    source = np.maximum.accumulate(np.where(tl.state[:, SCH] == COMPLETE, stats, -1))
    e.inputs(SCH, source, "statistics", e.ran(SCH, (CACHED,)))
    e.outputs(SCH)
    e.inputs(VAL, stats, "statistics")
    e.inputs(VAL, schema, "schema")
    e.outputs(VAL)
    e.window(TF, ex_ids)
    e.inputs(TF, schema, "schema")
    e.outputs(TF)


def _trainer_chain(e: _Edges, tl: Timeline, g: Grid, j: int, ex_ids: np.ndarray) -> None:
    tr, ev, infra, push = (col(j, s) for s in (TRAIN, EVAL, INFRA, PUSH))
    model = g.current(tr)
    e.window(tr, ex_ids)
    with_tf = e.ran(tr)[tl.state[e.ran(tr), TF] != NONE]
    e.inputs(tr, g.current(TF), "transform_graph", with_tf)
    e.inputs(tr, g.current(SCH), "schema")
    if tl.plan.warm_start:
        e.inputs(tr, g.previous(tr), "base_model", e.ran(tr, (COMPLETE, FAILED)))
    e.outputs(tr)
    e.inputs(ev, g.current(EG), "examples")
    e.inputs(ev, model, "model")
    pushed = np.where(tl.pushed[:, j] == 1, model, -1)
    baseline = np.concatenate([[-1], np.maximum.accumulate(pushed)[:-1]])
    e.inputs(ev, baseline, "baseline_model")
    e.outputs(ev)
    e.inputs(infra, model, "model")
    e.inputs(infra, g.current(EG), "examples")
    e.outputs(infra)
    e.inputs(push, model, "model")
    e.inputs(push, g.current(ev, 1), "model_blessing")
    if tl.plan.has_infra:
        e.inputs(push, g.current(infra), "infra_blessing")
    e.outputs(push)
