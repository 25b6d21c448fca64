"""Draw one graphlet of a store as a layered graph (matplotlib only, no graphviz).

    python scripts/draw_graphlet.py --store sqlite:////tmp/demo/store.sqlite \
        --graphlet last-pushed --out docs/concepts/img/demo-graphlet.png

Columns are pipeline runs (labelled by the span their ExampleGen read), rows are pipeline stages
with each execution's outputs just below it. Executions are circles coloured by role (anchor,
upstream, downstream), artifacts are squares; an input member whose producer is not in the
graphlet (a carry-over input such as the previous schema or the warm-start model) is drawn hollow,
and every carry-over edge (an input an earlier run of the same node produced) dashed, so the cut
that bounds the graphlet is visible.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import polars as pl

from graphlets.lineage import segment_store
from graphlets.model import EventType
from graphlets.store import MetadataStore

STAGES = (
    ("ExampleGen", "Examples"),
    ("StatisticsGen", "ExampleStatistics"),
    ("SchemaGen", "Schema"),
    ("ExampleValidator", "ExampleAnomalies"),
    ("Transform", "TransformGraph"),
    ("Trainer", "Model"),
    ("Evaluator", "ModelBlessing"),
    ("Pusher", "PushedModel"),
)
ROLE_COLOURS = {"anchor": "#d62728", "upstream": "#1f77b4", "downstream": "#2ca02c"}
OUTPUTS = (EventType.OUTPUT, EventType.DECLARED_OUTPUT)
INPUTS = (EventType.INPUT, EventType.DECLARED_INPUT)


def row_of(type_name: str, artifact: bool) -> float:
    """Vertical position: the stage whose name ends the type name, artifacts half a row lower."""
    for i, (ex, art) in enumerate(STAGES):
        if (not artifact and type_name.endswith(ex)) or (artifact and type_name == art):
            return i + 0.5 * artifact
    return len(STAGES) - 0.5 if not artifact else 6.5  # evaluations next to blessings


def run_of(store: MetadataStore, execution_id: int) -> int:
    """Id of the execution's pipeline_run context (0 when it has none)."""
    run_type = store.get_context_type("pipeline_run").id
    for c in store.get_contexts_by_execution(execution_id):
        if c.type_id == run_type:
            return int(c.id or 0)
    return 0


def gather(store: MetadataStore, graphlet: str) -> dict[str, Any]:
    """Members of one graphlet, their events, runs and types."""
    res = segment_store(store)
    frame = res.graphlets
    if graphlet == "last-pushed":
        frame = frame.filter(pl.col("outcome") == "pushed")
    gid = int(frame["graphlet_id"].max()) if graphlet.startswith("last") else int(graphlet)
    mem = res.graphlet(gid)["members"]
    ex = mem.filter(pl.col("node_kind") == "execution")
    ar = mem.filter(pl.col("node_kind") == "artifact")
    e_role = dict(zip(ex["node_id"].to_list(), ex["role"].cast(str).to_list(), strict=True))
    a_type = dict(zip(ar["node_id"].to_list(), ar["type"].cast(str).to_list(), strict=True))
    e_type = dict(zip(ex["node_id"].to_list(), ex["type"].cast(str).to_list(), strict=True))
    events = store.get_events_by_artifact_ids(list(a_type))
    producer = {ev.artifact_id: ev.execution_id for ev in events if ev.type in OUTPUTS}
    runs = {e: run_of(store, e) for e in {*e_role, *producer.values()}}
    spans: dict[int, int] = {}
    for art in store.get_artifacts_by_id(list(a_type)):
        span = art.properties.get("span", art.custom_properties.get("span"))
        p = producer.get(int(art.id or 0))
        if span is not None and p is not None and e_type.get(p, "").endswith("ExampleGen"):
            spans[runs[p]] = int(span)  # type: ignore[arg-type]
    return {"gid": gid, "e_role": e_role, "e_type": e_type, "a_type": a_type,
            "events": events, "producer": producer, "runs": runs, "spans": spans}  # fmt: skip


def layout(g: dict[str, Any]) -> tuple[dict[tuple[str, int], tuple[float, float]], list[int]]:
    """(kind, id) -> (x, y): x by run, y by stage; artifacts sharing a cell are spread."""
    cols = sorted(
        {g["runs"][e] for e in g["e_role"]} | {g["runs"][p] for p in g["producer"].values()}
    )
    x_of = {r: i for i, r in enumerate(cols)}
    pos: dict[tuple[str, int], tuple[float, float]] = {}
    for e, t in g["e_type"].items():
        pos[("e", e)] = (x_of[g["runs"][e]], row_of(t, False))
    cells: dict[tuple[int, float], list[int]] = defaultdict(list)
    for a, t in g["a_type"].items():
        p = g["producer"].get(a)
        cells[(x_of[g["runs"][p]] if p in g["runs"] else 0, row_of(t, True))].append(a)
    for (x, y), arts in cells.items():
        for i, a in enumerate(sorted(arts)):
            pos[("a", a)] = (x + 0.22 * (i - (len(arts) - 1) / 2), y)
    return pos, cols


def draw(g: dict[str, Any], out: Path) -> None:
    """Write the picture of graphlet ``g`` to ``out``."""
    pos, cols = layout(g)
    fig, ax = plt.subplots(figsize=(1.3 * len(cols) + 2.5, 8.5))
    for ev in g["events"]:
        e, a = ("e", ev.execution_id), ("a", ev.artifact_id)
        if e not in pos or a not in pos or ev.type not in (*OUTPUTS, *INPUTS):
            continue  # PENDING_OUTPUT: the runner's placeholder before the OUTPUT event
        src, dst = (e, a) if ev.type in OUTPUTS else (a, e)
        prod = g["producer"].get(ev.artifact_id)
        same_node = prod in g["e_type"] and g["e_type"][prod] == g["e_type"].get(ev.execution_id)
        carry = prod not in g["e_role"] or (ev.type not in OUTPUTS and same_node)
        ax.annotate("", xy=pos[dst], xytext=pos[src], arrowprops={
            "arrowstyle": "-|>", "lw": 0.6, "color": "#999" if not carry else "#e377c2",
            "linestyle": "--" if carry else "-", "shrinkA": 5, "shrinkB": 5})  # fmt: skip
    for (kind, node), (x, y) in pos.items():
        if kind == "e":
            role = g["e_role"][node]
            ax.plot(x, y, "o", ms=11, color=ROLE_COLOURS.get(role, "#7f7f7f"), zorder=3)
        else:
            inside = g["producer"].get(node) in g["e_role"]
            ax.plot(x, y, "s", ms=7, zorder=3, markerfacecolor="#bbb" if inside else "white",
                    markeredgecolor="#555" if inside else "#e377c2")  # fmt: skip
    ax.set_xticks(range(len(cols)))
    ax.set_xticklabels(
        [f"span {g['spans'][c]}" if c in g["spans"] else "earlier run" for c in cols]
    )
    ax.set_yticks([i for i in range(len(STAGES))])
    ax.set_yticklabels([s for s, _ in STAGES])
    ax.invert_yaxis()
    ax.set_xlim(-0.6, len(cols) - 0.4)
    handles = [
        plt.Line2D([], [], marker="o", ls="", color=c, label=r) for r, c in ROLE_COLOURS.items()
    ]
    artifact = {"marker": "s", "markerfacecolor": "#bbb", "markeredgecolor": "#555"}
    carry = {"marker": "s", "ls": "--", "color": "#e377c2", "markerfacecolor": "white"}
    handles += [
        plt.Line2D([], [], ls="", label="artifact", **artifact),
        plt.Line2D(
            [], [], label="carry-over input (not walked): previous schema, warm start", **carry
        ),
    ]
    ax.legend(handles=handles, loc="lower left", fontsize=8, framealpha=0.9)
    n_e = len(g["e_role"])
    ax.set_title(f"graphlet:{g['gid']}: {n_e} executions, {len(g['a_type'])} artifacts")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True)
    ap.add_argument(
        "--graphlet", default="last-pushed", help="anchor execution id, 'last' or 'last-pushed'"
    )
    ap.add_argument("--out", type=Path, default=Path("docs/concepts/img/demo-graphlet.png"))
    args = ap.parse_args()
    with MetadataStore(args.store) as store:
        g = gather(store, args.graphlet)
    draw(g, args.out)
    print(args.out)


if __name__ == "__main__":
    main()
