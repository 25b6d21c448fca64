"""One pipeline's timeline as MLMD rows: contexts, executions, artifacts, properties.

Everything is built per grid column (component node) over all runs at once, with numpy. Local
ids are handed out in run order, so ids grow with time inside a pipeline as they do in a real
store. Events are built by :mod:`graphlets.simulate.events`.
"""

from __future__ import annotations

import numpy as np

from graphlets.model.enums import ArtifactState
from graphlets.simulate.causal import CAUSES, OUTCOMES
from graphlets.simulate.config import FleetConfig
from graphlets.simulate.costs import execution_costs
from graphlets.simulate.events import Grid, add_events
from graphlets.simulate.rows import Rows
from graphlets.simulate.tfx import OUTPUTS, TypeIds
from graphlets.simulate.timeline import COMPLETE, FAILED, TRAIN, Timeline, col, columns

SPAN_TYPES = ("Examples", "ExampleStatistics", "ExampleAnomalies")
VERDICTS = {"ModelBlessing": "blessed", "InfraBlessing": "blessed", "PushedModel": "pushed"}
_OUTCOME_NAMES = np.array(OUTCOMES, dtype=object)
_CAUSE_NAMES = np.array(CAUSES, dtype=object)


def emit_pipeline(cfg: FleetConfig, tl: Timeline, types: TypeIds) -> Rows:
    """All rows of one simulated pipeline, with pipeline-local ids."""
    rows = Rows()
    cpu, start, end = execution_costs(cfg, tl)
    nodes = node_names(tl.plan.trainers)
    g = Grid.build(tl, start, end)
    _contexts(rows, tl, [n for n, k in zip(nodes, g.node_context, strict=True) if k >= 0], types)
    _executions(rows, tl, g, types, nodes)
    _execution_properties(rows, cfg, tl, g, cpu)
    _artifacts(rows, tl, g, types, nodes)
    add_events(rows, tl, g, cfg.store.index_steps)
    return rows


def node_names(trainers: int) -> list[str]:
    """Node ids as TFX names them: ``Trainer``, then ``Trainer_2``... for further trainers."""
    names = []
    for c, comp in enumerate(columns(trainers)):
        j = (c - 5) // 4 if c >= 5 else 0
        names.append(comp if j == 0 else f"{comp}_{j + 1}")
    return names


def _contexts(rows: Rows, tl: Timeline, nodes: list[str], types: TypeIds) -> None:
    """Context 0 is the pipeline, then its nodes that ran, then one ``pipeline_run`` per run."""
    name, t = tl.plan.name, tl.draws.t
    n_nodes, n_runs = len(nodes), tl.runs
    ids = rows.take("context", 1 + n_nodes + n_runs)
    kinds = [types.context["pipeline"]] + [types.context["node"]] * n_nodes
    kinds += [types.context["pipeline_run"]] * n_runs
    names = [name] + [f"{name}.{n}" for n in nodes]
    names += [f"{name}.run-{k:06d}" for k in range(n_runs)]
    created = np.concatenate([np.full(1 + n_nodes, t[0]), t])
    rows.add(
        "context",
        ("id", "type_id", "name", "create_time_since_epoch", "last_update_time_since_epoch"),
        ids,
        np.array(kinds, dtype=np.int64),
        np.array(names, dtype=object),
        created,
        created,
    )
    rows.add("parentcontext", ("context_id", "parent_context_id"), ids[1:], np.zeros(len(ids) - 1,
             dtype=np.int64))  # fmt: skip


def _links(rows: Rows, table: str, owner: str, g: Grid, r: np.ndarray, c: np.ndarray,
           ids: np.ndarray) -> None:  # fmt: skip
    """Link nodes to their pipeline, run and node contexts (three rows each)."""
    ctx = np.concatenate([np.zeros(len(ids), dtype=np.int64), g.run_context(r), g.node_context[c]])
    rows.add(table, ("id", "context_id", owner), rows.take(table, len(ctx)), ctx, np.tile(ids, 3))


def _executions(rows: Rows, tl: Timeline, g: Grid, types: TypeIds, nodes: list[str]) -> None:
    comps = columns(tl.plan.trainers)
    type_of = np.array(
        [types.execution[tl.plan.example_gen if c == "ExampleGen" else c] for c in comps]
    )
    ids = rows.take("execution", len(g.e_run))
    rows.add(
        "execution",
        ("id", "type_id", "last_known_state", "create_time_since_epoch",
         "last_update_time_since_epoch"),
        ids,
        type_of[g.e_col],
        tl.state[g.e_run, g.e_col].astype(np.int64),
        g.start[g.e_run, g.e_col],
        g.end[g.e_run, g.e_col],
    )  # fmt: skip
    _links(rows, "association", "execution_id", g, g.e_run, g.e_col, ids)


def _execution_properties(
    rows: Rows, cfg: FleetConfig, tl: Timeline, g: Grid, cpu: np.ndarray
) -> None:
    ids = np.arange(len(g.e_run), dtype=np.int64)
    dcols = ("execution_id", "name", "is_custom_property", "double_value")
    icols = ("execution_id", "name", "is_custom_property", "int_value")
    scols = ("execution_id", "name", "is_custom_property", "string_value")
    rows.add("executionproperty", dcols, ids, _const("cpu_seconds", ids), _ones(ids),
             np.round(cpu[g.e_run, g.e_col], 3))  # fmt: skip
    if cfg.store.time_properties:
        for name, grid in (("start_time_ms", g.start), ("end_time_ms", g.end)):
            rows.add("executionproperty", icols, ids, _const(name, ids), _ones(ids),
                     grid[g.e_run, g.e_col])  # fmt: skip
    for j in range(tl.plan.trainers):
        c = col(j, TRAIN)
        runs = np.flatnonzero(np.isin(tl.state[:, c], (COMPLETE, FAILED)))
        eid = g.eid[runs, c]
        rows.add("executionproperty", scols, eid, _const("module_path", eid), _zeros(eid),
                 _versions("trainer_module", tl.draws.code_version[runs]))  # fmt: skip
        rows.add("executionproperty", scols, eid, _const("train_args", eid), _zeros(eid),
                 _versions("train_args", tl.draws.config_version[runs]))  # fmt: skip
        _sim_properties(rows, tl, j, runs, eid, dcols, scols)


def _sim_properties(
    rows: Rows,
    tl: Timeline,
    j: int,
    runs: np.ndarray,
    eid: np.ndarray,
    dcols: tuple[str, ...],
    scols: tuple[str, ...],
) -> None:
    """The latent causes of each training, as ``sim_*`` custom properties (for oracles only)."""
    scored = ~np.isnan(tl.score[runs, j])
    e = eid[scored]
    for name, values in (
        ("sim_drift", tl.draws.drift[runs[scored]]),
        ("sim_new_data", tl.new_fraction[runs[scored], j]),
        ("sim_score", tl.score[runs[scored], j]),
    ):
        rows.add("executionproperty", dcols, e, _const(name, e), _ones(e), np.round(values, 4))
    rows.add("executionproperty", scols, eid, _const("sim_outcome", eid), _ones(eid),
             _OUTCOME_NAMES[tl.outcome[runs, j]])  # fmt: skip
    rows.add("executionproperty", scols, eid, _const("sim_cause", eid), _ones(eid),
             _CAUSE_NAMES[tl.cause[runs, j]])  # fmt: skip


def _artifacts(rows: Rows, tl: Timeline, g: Grid, types: TypeIds, nodes: list[str]) -> None:
    comps = columns(tl.plan.trainers)
    ids = rows.take("artifact", len(g.a_run))
    slot_type = [OUTPUTS[comps[c]][k][0] for c, k in g.slots]
    type_of = np.array([types.artifact[t] for t in slot_type])
    prefix = [f"/sim/{tl.plan.name}/{nodes[c]}/{OUTPUTS[comps[c]][k][1]}/" for c, k in g.slots]
    pairs = zip(g.a_run.tolist(), g.a_slot.tolist(), strict=True)
    uris = np.array([prefix[s] + str(r) for r, s in pairs], dtype=object)
    live = tl.state[g.a_run, g.a_col] == COMPLETE
    state = np.where(live, int(ArtifactState.LIVE), int(ArtifactState.ABANDONED))
    made = g.end[g.a_run, g.a_col]
    rows.add(
        "artifact",
        ("id", "type_id", "uri", "state", "create_time_since_epoch",
         "last_update_time_since_epoch"),
        ids, type_of[g.a_slot], uris, state, made, made,
    )  # fmt: skip
    _links(rows, "attribution", "artifact_id", g, g.a_run, g.a_col, ids)
    _artifact_properties(rows, tl, g, slot_type, ids, live)


def _artifact_properties(
    rows: Rows, tl: Timeline, g: Grid, slot_type: list[str], ids: np.ndarray, live: np.ndarray
) -> None:
    icols = ("artifact_id", "name", "is_custom_property", "int_value")
    kind = np.array(slot_type, dtype=object)[g.a_slot]
    spans = np.isin(kind, SPAN_TYPES) & live
    span = tl.draws.ex_span[np.maximum(tl.draws.win_hi, 0)][g.a_run[spans]]
    rows.add("artifactproperty", icols, ids[spans], _const("span", ids[spans]),
             _zeros(ids[spans]), span)  # fmt: skip
    verdicts = {
        "ModelBlessing": tl.blessed,
        "InfraBlessing": tl.infra_ok,
        "PushedModel": tl.pushed,
    }
    j_of = np.maximum(g.a_col - 5, 0) // 4
    for tname, grid in verdicts.items():
        m = (kind == tname) & live
        a = ids[m]
        rows.add("artifactproperty", icols, a, _const(VERDICTS[tname], a), _ones(a),
                 grid[g.a_run[m], j_of[m]].astype(np.int64))  # fmt: skip


def _const(value: object, like: np.ndarray) -> np.ndarray:
    out = np.empty(len(like), dtype=object)
    out[:] = value
    return out


def _ones(like: np.ndarray) -> np.ndarray:
    return np.ones(len(like), dtype=np.int64)


def _zeros(like: np.ndarray) -> np.ndarray:
    return np.zeros(len(like), dtype=np.int64)


def _versions(prefix: str, version: np.ndarray) -> np.ndarray:
    """Stable version strings (``trainer_module@v3``): a change shows as a new value."""
    names = np.array([f"{prefix}@v{v}" for v in range(int(version.max(initial=0)) + 1)],
                     dtype=object)  # fmt: skip
    out: np.ndarray = names[version]
    return out
