"""Graphlet segmentation: anchors, upstream and downstream membership, for all models in one pass.

Walking each model's lineage on its own would redo the same work many times over (a span read by a
7-day window sits behind 7 trainings; a schema behind hundreds) and cost a Python loop per node.
Instead the rules of DESIGN.md are compiled once into two execution-to-execution adjacencies:

* **up**: from an execution to the executions that produced its inputs, skipping model artifacts
  (an earlier model is an input, its graphlet is not pulled in), source executions (nothing above
  ingest is walked), executions that output a model (other graphlets' anchors) and **carry-over
  inputs** (an artifact an earlier execution of the consumer's own node produced: a base schema,
  a warm-start model, an analyzer cache; without this cut every run chains to the one before).
  Of an artifact's producers, its creator (first OUTPUT producer) is followed, and of its CACHED
  re-emitters only the one that delivered it (the latest before the consumer), so a cache hit adds
  its own small cost and nothing more; a resolver or importer re-emitting it is not followed.
* **down**: from an execution to the consumers of its outputs, skipping inputs under the
  not-followed keys (``base_model``, ``baseline_model``), consumers that make another model,
  resolvers and importers re-emitting an existing artifact, and anything after a push.

Anchors are the creators of new model artifacts (COMPLETE, not a source, model not ABANDONED); a
CACHED execution re-emitting the model is a cache hit of that graphlet (``cached_anchor``).
Then every graphlet's members are the closure of its anchor under these adjacencies, computed for
all graphlets together as (graphlet, node) pairs, one vectorised hop at a time (:func:`closure`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graphlets.lineage.arrays import contains, run_starts, unique
from graphlets.lineage.config import GraphletConfig
from graphlets.lineage.graph import (
    CSR,
    INPUT_TYPES,
    OUTPUT_TYPES,
    LineageIndex,
    closure,
    expand,
)
from graphlets.lineage.nodes import NodeInfo
from graphlets.model.enums import ArtifactState, EventType, ExecutionState

# Member roles, in priority order when a node qualifies twice for the same graphlet.
ROLES = ("anchor", "cached_anchor", "upstream", "downstream", "model", "output", "input")
ANCHOR, CACHED_ANCHOR, UPSTREAM, DOWNSTREAM, MODEL, OUTPUT, INPUT = range(len(ROLES))


@dataclass(frozen=True)
class Membership:
    """(graphlet, node, role) rows for executions and artifacts; rows sorted by graphlet.

    Attributes:
        anchors: execution index of each graphlet's anchor (graphlet ``g`` is ``anchors[g]``).
        models: artifact index of each graphlet's (first) model.
        e_g / e_node / e_role: execution members.
        a_g / a_node / a_role: artifact members.
    """

    anchors: np.ndarray
    models: np.ndarray
    e_g: np.ndarray
    e_node: np.ndarray
    e_role: np.ndarray
    a_g: np.ndarray
    a_node: np.ndarray
    a_role: np.ndarray

    @property
    def n(self) -> int:
        """Number of graphlets."""
        return len(self.anchors)


def segment(index: LineageIndex, info: NodeInfo, cfg: GraphletConfig) -> Membership:
    """Cut the loaded graph into graphlets (membership only; costs and outcomes come after)."""
    ev = _Events(index, info, cfg)
    anchors, model_g, model_a = _anchors(index, info)
    n_e, n_a = index.n_exec, index.n_art
    cached_g, cached_e = _cached_anchors(ev, model_g, model_a, anchors)
    starts_g = np.concatenate([np.arange(len(anchors), dtype=np.int64), cached_g])
    starts_e = np.concatenate([anchors, cached_e])
    up_g, up_e = closure(ev.up, starts_g, starts_e, n_e)
    in_g, in_a = expand(ev.up_inputs, up_g, up_e)
    d_g, d_e = expand(ev.consumers, model_g, model_a)
    down_g, down_e = closure(ev.down_step, d_g, d_e, n_e)
    out_g, out_a = expand(
        ev.outputs, np.concatenate([starts_g, down_g]), np.concatenate([starts_e, down_e])
    )
    e_g, e_node, e_role = _dedupe(
        n_e,
        (np.arange(len(anchors), dtype=np.int64), anchors, ANCHOR),
        (cached_g, cached_e, CACHED_ANCHOR),
        (up_g, up_e, UPSTREAM),
        (down_g, down_e, DOWNSTREAM),
    )
    a_g, a_node, a_role = _dedupe(
        n_a, (model_g, model_a, MODEL), (out_g, out_a, OUTPUT), (in_g, in_a, INPUT)
    )
    first = run_starts(model_g)
    return Membership(anchors, model_a[first], e_g, e_node, e_role, a_g, a_node, a_role)


class _Events:
    """The event subsets and adjacencies the rules use, built once per segmentation."""

    def __init__(self, index: LineageIndex, info: NodeInfo, cfg: GraphletConfig) -> None:
        self.index, self.info = index, info
        e, a = index.ev_exec, index.ev_art
        n_e, n_a = index.n_exec, index.n_art
        inp = index.event_mask(INPUT_TYPES)
        self.out = index.event_mask(OUTPUT_TYPES)
        maker = np.zeros(n_e, dtype=bool)
        maker[_maker_pairs(index, info, inp, self.out) // max(n_a, 1)] = True
        carry = np.zeros(len(e), dtype=bool)
        if not cfg.follow_carry_over:
            carry = carry_over(index, info, inp, self.out)
        skip = [i for i, k in enumerate(index.keys) if k in cfg.not_followed_keys]
        followed = ~np.isin(index.ev_key, np.array(skip, dtype=np.int64))
        # exec -> its input artifacts (upstream members); sources read nothing we walk.
        walk_in = inp & ~info.e_source[e]
        self.up_inputs = CSR.build(e[walk_in], a[walk_in], n_e)
        self.outputs = CSR.build(e[self.out], a[self.out], n_e)
        self.creator = creators(index, self.out)
        use = inp & followed & ~maker[e] & ~_re_emitters(index, info, self.out, self.creator)[e]
        self.consumers = CSR.build(a[use], e[use], n_a)
        walk_out = self.out & ~info.e_push[e]
        self.down_outputs = CSR.build(e[walk_out], a[walk_out], n_e)
        self.up = self._up_csr(walk_in & ~info.a_model[a] & ~carry, maker)

    def down_step(self, g: np.ndarray, execs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One downstream hop: an execution's outputs (none after a push), then their consumers."""
        n_a = max(self.index.n_art, 1)
        ag, arts = expand(self.down_outputs, g, execs)
        keys = unique(ag * n_a + arts)
        return expand(self.consumers, keys // n_a, keys % n_a)

    def _up_csr(self, edges: np.ndarray, maker: np.ndarray) -> CSR:
        """Execution -> executions that produced what it read (the creator, and the delivering
        cached re-emitter), never one that outputs a model."""
        ix, info = self.index, self.info
        c, a = ix.ev_exec[edges], ix.ev_art[edges]
        creator = self.creator[a]
        ok = creator >= 0
        ok[ok] = ~maker[creator[ok]]
        cached = self.out & ~maker[ix.ev_exec]
        cached &= info.e_state[ix.ev_exec] == ExecutionState.CACHED
        dc, dp = _delivering_cached(ix, cached, c, a)
        src, dst = np.concatenate([c[ok], dc]), np.concatenate([creator[ok], dp])
        keep = src != dst
        return _unique_csr(src[keep], dst[keep], ix.n_exec)


def _maker_pairs(
    index: LineageIndex, info: NodeInfo, inp: np.ndarray, out: np.ndarray
) -> np.ndarray:
    """Packed (execution, model) pairs where the execution outputs a model it did not read."""
    n_a = max(index.n_art, 1)
    e, a = index.ev_exec, index.ev_art
    m_out = out & info.a_model[a]
    outs = unique(e[m_out] * n_a + a[m_out])
    ins = unique(e[inp] * n_a + a[inp])
    return np.asarray(outs[~contains(ins, outs)], dtype=np.int64)


def creators(index: LineageIndex, out: np.ndarray) -> np.ndarray:
    """Per artifact, the index of its first OUTPUT producer (lowest id: its creator), -1 if none.

    Later producers re-emit an artifact that already existed (a cache hit, a resolver, an
    importer); MLMD ids grow with time, so the lowest producer id is the one that made it.
    """
    n_e = max(index.n_exec, 1)
    keys = np.sort(index.ev_art[out] * n_e + index.ev_exec[out])
    first = keys[run_starts(keys // n_e)]
    made = np.full(index.n_art, -1, dtype=np.int64)
    made[first // n_e] = first % n_e
    return made


def _re_emitters(
    index: LineageIndex, info: NodeInfo, out: np.ndarray, creator: np.ndarray
) -> np.ndarray:
    """Executions that output an artifact another execution created, other than cache hits:
    resolvers (TFX 1.16 records them reading and re-emitting what they resolved) and importers
    of existing artifacts. They belong to no graphlet, so the downstream walk skips them."""
    e, a = index.ev_exec, index.ev_art
    again = out & (creator[a] != e) & (info.e_state[e] != ExecutionState.CACHED)
    mask = np.zeros(index.n_exec, dtype=bool)
    mask[e[again]] = True
    return mask


def carry_over(index: LineageIndex, info: NodeInfo, inp: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Mask of the INPUT events whose artifact another execution of the consumer's node produced.

    Such an input carries state from run to run (SchemaGen's base schema, a warm-start model, an
    analyzer cache): it is an input member, but walking through it would chain every run to the
    one before. Decided by node (``info.e_node``), never by input key.
    """
    e, a, node = index.ev_exec, index.ev_art, info.e_node
    n_a, n_k = max(index.n_art, 1), int(node.max()) + 1 if node.size else 1
    made = unique(e[out] * n_a + a[out])  # distinct (producer, artifact)
    by_node = np.sort((made % n_a) * n_k + node[made // n_a])
    ic, ia = e[inp], a[inp]
    key = ia * n_k + node[ic]
    same_node = np.searchsorted(by_node, key, "right") - np.searchsorted(by_node, key, "left")
    itself = contains(made, ic * n_a + ia).astype(np.int64)
    mask = np.zeros(len(e), dtype=bool)
    mask[np.flatnonzero(inp)] = same_node - itself > 0
    return mask


def _anchors(index: LineageIndex, info: NodeInfo) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Anchor executions, and (graphlet, model artifact) pairs.

    A model's anchor is its creator, its first OUTPUT producer (lowest id), if that execution is
    COMPLETE, not a source (an importer registering an existing model) and the model is not
    ABANDONED: later producers re-emit it (cache hits, resolvers), they do not train it again.
    """
    e, a = index.ev_exec, index.ev_art
    m = (index.ev_type == EventType.OUTPUT) & info.a_model[a]
    m &= info.a_state[a] != ArtifactState.ABANDONED
    me, ma = e[m], a[m]
    order = np.lexsort((me, ma))
    me, ma = me[order], ma[order]
    first = run_starts(ma)
    me, ma = me[first], ma[first]
    ok = (info.e_state[me] == ExecutionState.COMPLETE) & ~info.e_source[me]
    me, ma = me[ok], ma[ok]
    order = np.lexsort((ma, me))
    me, ma = me[order], ma[order]
    anchors = me[run_starts(me)]
    return anchors, np.searchsorted(anchors, me).astype(np.int64), ma


def _cached_anchors(
    ev: _Events, model_g: np.ndarray, model_a: np.ndarray, anchors: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Later CACHED executions that output a graphlet's model (cached trainers); a resolver or an
    importer re-emitting it (COMPLETE) is no part of the graphlet."""
    ix = ev.index
    producers = CSR.build(ix.ev_art[ev.out], ix.ev_exec[ev.out], ix.n_art)
    g, e = expand(producers, model_g, model_a)
    keep = (e != anchors[g]) & (ev.info.e_state[e] == ExecutionState.CACHED)
    keys = unique(g[keep] * max(ev.index.n_exec, 1) + e[keep])
    return keys // max(ev.index.n_exec, 1), keys % max(ev.index.n_exec, 1)


def _delivering_cached(
    index: LineageIndex, cached_out: np.ndarray, c: np.ndarray, a: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each (consumer, artifact) edge, the latest CACHED producer of the artifact before the
    consumer (ids grow with time in MLMD), if any."""
    n_e = max(index.n_exec, 1)
    ck = np.sort(index.ev_art[cached_out] * n_e + index.ev_exec[cached_out])
    if ck.size == 0 or c.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    pos = np.searchsorted(ck, a * n_e + c) - 1
    ok = pos >= 0
    pos = np.where(ok, pos, 0)
    ok &= ck[pos] // n_e == a
    return c[ok], ck[pos[ok]] % n_e


def _unique_csr(src: np.ndarray, dst: np.ndarray, n: int) -> CSR:
    keys = unique(src * max(n, 1) + dst)
    return CSR.build(keys // max(n, 1), keys % max(n, 1), n)


def _dedupe(
    n_nodes: int, *parts: tuple[np.ndarray, np.ndarray, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union of (graphlet, node) parts; a pair in several parts keeps the earliest part's role."""
    n = max(n_nodes, 1)
    keys = np.concatenate([g.astype(np.int64) * n + x for g, x, _ in parts])
    roles = np.concatenate([np.full(len(g), r, dtype=np.int8) for g, _, r in parts])
    order = np.lexsort((roles, keys))
    keys, roles = keys[order], roles[order]
    first = run_starts(keys)
    keys, roles = keys[first], roles[first]
    return keys // n, keys % n, roles
