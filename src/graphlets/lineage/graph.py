"""The provenance graph as CSR arrays, and traversals over it without Python per-node loops.

Executions and artifacts keep separate index spaces (row numbers of the sorted id columns of
:class:`~graphlets.lineage.load.LineageTables`); events are the edges. A CSR adjacency (``indptr``,
``indices``) turns "the neighbours of these 100,000 nodes" into a few numpy gathers, and
:func:`expand` does it for many (label, node) pairs at once, which is how graphlet segmentation
walks every model's lineage in the same pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
import polars as pl

from graphlets.errors import NotFoundError
from graphlets.lineage.arrays import contains, merge_disjoint, positions, unique
from graphlets.lineage.load import LineageTables
from graphlets.model.enums import EventType

INPUT_TYPES = (EventType.DECLARED_INPUT, EventType.INPUT, EventType.INTERNAL_INPUT)
# Real outputs: the artifact exists. PENDING_OUTPUT (an output that may never be produced, e.g.
# ABANDONED after a failure) is kept apart.
OUTPUT_TYPES = (EventType.DECLARED_OUTPUT, EventType.OUTPUT, EventType.INTERNAL_OUTPUT)


class Direction(str, Enum):
    """Which way to walk: the same values as the store's ``Direction``."""

    UPSTREAM = "up"
    DOWNSTREAM = "down"
    BIDIRECTIONAL = "both"


@dataclass(frozen=True)
class CSR:
    """Adjacency in compressed sparse rows.

    The neighbours of ``i`` are ``indices[indptr[i] : indptr[i + 1]]``.
    """

    indptr: np.ndarray
    indices: np.ndarray

    @classmethod
    def build(cls, src: np.ndarray, dst: np.ndarray, n_src: int) -> CSR:
        """From parallel edge arrays (duplicates kept)."""
        counts = np.bincount(src, minlength=n_src)
        indptr = np.zeros(n_src + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        if src.size > 1 and not bool(np.all(src[1:] >= src[:-1])):
            dst = dst[np.argsort(src, kind="stable")]
        return cls(indptr, dst.astype(np.int64, copy=False))

    def degree(self, nodes: np.ndarray) -> np.ndarray:
        """Number of neighbours of each node."""
        return np.asarray(self.indptr[nodes + 1] - self.indptr[nodes], dtype=np.int64)


def expand(csr: CSR, labels: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (label, neighbour) for the (label, node) pairs given: one vectorised hop."""
    deg = csr.degree(nodes)
    total = int(deg.sum())
    if total == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    ends = np.cumsum(deg)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(ends - deg, deg)
    starts = np.repeat(csr.indptr[nodes], deg)
    return np.repeat(labels, deg), csr.indices[starts + offsets]


Step = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def csr_step(csr: CSR) -> Step:
    """A closure step that follows one adjacency."""
    return lambda labels, nodes: expand(csr, labels, nodes)


def closure(
    step: Step | CSR,
    labels: np.ndarray,
    nodes: np.ndarray,
    n_nodes: int,
    max_hops: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """All (label, node) pairs reachable from the given pairs (included), each once.

    ``step`` maps (label, node) pairs to their neighbour pairs: a :class:`CSR` or a function, for
    walks whose hop is more than one adjacency. Pairs are packed as ``label * n_nodes + node`` so
    that de-duplication is one sort per hop, and nodes already reached under a label are
    not walked again. Rows come back sorted by label.
    """
    walk = csr_step(step) if isinstance(step, CSR) else step
    n = max(n_nodes, 1)
    seen = unique(labels.astype(np.int64) * n + nodes)
    frontier = seen
    hops = 0
    while frontier.size and (max_hops is None or hops < max_hops):
        lab, nbr = walk(frontier // n, frontier % n)
        new = unique(lab * n + nbr)
        new = new[~contains(seen, new)]
        seen = merge_disjoint(seen, new)
        frontier = new
        hops += 1
    return seen // n, seen % n


@dataclass
class LineageIndex:
    """Events as index arrays plus the CSR adjacencies built from them (on first use).

    Attributes:
        exec_ids / art_ids: sorted MLMD ids; a node's index is its position here.
        ev_exec / ev_art / ev_type: one entry per event (index of execution and artifact, type).
        ev_key: code of the event's first path key; ``keys[code]`` is the string.
    """

    exec_ids: np.ndarray
    art_ids: np.ndarray
    ev_exec: np.ndarray
    ev_art: np.ndarray
    ev_type: np.ndarray
    ev_key: np.ndarray
    keys: list[str]
    _csr: dict[str, CSR] = field(default_factory=dict, repr=False)

    @classmethod
    def from_tables(cls, tables: LineageTables) -> LineageIndex:
        """Index the events of ``tables``; events whose ends were not loaded are dropped."""
        exec_ids = tables.executions["id"].to_numpy()
        art_ids = tables.artifacts["id"].to_numpy()
        ev = tables.events
        e_pos, e_ok = positions(exec_ids, ev["execution_id"].to_numpy())
        a_pos, a_ok = positions(art_ids, ev["artifact_id"].to_numpy())
        mask = e_ok & a_ok
        ok: np.ndarray | slice = slice(None) if mask.all() else mask  # whole store: no copies
        key = ev["key"]
        dtype = key.dtype
        if not isinstance(dtype, pl.Enum):
            key = key.cast(pl.String)
            dtype = pl.Enum(key.unique().sort().to_list())
            key = key.cast(dtype)
        cats = dtype.categories.to_list()
        codes = key.to_physical().to_numpy().astype(np.int64)
        return cls(
            exec_ids,
            art_ids,
            e_pos[ok],
            a_pos[ok],
            ev["type"].to_numpy()[ok],
            codes[ok],
            cats,
        )

    @property
    def n_exec(self) -> int:
        """Number of executions."""
        return len(self.exec_ids)

    @property
    def n_art(self) -> int:
        """Number of artifacts."""
        return len(self.art_ids)

    def event_mask(self, types: tuple[EventType, ...]) -> np.ndarray:
        """Events whose type is one of ``types``."""
        return np.isin(self.ev_type, np.array([int(t) for t in types], dtype=self.ev_type.dtype))

    def csr(self, name: str) -> CSR:
        """Named adjacency: ``exec_in``/``exec_out`` (execution -> artifacts it reads/writes),
        ``art_consumers``/``art_producers`` (artifact -> executions). The ``lineage`` variants
        count PENDING_OUTPUT as an output, as the store's ``get_lineage_subgraph`` does."""
        if name not in self._csr:
            self._csr[name] = self._build(name)
        return self._csr[name]

    def _build(self, name: str) -> CSR:
        base, _, variant = name.partition(":")
        outs = OUTPUT_TYPES + ((EventType.PENDING_OUTPUT,) if variant == "lineage" else ())
        m = self.event_mask(INPUT_TYPES if base in ("exec_in", "art_consumers") else outs)
        if base.startswith("exec"):
            return CSR.build(self.ev_exec[m], self.ev_art[m], self.n_exec)
        return CSR.build(self.ev_art[m], self.ev_exec[m], self.n_art)

    def exec_index(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Indices of execution ids (NotFoundError for unknown ids)."""
        return _index_of(self.exec_ids, np.asarray(ids, dtype=np.int64), "execution")

    def art_index(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Indices of artifact ids (NotFoundError for unknown ids)."""
        return _index_of(self.art_ids, np.asarray(ids, dtype=np.int64), "artifact")

    def traverse(
        self,
        artifact_ids: Sequence[int] | np.ndarray = (),
        execution_ids: Sequence[int] | np.ndarray = (),
        *,
        direction: Direction | str = Direction.BIDIRECTIONAL,
        max_hops: int | None = 2,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Artifact ids and execution ids within ``max_hops`` event edges of the start nodes.

        The union over all start nodes, as the store's ``get_lineage_subgraph``; ``max_hops=None``
        walks to the sources (upstream) or sinks (downstream).
        """
        d = Direction(direction)
        arts = np.zeros(self.n_art, dtype=bool)
        execs = np.zeros(self.n_exec, dtype=bool)
        fa = unique(self.art_index(artifact_ids))
        fe = unique(self.exec_index(execution_ids))
        arts[fa], execs[fe] = True, True
        a2e, e2a = self._directed(d)
        hops = 0
        while (fa.size or fe.size) and (max_hops is None or hops < max_hops):
            new_e = unique(np.concatenate([_neighbours(c, fa) for c in a2e]))
            new_a = unique(np.concatenate([_neighbours(c, fe) for c in e2a]))
            new_e, new_a = new_e[~execs[new_e]], new_a[~arts[new_a]]
            execs[new_e], arts[new_a] = True, True
            fe, fa = new_e, new_a
            hops += 1
        return self.art_ids[arts], self.exec_ids[execs]

    def _directed(self, d: Direction) -> tuple[list[CSR], list[CSR]]:
        up_a, up_e = self.csr("art_producers:lineage"), self.csr("exec_in")
        down_a, down_e = self.csr("art_consumers"), self.csr("exec_out:lineage")
        if d == Direction.UPSTREAM:
            return [up_a], [up_e]
        if d == Direction.DOWNSTREAM:
            return [down_a], [down_e]
        return [up_a, down_a], [up_e, down_e]


def _neighbours(csr: CSR, nodes: np.ndarray) -> np.ndarray:
    return expand(csr, np.zeros(len(nodes), dtype=np.int64), nodes)[1]


def _index_of(sorted_ids: np.ndarray, ids: np.ndarray, kind: str) -> np.ndarray:
    pos, ok = positions(sorted_ids, ids)
    if not ok.all():
        missing = ids[~ok][:5].tolist()
        raise NotFoundError(
            f"{kind} ids {missing} are not in the loaded graph: check the ids, or load the whole "
            "store instead of a filtered part"
        )
    return pos
