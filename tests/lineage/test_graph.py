"""Vectorised traversal agrees with the store's own ``get_lineage_subgraph``."""

from __future__ import annotations

import numpy as np
import pytest

from graphlets.errors import NotFoundError
from graphlets.lineage import Direction, LineageIndex, load_tables
from graphlets.lineage.graph import CSR, closure, expand
from graphlets.model import ExecutionState
from graphlets.store import MetadataStore
from tests.lineage.builder import Builder, full_run, ingest, train


def _graph(store: MetadataStore) -> None:
    """Warm start, baseline, a rolling window and a failed trainer (PENDING_OUTPUT)."""
    b = Builder(store)
    r1 = full_run(b, 1, "r1")
    r2 = full_run(b, 2, "r2", window=[r1["examples"]], base_model=r1["model"], baseline=r1["model"])
    up = ingest(b, 3, "r3")
    train(b, "r3", [r2["examples"], up["examples"]], up["schema"], state=ExecutionState.FAILED)


def test_traverse_matches_get_lineage_subgraph(store: MetadataStore) -> None:
    _graph(store)
    index = LineageIndex.from_tables(load_tables(store))
    arts = [a.id for a in store.get_artifacts()]
    execs = [e.id for e in store.get_executions()]
    starts = [([a], []) for a in arts[::3]] + [([], [e]) for e in execs[::4]]
    starts.append((arts[:3], execs[-2:]))  # many start nodes at once: the union
    for direction in Direction:
        for hops in (0, 1, 2, 4):
            for a_ids, e_ids in starts:
                want = store.get_lineage_subgraph(
                    a_ids, e_ids, direction=direction.value, max_hops=hops
                )
                got_a, got_e = index.traverse(a_ids, e_ids, direction=direction, max_hops=hops)
                case = (direction, hops, a_ids, e_ids)
                assert set(got_a.tolist()) == {x.id for x in want.artifacts}, case
                assert set(got_e.tolist()) == {x.id for x in want.executions}, case


def test_traverse_to_the_sources(store: MetadataStore) -> None:
    _graph(store)
    index = LineageIndex.from_tables(load_tables(store))
    model2 = [a.id for a in store.get_artifacts_by_type("Model")][1]
    deep = store.get_lineage_subgraph([model2], direction="up", max_hops=1000)
    a, e = index.traverse([model2], direction="up", max_hops=None)
    assert set(e.tolist()) == {int(x.id) for x in deep.executions}  # type: ignore[misc]
    assert set(a.tolist()) == {int(x.id) for x in deep.artifacts}  # type: ignore[misc]


@pytest.mark.unit
def test_unknown_ids_raise_a_clear_error() -> None:
    with MetadataStore("sqlite://") as store:
        _graph(store)
        index = LineageIndex.from_tables(load_tables(store))
    with pytest.raises(NotFoundError, match=r"artifact ids \[999\] are not in the loaded graph"):
        index.traverse([999])


@pytest.mark.unit
def test_expand_and_closure_on_many_labels() -> None:
    # 0 -> 1 -> 2 -> 3, 1 -> 3 (a diamond), 4 isolated
    csr = CSR.build(np.array([0, 1, 2, 1]), np.array([1, 2, 3, 3]), 5)
    lab, nbr = expand(csr, np.array([7, 8]), np.array([1, 0]))
    assert list(zip(lab.tolist(), nbr.tolist(), strict=True)) == [(7, 2), (7, 3), (8, 1)]
    g, n = closure(csr, np.array([0, 1, 2]), np.array([0, 2, 4]), 5)
    pairs = set(zip(g.tolist(), n.tolist(), strict=True))
    assert pairs == {(0, 0), (0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 4)}
    g, n = closure(csr, np.array([0]), np.array([0]), 5, max_hops=1)
    assert set(n.tolist()) == {0, 1}
