"""Attribution of a shared node among the graphlets it belongs to.

An upstream execution often serves many graphlets (a span read by a 7-day window, a schema behind
every training). Its cost is split by a policy: ``split`` (default) gives each of its k graphlets
1/k, so graphlet costs add up to the cost of the executions they cover; ``full`` gives each all of
it (each graphlet's cost as if it ran alone; totals double count); ``first`` gives it all to the
earliest graphlet (lowest anchor id) and nothing to the others (what the first training caused).
"""

from __future__ import annotations

import numpy as np

from graphlets.lineage.config import SharingPolicy


def shares(g: np.ndarray, node: np.ndarray, n_nodes: int, policy: SharingPolicy) -> np.ndarray:
    """Share of each (graphlet, node) membership row under ``policy``."""
    count = np.bincount(node, minlength=n_nodes)
    if policy == "split":
        return np.asarray(1.0 / count[node], dtype=np.float64)
    if policy == "full":
        return np.ones(len(node))
    order = np.lexsort((g, node))
    sorted_nodes = node[order]
    first = np.ones(len(node), dtype=bool)
    first[1:] = sorted_nodes[1:] != sorted_nodes[:-1]
    out = np.zeros(len(node))
    out[order[first]] = 1.0
    return out


def membership_counts(node: np.ndarray, n_nodes: int) -> np.ndarray:
    """How many graphlets each node belongs to."""
    return np.bincount(node, minlength=n_nodes)
