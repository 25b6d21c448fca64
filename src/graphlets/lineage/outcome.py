"""Outcome of each graphlet: pushed, unpushed, failed or pending (DESIGN.md's rule).

* ``pushed``: a push artifact (``PushedModel``) is among the outputs and does not say otherwise
  (TFX's Pusher writes one even when it did not push, with custom property ``pushed`` = 0).
* ``failed``: no push, and an execution downstream of the anchor FAILED.
* ``unpushed``: no push, no failure, and the decision is in: a push step ran (COMPLETE or CACHED) or
  was skipped (CANCELED, as graphlets' runner records a Pusher whose condition is unmet), or a
  blessing artifact says ``blessed`` = 0.
* ``pending``: anything else: evaluation or push has not happened yet (the newest runs).
"""

from __future__ import annotations

import numpy as np

from graphlets.lineage.nodes import NodeInfo
from graphlets.lineage.segment import DOWNSTREAM, MODEL, OUTPUT, Membership
from graphlets.model.enums import ExecutionState

OUTCOMES = ("pushed", "unpushed", "failed", "pending")
PUSHED, UNPUSHED, FAILED, PENDING = range(len(OUTCOMES))
WASTED = (UNPUSHED, FAILED)
_DECIDED = (ExecutionState.COMPLETE, ExecutionState.CACHED, ExecutionState.CANCELED)


def outcomes(
    m: Membership, info: NodeInfo, pushed_value: np.ndarray, blessed_value: np.ndarray
) -> np.ndarray:
    """Outcome code (index into ``OUTCOMES``) per graphlet.

    Args:
        m: graphlet membership.
        info: node attributes.
        pushed_value: the push property per artifact (NaN when absent).
        blessed_value: the blessing property per artifact (NaN when absent).
    """
    produced = (m.a_role == OUTPUT) | (m.a_role == MODEL)
    arts = m.a_node
    push = produced & info.a_push[arts] & ~(pushed_value[arts] == 0)
    rejected = produced & info.a_blessing[arts] & (blessed_value[arts] == 0)
    down = m.e_role == DOWNSTREAM
    execs = m.e_node
    failed = down & (info.e_state[execs] == ExecutionState.FAILED)
    push_done = down & info.e_push[execs] & np.isin(info.e_state[execs], _DECIDED)
    code = np.full(m.n, PENDING, dtype=np.int8)
    code[_any(m.a_g, rejected, m.n) | _any(m.e_g, push_done, m.n)] = UNPUSHED
    code[_any(m.e_g, failed, m.n)] = FAILED
    code[_any(m.a_g, push, m.n)] = PUSHED
    return code


def _any(g: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[g[mask]] = True
    return out
