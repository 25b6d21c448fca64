"""Graphlet boundaries (DESIGN.md): which executions train, and where a graphlet's lineage stops.

* A demo-shaped pipeline over 20 daily runs: SchemaGen reads its previous schema (a carry-over
  input), ExampleValidator compares with the previous span's statistics, the Trainer reads a
  7-span window and warm-starts from the previous model, the Evaluator compares with the last
  pushed model. Each graphlet's input spans are its trainer's window plus at most the span
  validation compared with, and its size is bounded by the window, not by the history.
* TFX's own shapes: resolver nodes re-emitting existing models (warm start, blessed baseline), an
  importer, a CACHED rerun, and ``PushedModel`` with MLMD's Model base type: graphlets are the
  trainings, pushed graphlets the pushes.
* Kubeflow Pipelines: ``system.Model`` artifacts and one execution type for every step, the node
  named by the ``task_name`` property.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from graphlets.lineage import GraphletConfig, GraphletResult, segment_store
from graphlets.model import ArtifactBaseType, ExecutionState
from graphlets.store import MetadataStore
from tests.lineage.builder import Builder
from tests.lineage.test_scenarios import table

RUNS, WINDOW = 20, 7
UNBLESSED = frozenset({5, 12})


def demo_shaped(b: Builder, carry_key: str = "base_schema") -> dict[int, dict[str, Any]]:
    """``RUNS`` daily runs of the demo's pipeline; ids by day (``window``: the trainer's spans)."""
    days: dict[int, dict[str, Any]] = {}
    examples: dict[int, int] = {}
    stats: dict[int, int] = {}
    anomalies: dict[int, int] = {}
    schema = model = pushed = None
    for d in range(1, RUNS + 1):
        r, ids = f"r{d}", {}
        ids["gen"], o = b.run(
            "CsvExampleGen", outputs={"examples": ("Examples", {"span": d})}, run=r
        )
        examples[d] = o["examples"]
        ids["stats_gen"], o = b.run(
            "StatisticsGen", {"examples": examples[d]},
            {"statistics": ("ExampleStatistics", {"span": d})}, run=r,
        )  # fmt: skip
        stats[d] = o["statistics"]
        s_in = {"statistics": stats[d], **({carry_key: schema} if schema else {})}
        ids["schema_gen"], o = b.run("SchemaGen", s_in, {"schema": "Schema"}, run=r)
        ids["base_schema"], schema = s_in.get(carry_key), o["schema"]
        v_in = {"statistics": stats[d], "schema": schema}
        if d > 1:
            v_in["previous_statistics"] = stats[d - 1]
        ids["validator"], o = b.run(
            "ExampleValidator", v_in, {"anomalies": "ExampleAnomalies"}, run=r
        )
        anomalies[d] = o["anomalies"]
        win = list(range(max(1, d - WINDOW + 1), d + 1))
        w_in = {"examples": [examples[s] for s in win], "anomalies": [anomalies[s] for s in win]}
        ids["transform"], o = b.run(
            "Transform", {**w_in, "schema": schema}, {"transform_graph": "TransformGraph"}, run=r
        )
        t_in = {**w_in, "transform_graph": o["transform_graph"]}
        if model is not None:
            t_in["base_model"] = model
        ids["trainer"], o = b.run("Trainer", t_in, {"model": "Model"}, cost=10, run=r)
        ids["base_model"], model = t_in.get("base_model"), o["model"]
        blessed = int(d not in UNBLESSED)
        e_in = {"examples": examples[d], "model": model}
        if pushed is not None:
            e_in["baseline_model"] = pushed
        ids["evaluator"], o = b.run(
            "Evaluator", e_in,
            {"evaluation": "ModelEvaluation", "blessing": ("ModelBlessing", {"blessed": blessed})},
            run=r,
        )  # fmt: skip
        ids["pusher"], _ = b.run(
            "Pusher", {"model": model, "model_blessing": o["blessing"]},
            {"pushed_model": ("PushedModel", {"pushed": blessed})}, run=r,
        )  # fmt: skip
        pushed = model if blessed else pushed
        days[d] = ids | {"model": model, "window": win}
    return days


def expected_spans(window: list[int]) -> list[int]:
    """The window, plus the span before it: the oldest validator compared with its statistics."""
    return sorted({*window, *([window[0] - 1] if window[0] > 1 else [])})


@pytest.mark.parametrize("node_contexts", [True, False], ids=["node-contexts", "by-type"])
def test_demo_shaped_graphlets_are_bounded_by_the_window(
    store: MetadataStore, node_contexts: bool
) -> None:
    days = demo_shaped(Builder(store, node_contexts=node_contexts))
    res = segment_store(store)
    t = table(res)
    assert set(t) == {days[d]["trainer"] for d in days}
    for d, ids in days.items():
        g, win = t[ids["trainer"]], ids["window"]
        assert g["input_spans"] == expected_spans(win), d
        # ExampleGen, StatisticsGen, SchemaGen, ExampleValidator per window span, the span before
        # (ExampleGen, StatisticsGen), then Transform, Trainer, Evaluator, Pusher.
        assert g["n_executions"] == 4 * len(win) + 4 + 2 * (win[0] > 1), d
        assert g["outcome"] == ("unpushed" if d in UNBLESSED else "pushed")
        if d > 1:  # carry-over inputs are members, their producers are not
            assert {ids["base_schema"], ids["base_model"]} <= g["arts"]
            assert days[d - 1]["trainer"] not in g["execs"]
        if win[0] > 1:
            assert days[win[0] - 1]["schema_gen"] not in g["execs"]
            assert days[win[0] - 1]["validator"] not in g["execs"]
    s = res.summary
    assert (s["graphlets"], s["pushed"], s["unpushed"]) == (RUNS, RUNS - len(UNBLESSED), 2)


def test_following_carry_over_swallows_the_history(store: MetadataStore) -> None:
    """The old rule (walk through every input) chains each run to the one before it."""
    days = demo_shaped(Builder(store, node_contexts=True))
    last = days[RUNS]["trainer"]
    t = table(segment_store(store, GraphletConfig(follow_carry_over=True)))
    assert t[last]["input_spans"] == list(range(1, RUNS + 1))
    assert t[last]["n_executions"] > 3 * RUNS  # every ExampleGen, StatisticsGen, SchemaGen
    assert table(segment_store(store))[last]["n_executions"] == 4 * WINDOW + 6


def test_carry_over_is_decided_by_node_not_by_key(store: MetadataStore) -> None:
    """The previous schema under the same key as a fresh input is still a carry-over."""
    days = demo_shaped(Builder(store, node_contexts=True), carry_key="statistics_schema")
    t = table(segment_store(store))
    assert t[days[RUNS]["trainer"]]["input_spans"] == expected_spans(days[RUNS]["window"])


def resolve(b: Builder, model: int, run: str, node: str, reads: bool) -> int:
    """A resolver node re-emitting ``model``: with no inputs and an OUTPUT event, or as TFX 1.16's
    resolver handler records it, reading the model and re-emitting it as INTERNAL_OUTPUT."""
    if reads:
        rid, _ = b.run("Resolver", {"model": model}, internal={"model": model}, run=run, node=node)
    else:
        rid, _ = b.run("Resolver", reuse={"model": model}, run=run, node=node)
    return rid


def tfx_runs(b: Builder, n: int = 6, unblessed: int = 3, reads: bool = False) -> dict[str, Any]:
    """TFX's shapes: latest-model and latest-blessed-model resolvers re-emit existing models
    (COMPLETE), the Pusher writes a PushedModel (``pushed`` = 0 when not blessed)."""
    out: dict[str, Any] = {"trainers": [], "pushers": [], "resolvers": [], "models": []}
    model = blessed_model = None
    for d in range(1, n + 1):
        r = f"r{d}"
        _, o = b.run("CsvExampleGen", outputs={"examples": ("Examples", {"span": d})}, run=r)
        ex = o["examples"]
        _, o = b.run("StatisticsGen", {"examples": ex}, {"statistics": "ExampleStatistics"}, run=r)
        _, o = b.run("SchemaGen", {"statistics": o["statistics"]}, {"schema": "Schema"}, run=r)
        t_in = {"examples": ex, "schema": o["schema"]}
        if model is not None:
            out["resolvers"].append(resolve(b, model, r, "latest_model_resolver", reads))
            t_in["base_model"] = model
        tr, o = b.run("Trainer", t_in, {"model": "Model", "model_run": "ModelRun"}, run=r)
        model = o["model"]
        e_in = {"examples": ex, "model": model}
        if blessed_model is not None:
            out["resolvers"].append(resolve(b, blessed_model, r, "latest_blessed_resolver", reads))
            e_in["baseline_model"] = blessed_model
        ok = int(d != unblessed)
        _, o = b.run("Evaluator", e_in, {"blessing": ("ModelBlessing", {"blessed": ok})}, run=r)
        pu, o = b.run(
            "Pusher", {"model": model, "model_blessing": o["blessing"]},
            {"pushed_model": ("PushedModel", {"pushed": ok})}, run=r,
        )  # fmt: skip
        blessed_model = model if ok else blessed_model
        out["trainers"].append(tr)
        out["pushers"].append(pu)
        out["models"].append(model)
    return out


def roles_of(res: GraphletResult, execution_ids: list[int]) -> set[str]:
    ex = res.members.filter(
        pl.col("node_kind") == "execution", pl.col("node_id").is_in(execution_ids)
    )
    return set(ex["role"].cast(pl.String).to_list())


@pytest.mark.parametrize("reads", [False, True], ids=["no-inputs", "tfx-1.16-handler"])
def test_tfx_resolvers_and_pushed_model_base_type(store: MetadataStore, reads: bool) -> None:
    model = ArtifactBaseType.MODEL
    b = Builder(store, node_contexts=True, base_types={"Model": model, "PushedModel": model})
    tfx = tfx_runs(b, reads=reads)
    res = segment_store(store)
    t = table(res)
    assert sorted(t) == tfx["trainers"]  # not the Pushers, not the resolvers
    assert [t[tr]["outcome"] for tr in tfx["trainers"]] == [
        "pushed", "pushed", "unpushed", "pushed", "pushed", "pushed",
    ]  # fmt: skip
    for tr, pu in zip(tfx["trainers"], tfx["pushers"], strict=True):
        assert pu in t[tr]["execs"]  # every training reaches its push
    assert roles_of(res, tfx["resolvers"]) == set()  # a resolver belongs to no graphlet
    assert res.summary["pushed"] == 5


def test_cached_rerun_and_importer_are_not_trainings(store: MetadataStore) -> None:
    model = ArtifactBaseType.MODEL
    b = Builder(store, node_contexts=True, base_types={"Model": model, "PushedModel": model})
    tfx = tfx_runs(b, n=2, unblessed=0)
    last = tfx["models"][-1]
    cached = {"state": ExecutionState.CACHED, "cost": 0.25, "run": "r3"}
    hit, _ = b.run("Trainer", reuse={"model": last}, **cached)  # type: ignore[arg-type]
    imp, _ = b.run("Importer", outputs={"result": "Model"}, run="r3")
    res = segment_store(store)
    t = table(res)
    assert sorted(t) == tfx["trainers"]
    assert hit in t[tfx["trainers"][-1]]["execs"] and roles_of(res, [hit]) == {"cached_anchor"}
    assert roles_of(res, [imp]) == set()


def test_pushed_model_is_never_a_model_type() -> None:
    from graphlets.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="both model and push types"):
        GraphletConfig(model_types=("Model", "PushedModel"))


def test_kubeflow_system_model_and_task_names(store: MetadataStore) -> None:
    """Every KFP step has type ``system.ContainerExecution``; ``task_name`` names the node."""
    b = Builder(store)
    step = "system.ContainerExecution"
    b.add_types(["system.Dataset", "system.Model", "system.Metrics"], [step])
    runs, model = [], None
    for d in (1, 2, 3):
        r = f"r{d}"
        load, o = b.run(step, outputs={"dataset": "system.Dataset"}, run=r,
                        custom={"task_name": "load-data"})  # fmt: skip
        prep, o = b.run(step, {"dataset": o["dataset"]}, {"train_set": "system.Dataset"}, run=r,
                        custom={"task_name": "preprocess"})  # fmt: skip
        t_in = {"train_set": o["train_set"], **({"base_model": model} if model else {})}
        tr, o = b.run(step, t_in, {"model": "system.Model"}, run=r, custom={"task_name": "train"})
        model = o["model"]
        ev, _ = b.run(step, {"model": model}, {"metrics": "system.Metrics"}, run=r,
                      custom={"task_name": "evaluate"})  # fmt: skip
        runs.append((load, prep, tr, ev))
    t = table(segment_store(store))
    assert sorted(t) == [r[2] for r in runs]
    assert all(t[r[2]]["execs"] == set(r) for r in runs)
    assert all(t[r[2]]["outcome"] == "pending" for r in runs)
    # Without the node property every step is "the same node" and upstream is cut at once.
    by_type = table(segment_store(store, GraphletConfig(node_properties=())))
    assert by_type[runs[-1][2]]["execs"] == {runs[-1][2], runs[-1][3]}
