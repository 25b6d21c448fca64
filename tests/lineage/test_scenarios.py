"""Graphlet segmentation on hand-built graphs, each with its expected graphlet table written out.

Costs are ``cpu_seconds`` (builder.COST): ExampleGen 1, StatisticsGen 1, SchemaGen 0.5,
ExampleValidator 1, Transform 2, Trainer 10, Evaluator 3, Pusher 0.5; a cache hit 0.25. A whole run
costs 19; its graphlet 18 (the ExampleValidator's anomalies feed no training, so it belongs to no
graphlet). Every scenario runs on SQLite (file, memory) and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from graphlets.lineage import GraphletConfig, GraphletResult, segment_store
from graphlets.model import ArtifactBaseType, ArtifactType, ExecutionState
from graphlets.store import MetadataStore
from tests.lineage.builder import (
    CACHED_COST,
    Builder,
    evaluate,
    full_run,
    ingest,
    push,
    train,
)

RUN_EXECS = ("gen", "stats_gen", "schema_gen", "transform", "trainer", "evaluator", "pusher")


def table(result: GraphletResult) -> dict[int, dict[str, Any]]:
    """Graphlet rows by anchor id, with member execution ids and shares added."""
    out = {}
    for row in result.graphlets.iter_rows(named=True):
        mem = result.members.filter(pl.col("graphlet_id") == row["graphlet_id"])
        ex = mem.filter(pl.col("node_kind") == "execution")
        row["execs"] = set(ex["node_id"].to_list())
        row["share"] = dict(zip(ex["node_id"].to_list(), ex["share"].to_list(), strict=True))
        row["arts"] = set(mem.filter(pl.col("node_kind") == "artifact")["node_id"].to_list())
        out[row["anchor_execution_id"]] = row
    return out


def execs(ids: dict[str, int], names: tuple[str, ...] = RUN_EXECS) -> set[int]:
    return {ids[n] for n in names}


def test_plain_run(store: MetadataStore) -> None:
    b = Builder(store)
    r = full_run(b, 1, "r1")
    res = segment_store(store)
    [g] = table(res).values()
    assert g["graphlet_id"] == r["trainer"] and g["model_artifact_id"] == r["model"]
    assert g["execs"] == execs(r) and r["validator"] not in g["execs"]
    assert {r[k] for k in ("examples", "stats", "schema", "transform_graph", "model")} <= g["arts"]
    assert {r["blessing"], r["pushed_model"]} <= g["arts"]
    assert (g["n_executions"], g["n_artifacts"]) == (7, 9)  # + ModelRun, ModelEvaluation
    assert g["outcome"] == "pushed" and g["pipeline"] == "p" and g["input_spans"] == [1]
    assert (g["cost"], g["shared_cost"], g["waste"]) == (18.0, 0.0, 0.0)
    cats = {k: g[f"cost_{k}"] for k in ("ingest", "data_validation", "transform", "training")}
    assert cats == {"ingest": 1.0, "data_validation": 1.5, "transform": 2.0, "training": 10.0}
    assert (g["cost_model_validation"], g["cost_deployment"], g["cost_other"]) == (3.0, 0.5, 0.0)
    s = res.summary
    assert (s["graphlets"], s["pushed"], s["unpushed"], s["failed"], s["pending"]) == (
        1,
        1,
        0,
        0,
        0,
    )
    assert (s["waste_fraction"], s["total_cost"], s["unattributed_cost"]) == (0.0, 19.0, 1.0)
    assert s["cost_source"] == {"property:cpu_seconds": 8}


def _rolling(store: MetadataStore) -> list[dict[str, int]]:
    """Three runs; each Trainer reads a window of 2 spans (its own and the previous one)."""
    b = Builder(store)
    runs = [full_run(b, 1, "r1")]
    for span in (2, 3):
        runs.append(full_run(b, span, f"r{span}", window=[runs[-1]["examples"]]))
    return runs


@pytest.mark.parametrize(
    ("sharing", "costs", "shared"),
    [
        ("split", (17.5, 18.0, 18.5), (0.5, 1.0, 0.5)),
        ("full", (18.0, 19.0, 19.0), (1.0, 2.0, 1.0)),
        ("first", (18.0, 18.0, 18.0), (1.0, 1.0, 0.0)),
    ],
)
def test_rolling_window_shares_spans(
    store: MetadataStore, sharing: str, costs: tuple[float, ...], shared: tuple[float, ...]
) -> None:
    runs = _rolling(store)
    res = segment_store(store, GraphletConfig(sharing=sharing))  # type: ignore[arg-type]
    t = table(res)
    g = [t[r["trainer"]] for r in runs]
    assert [x["input_spans"] for x in g] == [[1], [1, 2], [2, 3]]
    assert g[1]["execs"] == execs(runs[1]) | {runs[0]["gen"]}
    assert g[2]["execs"] == execs(runs[2]) | {runs[1]["gen"]}
    assert runs[0]["stats_gen"] not in g[1]["execs"]  # span 1's statistics fed only run 1's schema
    assert tuple(x["cost"] for x in g) == costs
    assert tuple(x["shared_cost"] for x in g) == shared
    expected_share = {"split": 0.5, "full": 1.0, "first": 0.0}[sharing]
    assert g[1]["share"][runs[0]["gen"]] == expected_share
    assert g[0]["share"][runs[0]["gen"]] == (0.5 if sharing == "split" else 1.0)
    assert all(x["outcome"] == "pushed" and x["waste"] == 0.0 for x in g)


def test_warm_start_pulls_in_the_model_but_not_its_graphlet(store: MetadataStore) -> None:
    b = Builder(store)
    r1 = full_run(b, 1, "r1")
    r2 = full_run(b, 2, "r2", base_model=r1["model"])
    t = table(segment_store(store))
    assert t[r1["trainer"]]["execs"] == execs(r1)  # run 2's trainer is not downstream of model 1
    assert t[r2["trainer"]]["execs"] == execs(r2)  # run 1 is not upstream of model 2
    assert r1["model"] in t[r2["trainer"]]["arts"]  # the warm-start model is an input member
    assert t[r1["trainer"]]["cost"] == t[r2["trainer"]]["cost"] == 18.0


def test_previous_model_as_baseline_is_not_followed(store: MetadataStore) -> None:
    b = Builder(store)
    r1 = full_run(b, 1, "r1")
    r2 = full_run(b, 2, "r2", baseline=r1["model"], blessed=0)
    t = table(segment_store(store))
    assert t[r1["trainer"]]["execs"] == execs(r1)
    assert (t[r1["trainer"]]["outcome"], t[r2["trainer"]]["outcome"]) == ("pushed", "unpushed")
    # Following the baseline key (configurable) drags run 2's evaluation and push into graphlet 1.
    loose = table(segment_store(store, GraphletConfig(not_followed_keys=("base_model",))))
    assert loose[r1["trainer"]]["execs"] == execs(r1) | {r2["evaluator"], r2["pusher"]}


def test_cached_upstream_adds_only_the_cache_hits_own_cost(store: MetadataStore) -> None:
    """Run 2 re-runs span 1: ExampleGen..Transform are cache hits (CACHED, re-emitting run 1's
    artifacts); only the Trainer runs again (a new model)."""
    b = Builder(store)
    r1 = full_run(b, 1, "r1")
    hit: dict[str, int] = {}
    steps = [
        ("gen", "CsvExampleGen", {}, {"examples": r1["examples"]}),
        ("stats_gen", "StatisticsGen", {"examples": r1["examples"]}, {"statistics": r1["stats"]}),
        ("schema_gen", "SchemaGen", {"statistics": r1["stats"]}, {"schema": r1["schema"]}),
        ("transform", "Transform", {"examples": [r1["examples"]], "schema": r1["schema"]},
         {"transform_graph": r1["transform_graph"]}),
    ]  # fmt: skip
    for name, tname, ins, reuse in steps:
        hit[name], _ = b.run(
            tname, ins, reuse=reuse, state=ExecutionState.CACHED, cost=CACHED_COST, run="r2"
        )
    ins = {"examples": [r1["examples"]], "transform_graph": r1["transform_graph"]}
    tr2, o = b.run(
        "Trainer", {**ins, "schema": r1["schema"]}, {"model": "Model"}, cost=10, run="r2"
    )
    r2 = {**hit, "trainer": tr2, "model": o["model"]}
    r2 |= evaluate(b, "r2", r1["examples"], r2["model"], blessed=1)
    r2 |= push(b, "r2", r2["model"], r2["blessing"])
    t = table(segment_store(store))
    g1, g2 = t[r1["trainer"]], t[tr2]
    assert g1["execs"] == execs(r1)  # later cache hits never reach back into run 1's graphlet
    upstream1 = execs(r1, ("gen", "stats_gen", "schema_gen", "transform"))
    assert g2["execs"] == upstream1 | execs(r2)
    assert all(g2["share"][e] == 0.5 for e in upstream1)  # originals are shared by both
    assert all(g2["share"][hit[n]] == 1.0 for n in hit)  # each hit belongs to graphlet 2 only
    assert (g1["cost"], g2["cost"]) == (15.75, 15.75 + 4 * CACHED_COST)
    assert g1["shared_cost"] == g2["shared_cost"] == 2.25


def test_cached_trainer_is_not_a_new_training(store: MetadataStore) -> None:
    """Run 2 is all cache hits, Trainer included (it re-emits model 1), then evaluates and pushes
    model 1 again: still one graphlet, and the push of run 2 makes it pushed."""
    b = Builder(store)
    r1 = full_run(b, 1, "r1", blessed=0)
    cached = {"state": ExecutionState.CACHED, "cost": CACHED_COST, "run": "r2"}
    gen2, _ = b.run("CsvExampleGen", reuse={"examples": r1["examples"]}, **cached)  # type: ignore[arg-type]
    ins = {"examples": [r1["examples"]], "transform_graph": r1["transform_graph"]}
    tr2, _ = b.run(
        "Trainer",
        {**ins, "schema": r1["schema"]},
        reuse={"model": r1["model"]},
        **cached,  # type: ignore[arg-type]
    )
    r2 = evaluate(b, "r2", r1["examples"], r1["model"], blessed=1)
    r2 |= push(b, "r2", r1["model"], r2["blessing"], pushed=1)
    res = segment_store(store)
    [g] = table(res).values()
    assert g["anchor_execution_id"] == r1["trainer"] and g["outcome"] == "pushed"
    assert g["execs"] == execs(r1) | {gen2, tr2, r2["evaluator"], r2["pusher"]}
    roles = res.members.filter(pl.col("node_id") == tr2, pl.col("node_kind") == "execution")
    assert roles["role"].to_list() == ["cached_anchor"]
    assert g["cost"] == 18.0 + 2 * CACHED_COST + 3.0 + 0.5


def test_failed_trainer_is_failed_work_not_a_graphlet(store: MetadataStore) -> None:
    b = Builder(store)
    full_run(b, 1, "r1")
    up = ingest(b, 2, "r2")
    bad = train(b, "r2", [up["examples"]], up["schema"], state=ExecutionState.FAILED)
    res = segment_store(store)
    s = res.summary
    assert s["graphlets"] == 1 and bad["trainer"] not in table(res)
    assert s["failed_outside_graphlets"] == {
        "executions": 1, "cost": 10.0, "by_category": {"training": 1}
    }  # fmt: skip
    assert s["abandoned_models"] == 1
    assert (s["waste_cost"], s["total_cost"]) == (0.0, 19.0 + 3.5 + 2.0 + 10.0)


def test_failed_evaluator_fails_the_graphlet(store: MetadataStore) -> None:
    b = Builder(store)
    r = ingest(b, 1, "r1")
    r |= train(b, "r1", [r["examples"]], r["schema"])
    r |= evaluate(b, "r1", r["examples"], r["model"], state=ExecutionState.FAILED)
    res = segment_store(store)
    [g] = table(res).values()
    assert g["outcome"] == "failed" and r["evaluator"] in g["execs"]
    assert g["cost"] == g["waste"] == 17.5
    assert res.summary["failed"] == 1
    assert res.summary["waste_fraction"] == 17.5 / 18.5
    assert res.summary["failed_outside_graphlets"]["executions"] == 0  # it is inside a graphlet


def test_pusher_writing_pushed_0_is_unpushed(store: MetadataStore) -> None:
    b = Builder(store)
    r = full_run(b, 1, "r1", blessed=0)
    res = segment_store(store)
    [g] = table(res).values()
    assert r["pushed_model"] in g["arts"]
    assert (g["outcome"], g["cost"], g["waste"]) == ("unpushed", 18.0, 18.0)
    assert res.summary["waste_fraction"] == 18.0 / 19.0
    # With no push property in the rule, the PushedModel alone counts as a push.
    naive = segment_store(store, GraphletConfig(push_property="no_such_property"))
    assert naive.summary["pushed"] == 1


def test_skipped_training_is_counted_beside_waste(store: MetadataStore) -> None:
    b = Builder(store)
    full_run(b, 1, "r1")
    up = ingest(b, 2, "r2")
    reason = {"skip_reason": "pruned: predicted not to push"}
    canceled = ExecutionState.CANCELED
    b.run(
        "Trainer", {"examples": up["examples"]}, state=canceled, cost=0.0, run="r2", custom=reason
    )
    later = {"skip_reason": "upstream skipped"}
    b.run("Evaluator", {}, state=canceled, cost=0.0, run="r2", custom=later)
    s = segment_store(store).summary
    assert (s["graphlets"], s["waste_cost"]) == (1, 0.0)
    assert s["skipped_trainings"] == {
        "count": 1, "cost": 0.0, "with_skip_reason": 1,
        "reasons": {"pruned: predicted not to push": 1},
    }  # fmt: skip


def test_two_trainers_in_one_run_share_upstream(store: MetadataStore) -> None:
    b = Builder(store)
    up = ingest(b, 1, "r1")
    a = train(b, "r1", [up["examples"]], up["schema"])
    ins = {"examples": [up["examples"]], "transform_graph": a["transform_graph"]}
    tr_b, o = b.run("Trainer", {**ins, "schema": up["schema"]}, {"model": "Model"}, cost=10)
    a |= evaluate(b, "r1", up["examples"], a["model"], blessed=1)
    a |= push(b, "r1", a["model"], a["blessing"], pushed=1)
    bb = evaluate(b, "r1", up["examples"], o["model"], blessed=0)
    bb |= push(b, "r1", o["model"], bb["blessing"], pushed=0)
    res = segment_store(store)
    t = table(res)
    shared = {up["gen"], up["stats_gen"], up["schema_gen"], a["transform"]}
    assert t[a["trainer"]]["execs"] == shared | {a["trainer"], a["evaluator"], a["pusher"]}
    assert t[tr_b]["execs"] == shared | {tr_b, bb["evaluator"], bb["pusher"]}
    assert [t[x]["outcome"] for x in (a["trainer"], tr_b)] == ["pushed", "unpushed"]
    assert t[a["trainer"]]["cost"] == t[tr_b]["cost"] == 2.25 + 13.5
    assert t[tr_b]["waste"] == 15.75 and t[tr_b]["shared_cost"] == 2.25
    assert res.summary["waste_fraction"] == 15.75 / 32.5


def test_push_in_a_later_run(store: MetadataStore) -> None:
    b = Builder(store)
    r = ingest(b, 1, "r1")
    r |= train(b, "r1", [r["examples"]], r["schema"])
    r |= evaluate(b, "r1", r["examples"], r["model"], blessed=1)
    assert segment_store(store).summary["pending"] == 1  # blessed, not pushed yet
    later = push(b, "r2", r["model"], r["blessing"], pushed=1)
    [g] = table(segment_store(store)).values()
    assert g["outcome"] == "pushed" and later["pusher"] in g["execs"]
    assert g["cost"] == 18.0


def test_run_still_pending(store: MetadataStore) -> None:
    b = Builder(store)
    r = ingest(b, 1, "r1")
    r |= train(b, "r1", [r["examples"]], r["schema"])
    res = segment_store(store)
    [g] = table(res).values()
    assert (g["outcome"], g["waste"], g["cost"]) == ("pending", 0.0, 14.5)
    assert res.summary["pending"] == 1 and res.summary["waste_fraction"] == 0.0


def test_model_types_are_configurable(store: MetadataStore) -> None:
    """A model type of another name counts through its MLMD base type, or by name."""
    b = Builder(store)
    up = ingest(b, 1, "r1")
    keras = store.put_artifact_type(ArtifactType("KerasModel", base_type=ArtifactBaseType.MODEL))
    b.types["KerasModel"] = keras
    tr, _ = b.run("Trainer", {"examples": up["examples"]}, {"model": "KerasModel"}, cost=10)
    assert set(table(segment_store(store))) == {tr}  # base type mlmd.Model
    no_base = GraphletConfig(model_base_type=False)
    assert segment_store(store, no_base).summary["graphlets"] == 0
    by_name = GraphletConfig(model_types=("KerasModel",), model_base_type=False)
    assert set(table(segment_store(store, by_name))) == {tr}
