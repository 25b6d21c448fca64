"""Pipeline counts as GROUP BY queries (:mod:`graphlets.store.stats`), on every backend."""

from __future__ import annotations

from graphlets.model import (
    Artifact,
    ArtifactBaseType,
    ArtifactType,
    Context,
    ContextType,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    ParentContext,
)
from graphlets.store import MetadataStore
from graphlets.store.stats import PipelineTypes, pipeline_counts, pipeline_page, pipeline_runs

TYPES = PipelineTypes()
DAY = 86_400_000


def record(store: MetadataStore) -> dict[str, int]:
    """Two pipelines. ``p``: three runs (a trainer + pusher each; the push of run 2 says
    ``pushed`` = 0, run 3's trainer FAILED) plus an empty run linked only as a child; ``q``: one
    run. Models use a type derived from ``mlmd.Model`` under another name."""
    ct = {n: store.put_context_type(ContextType(n)) for n in ("pipeline", "pipeline_run")}
    model = store.put_artifact_type(ArtifactType("Checkpoint", base_type=ArtifactBaseType.MODEL))
    pushed = store.put_artifact_type(ArtifactType("PushedModel"))
    train = store.put_execution_type(ExecutionType("Trainer"))
    push = store.put_execution_type(ExecutionType("Pusher"))
    ids: dict[str, int] = {}
    for pipe, runs in (("p", 3), ("q", 1)):
        for r in range(1, runs + 1):
            ctxs = [Context(ct["pipeline"], pipe), Context(ct["pipeline_run"], f"{pipe}-{r}")]
            failed = pipe == "p" and r == 3
            start = r * DAY
            ex = Execution(
                train,
                last_known_state=ExecutionState.FAILED if failed else ExecutionState.COMPLETE,
                custom_properties={"start_time_ms": start, "end_time_ms": start + 1000},
            )
            out = EventType.PENDING_OUTPUT if failed else EventType.OUTPUT
            _, [m], cids = store.put_execution(
                ex,
                [(Artifact(model, uri=f"{pipe}{r}"), Event(type=out))],
                ctxs,
                reuse_context_if_already_exist=True,
            )
            ids[f"{pipe}-{r}"] = cids[1]
            ids[pipe] = cids[0]
            if failed:
                continue
            [m_art] = store.get_artifacts_by_id([m])
            flag = {"pushed": 0} if (pipe == "p" and r == 2) else {"pushed": 1}
            store.put_execution(
                Execution(
                    push,
                    last_known_state=ExecutionState.COMPLETE,
                    custom_properties={"start_time_ms": start + 2000, "end_time_ms": start + 5000},
                ),
                [
                    (m_art, Event(type=EventType.INPUT)),
                    (Artifact(pushed, custom_properties=flag), Event(type=EventType.OUTPUT)),
                ],
                ctxs,
                reuse_context_if_already_exist=True,
            )
    [empty] = store.put_contexts([Context(ct["pipeline_run"], "p-empty")])
    store.put_parent_contexts([ParentContext(empty, ids["p"])])
    ids["p-empty"] = empty
    return ids


def test_pipeline_page_and_counts(store: MetadataStore) -> None:
    ids = record(store)
    first, after = pipeline_page(store, TYPES, limit=1)
    assert [p["name"] for p in first] == ["p"] and after == ids["p"]
    second, after = pipeline_page(store, TYPES, limit=1, after_id=after)
    assert [p["name"] for p in second] == ["q"] and after is None
    counts = pipeline_counts(store, [ids["p"], ids["q"]], TYPES)
    p, q = counts[ids["p"]], counts[ids["q"]]
    assert p["executions_by_state"] == {"COMPLETE": 4, "FAILED": 1}
    assert p["runs"] == 3, "runs that share executions; the empty child has none"
    assert (p["models"], p["pushed"]) == (2, 1), "pushed = 0 is not a push; FAILED made none"
    assert (q["runs"], q["models"], q["pushed"]) == (1, 1, 1)
    assert pipeline_counts(store, [], TYPES) == {}


def test_pipeline_runs_newest_first_with_wall_clock_and_pushes(store: MetadataStore) -> None:
    ids = record(store)
    runs, before = pipeline_runs(store, ids["p"], TYPES, limit=2)
    assert [r["name"] for r in runs] == ["p-empty", "p-3"]
    assert runs[0]["executions"] == 0 and runs[0]["start_ms"] is None
    assert runs[1]["executions_by_state"] == {"FAILED": 1}
    rest, end = pipeline_runs(store, ids["p"], TYPES, limit=5, before_id=before)
    assert [r["name"] for r in rest] == ["p-2", "p-1"] and end is None
    by_name = {r["name"]: r for r in rest}
    assert by_name["p-1"]["start_ms"] == DAY and by_name["p-1"]["end_ms"] == DAY + 5000
    assert (by_name["p-1"]["models"], by_name["p-1"]["pushed"]) == (1, 1)
    assert (by_name["p-2"]["models"], by_name["p-2"]["pushed"]) == (1, 0)


def test_no_run_type_means_no_runs(store: MetadataStore) -> None:
    [cid] = store.put_contexts([Context(store.put_context_type(ContextType("pipeline")), "x")])
    assert pipeline_runs(store, cid, TYPES, limit=5) == ([], None)
    assert pipeline_counts(store, [cid], TYPES)[cid]["runs"] == 0
