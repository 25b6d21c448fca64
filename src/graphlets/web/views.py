"""The pipeline-level views: overview, pipeline, run, graphlet, waste, registry.

Each view is one function from the store (through :class:`WebContext`) to one JSON-able document;
the HTML page and the ``/api`` twin both render that document (:mod:`graphlets.web.pages`). Counts
come from SQL ``GROUP BY`` queries (:mod:`graphlets.store.stats`) and graphlet outcomes from one
cached segmentation (:mod:`graphlets.lineage`), so no view walks executions one by one.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from graphlets.errors import NotFoundError
from graphlets.model import Artifact, Context, Execution
from graphlets.model.serialize import context_to_dict, node_summary
from graphlets.store import ListOptions, stats
from graphlets.store.browse import associations
from graphlets.web.context import Analysis, WebContext
from graphlets.web.graphs import graph_items
from graphlets.web.paging import decode_token, encode_token
from graphlets.web.timeline import timeline

RUN_NODES_SHOWN = 500
GRAPHLET_NODES_SHOWN = 500


# overview -----------------------------------------------------------------------------------
def overview(ctx: WebContext, *, limit: int, page_token: str | None) -> dict[str, Any]:
    """Every pipeline with its runs, executions by state, models trained and pushed, and waste."""
    st, types = ctx.store, ctx.settings.pipeline_types
    page, last = stats.pipeline_page(
        st, types, limit=limit, after_id=decode_token("pipelines", page_token)
    )
    counts = stats.pipeline_counts(st, [p["id"] for p in page], types)
    waste = _waste_by_pipeline(ctx)
    items = [_pipeline_item(p, counts[p["id"]], waste.get(p["name"])) for p in page]
    return {
        "store": st.url.redacted(),
        "totals": {k: st.count(k) for k in ("artifact", "execution", "context", "event")},
        "pipelines": items,
        "next_page_token": encode_token("pipelines", last) if last is not None else None,
    }


def _pipeline_item(
    p: dict[str, Any], counts: dict[str, Any], waste: dict[str, Any] | None
) -> dict[str, Any]:
    by_state = counts["executions_by_state"]
    models, pushed = counts["models"], counts["pushed"]
    return {
        "id": f"context:{p['id']}",
        "name": p["name"],
        "url": f"/pipelines/{p['name']}",
        "runs": counts["runs"],
        "executions": sum(by_state.values()),
        "executions_by_state": by_state,
        "models": models,
        "pushed": pushed,
        "push_rate": pushed / models if models else None,
        "last_update_time_since_epoch": counts["last_update"],
        "graphlets": waste,
    }


def _waste_by_pipeline(ctx: WebContext) -> dict[str, dict[str, Any]]:
    """Graphlets, outcomes, cost and waste per pipeline name, from the store-wide segmentation."""
    result = ctx.graphlets.get(None).result
    g = result.graphlets
    if g.height == 0:
        return {}
    per = (
        g.group_by("pipeline")
        .agg(
            pl.len().alias("graphlets"),
            (pl.col("outcome") == "pushed").sum().alias("pushed"),
            pl.col("waste").sum().alias("waste_cost"),
            pl.col("cost").sum().alias("graphlet_cost"),
        )
        .drop_nulls("pipeline")
    )
    totals = _cost_by_pipeline(result.executions, ctx)
    out: dict[str, dict[str, Any]] = {}
    for row in per.to_dicts():
        total = totals.get(row["pipeline"], 0.0)
        row["total_cost"] = total
        row["waste_fraction"] = row["waste_cost"] / total if total > 0 else None
        out[row["pipeline"]] = row
    return out


def _cost_by_pipeline(executions: pl.DataFrame, ctx: WebContext) -> dict[str, float]:
    sums = executions.group_by("pipeline_id").agg(pl.col("cost").sum()).drop_nulls("pipeline_id")
    ids = [int(i) for i in sums["pipeline_id"].to_list()]
    names = {int(c.id or 0): c.name for c in ctx.store.get_contexts_by_id(ids)}
    return {
        str(names[int(i)]): float(c)
        for i, c in zip(sums["pipeline_id"], sums["cost"], strict=True)
        if int(i) in names
    }


# pipeline -----------------------------------------------------------------------------------
def pipeline(ctx: WebContext, name: str, *, limit: int, page_token: str | None) -> dict[str, Any]:
    """One pipeline: a page of runs (newest first) and the graphlets of those runs, by outcome."""
    st, types = ctx.store, ctx.settings.pipeline_types
    pctx = st.get_context_by_type_and_name(types.pipeline, name)
    if pctx is None or pctx.id is None:
        raise NotFoundError(
            f"pipeline {name!r} does not exist in this store: pick one from the overview at /"
        )
    before = decode_token("runs", page_token)
    runs, last = stats.pipeline_runs(st, pctx.id, types, limit=limit, before_id=before)
    counts = stats.pipeline_counts(st, [pctx.id], types)[pctx.id]
    analysis = ctx.graphlets.get(name)
    result = analysis.result
    graphlets = _graphlets_of_runs(ctx, result.graphlets, runs)
    for run in runs:
        run["url"] = f"/runs/{run['id']}"
        run["id"] = f"context:{run['id']}"
    return {
        "pipeline": {
            **context_to_dict(pctx),
            **_pipeline_item({"id": pctx.id, "name": name}, counts, None),
        },
        "summary": _summary_subset(result.summary),
        "graphlets_as_of": _as_of(analysis),
        "runs": runs,
        "graphlets": graphlets,
        "timeline": timeline(runs, graphlets),
        "next_page_token": encode_token("runs", last) if last is not None else None,
    }


def _graphlets_of_runs(
    ctx: WebContext, frame: pl.DataFrame, runs: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The graphlets anchored in these runs, each with its run, oldest first; sets run outcomes."""
    if frame.height == 0 or not runs:
        return []
    anchors = [int(x) for x in frame["anchor_execution_id"].to_list()]
    links = associations(ctx.store, anchors, [r["id"] for r in runs])
    run_of = dict(links)
    rows = frame.filter(pl.col("anchor_execution_id").is_in(list(run_of))).sort("start_ms")
    by_run = {r["id"]: r for r in runs}
    trained = {
        int(e.id or 0): _times(e, ctx)["start_ms"]
        for e in ctx.store.get_executions_by_id(list(run_of))
    }
    out = []
    for row in rows.to_dicts():
        anchor = int(row["anchor_execution_id"])
        run = by_run[run_of[anchor]]
        run.setdefault("outcomes", []).append(row["outcome"])
        out.append(_graphlet_item(row, run["id"]) | {"anchor_start_ms": trained.get(anchor)})
    return out


def _graphlet_item(row: dict[str, Any], run_id: int | None) -> dict[str, Any]:
    gid = int(row["graphlet_id"])
    return {
        "id": f"graphlet:{gid}",
        "url": f"/graphlets/{gid}",
        "run": f"context:{run_id}" if run_id is not None else None,
        "outcome": row["outcome"],
        "model": f"artifact:{row['model_artifact_id']}",
        "anchor": f"execution:{row['anchor_execution_id']}",
        "anchor_type": row["anchor_type"],
        "start_ms": row["start_ms"],
        "end_ms": row["end_ms"],
        "cost": row["cost"],
        "waste": row["waste"],
        "input_spans": row["input_spans"],
        "n_executions": row["n_executions"],
        "n_artifacts": row["n_artifacts"],
    }


def _as_of(analysis: Analysis) -> dict[str, Any]:
    """When the graphlets shown were computed, and whether the store has moved on since."""
    return {"time_ms": analysis.as_of_ms, "stale": analysis.stale}


def _summary_subset(summary: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "graphlets",
        "pushed",
        "unpushed",
        "failed",
        "pending",
        "waste_fraction",
        "waste_cost",
        "total_cost",
        "cost_by_category",
        "failed_outside_graphlets",
        "skipped_trainings",
        "cost_source",
        "sharing",
    )
    return {k: summary.get(k) for k in keys}


# run ----------------------------------------------------------------------------------------
def run(ctx: WebContext, run_id: int) -> dict[str, Any]:
    """A run (any context) as a DAG of its executions and the artifacts they read and wrote."""
    st = ctx.store
    found = st.get_contexts_by_id([run_id])
    if not found:
        raise NotFoundError(f"context:{run_id} does not exist: runs are listed on pipeline pages")
    execs, more = st.list_executions(
        ListOptions(limit=RUN_NODES_SHOWN, filter_query=f"contexts_r.id = {int(run_id)}")
    )
    events = st.get_events_by_execution_ids([int(e.id or 0) for e in execs])
    arts = st.get_artifacts_by_id(sorted({int(ev.artifact_id or 0) for ev in events}))
    nodes: list[Artifact | Execution] = [*arts, *execs]
    return {
        "run": context_to_dict(found[0]),
        "pipeline": _pipeline_of(ctx, found[0], execs),
        "executions": [node_summary(e) | _times(e, ctx) for e in execs],
        "graph": graph_items(nodes, events),
        "truncated": more is not None,
    }


def _pipeline_of(
    ctx: WebContext, run_ctx: Context, execs: list[Execution]
) -> dict[str, Any] | None:
    ptype = ctx.settings.pipeline_types.pipeline
    candidates = ctx.store.get_parent_contexts_by_context(int(run_ctx.id or 0))
    if execs and not any(c.type == ptype for c in candidates):
        candidates = ctx.store.get_contexts_by_execution(int(execs[0].id or 0))
    for c in candidates:
        if c.type == ptype:
            return {"id": f"context:{c.id}", "name": c.name, "url": f"/pipelines/{c.name}"}
    return None


def _times(e: Execution, ctx: WebContext) -> dict[str, Any]:
    """When ``e`` ran, as recorded (the graphlet definition's start/end properties), else MLMD's
    create/update times."""
    props = {**e.custom_properties, **e.properties}
    cfg = ctx.settings.graphlets
    return {
        "start_ms": props.get(cfg.start_property) or e.create_time_since_epoch,
        "end_ms": props.get(cfg.end_property) or e.last_update_time_since_epoch,
        "cpu_seconds": props.get("cpu_seconds"),
        "url": f"/executions/{e.id}",
    }


# graphlet -----------------------------------------------------------------------------------
def graphlet(ctx: WebContext, graphlet_id: int) -> dict[str, Any]:
    """One model graphlet: its row (outcome, cost, waste, spans) and its members as a graph."""
    st = ctx.store
    anchor = st.get_executions_by_id([graphlet_id])
    if not anchor:
        raise NotFoundError(
            f"graphlet:{graphlet_id} does not exist: graphlet ids are the ids of the executions "
            "that trained a model; pick one on a pipeline page"
        )
    ptype = ctx.settings.pipeline_types.pipeline
    pipes = [c for c in st.get_contexts_by_execution(graphlet_id) if c.type == ptype]
    analysis = ctx.graphlets.get(pipes[0].name if pipes else None)
    found = analysis.result.graphlet(graphlet_id)
    row, members = found["graphlet"], found["members"]
    item = _graphlet_item(row, None) | {"pipeline": row["pipeline"]}
    item |= {k: row[k] for k in row if k.startswith("cost_") or k == "shared_cost"}
    return {
        "graphlet": item,
        "members": members.head(GRAPHLET_NODES_SHOWN).to_dicts(),
        "graph": _member_graph(ctx, members),
        "truncated": members.height > GRAPHLET_NODES_SHOWN,
        "graphlets_as_of": _as_of(analysis),
    }


def _member_graph(ctx: WebContext, members: pl.DataFrame) -> dict[str, Any]:
    st = ctx.store
    part = members.head(GRAPHLET_NODES_SHOWN)
    exec_ids = part.filter(pl.col("node_kind") == "execution")["node_id"].to_list()
    art_ids = part.filter(pl.col("node_kind") == "artifact")["node_id"].to_list()
    arts = set(int(a) for a in art_ids)
    events = [ev for ev in st.get_events_by_execution_ids(exec_ids) if ev.artifact_id in arts]
    nodes: list[Artifact | Execution] = [
        *st.get_artifacts_by_id(sorted(arts)),
        *st.get_executions_by_id(exec_ids),
    ]
    roles = {f"{r['node_kind']}:{r['node_id']}": r["role"] for r in part.to_dicts()}
    graph = graph_items(nodes, events)
    for n in graph["nodes"]:
        n["role"] = roles.get(n["id"])
    return graph


# waste --------------------------------------------------------------------------------------
def waste(ctx: WebContext) -> dict[str, Any]:
    """Store-wide waste: outcomes, cost by category, waste per pipeline, the optimizer's curve."""
    analysis = ctx.graphlets.get(None)
    result = analysis.result
    per = sorted(_waste_by_pipeline(ctx).values(), key=lambda r: -(r.get("waste_cost") or 0.0))
    return {
        "summary": _summary_subset(result.summary),
        "graphlets_as_of": _as_of(analysis),
        "pipelines": per,
        "tradeoff": tradeoff(ctx),
    }


def tradeoff(ctx: WebContext) -> dict[str, Any]:
    """The optimizer's tradeoff curve from ``reports_dir``: what ``graphlets optimize evaluate
    --plot DIR/tradeoff.png`` writes there (``tradeoff.png`` and its data, ``tradeoff.json``,
    drawn as SVG); ``available`` is False when neither exists, and ``command`` says how to make
    them. Nothing else is kept: the page shows the files as they are."""
    folder = ctx.settings.reports_dir
    doc: dict[str, Any] = {"available": False, "points": [], "png": None, "gate": None}
    doc["folder"] = None if folder is None else str(folder)
    target = "DIR/tradeoff.png" if folder is None else str(folder / "tradeoff.png")
    doc["command"] = (
        f"graphlets optimize evaluate --store {ctx.store.url.redacted()} --plot {target}"
    )
    if folder is None:
        return doc
    png, data = folder / "tradeoff.png", folder / "tradeoff.json"
    if png.is_file():
        doc.update(available=True, png="/api/waste/tradeoff.png")
    if data.is_file():
        try:
            raw = json.loads(data.read_text())
        except (OSError, ValueError):
            doc["error"] = f"{data.name} is not valid JSON: rerun the optimizer's replay"
            return doc
        doc.update(_curve(raw))
        gate = raw.get("gate") if isinstance(raw, dict) else None
        doc["gate"] = gate if isinstance(gate, dict) else None
    return doc


def _curve(raw: Any) -> dict[str, Any]:
    """Points of ``{"points": [{x, y, label}]}``, of a bare list of them, or of the optimizer's
    replay report (its ``budget_sweep``: pushes missed against waste saved per budget)."""
    if isinstance(raw, dict) and "points" not in raw and "budget_sweep" in raw:
        raw = {
            "title": "pruning gate: waste saved vs pushes missed",
            "x_label": "pushes missed (fraction)",
            "y_label": "waste saved (fraction)",
            "points": [
                {
                    "x": p.get("pushes_missed_fraction"),
                    "y": p.get("waste_saved_fraction"),
                    "label": f"budget {p.get('budget')}",
                }
                for p in raw["budget_sweep"]
                if isinstance(p, dict)
            ],
        }
    points = raw.get("points", []) if isinstance(raw, dict) else raw
    if not isinstance(points, list):
        points = []
    good = [
        {"x": float(p["x"]), "y": float(p["y"]), "label": str(p.get("label") or "")}
        for p in points
        if isinstance(p, dict) and _is_num(p.get("x")) and _is_num(p.get("y"))
    ]
    labels = raw if isinstance(raw, dict) else {}
    return {
        "available": bool(good),
        "points": good,
        "x_label": str(labels.get("x_label", "x")),
        "y_label": str(labels.get("y_label", "y")),
        "title": str(labels.get("title", "tradeoff")),
    }


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)
