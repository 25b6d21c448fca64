"""The runner end to end on every backend: what it records, caching, windows, warm start, skips,
failures, retries and resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graphlets.hookspecs import SkipDecision, hookimpl
from graphlets.model import ArtifactState, EventType, ExecutionState
from graphlets.pipeline import Runner, RunOptions
from graphlets.pipeline.session import plain_hooks
from graphlets.store import MetadataStore
from tests.pipeline.helpers import CHAIN, chain, check_no_half_written, load_source, states


def _runner(store: MetadataStore, pipeline: Any, tmp_path: Path, **kw: Any) -> Runner:
    return Runner(store, pipeline, blobs=str(tmp_path / "blobs"), **kw)


def test_run_records_tfx_shaped_provenance(store: MetadataStore, tmp_path: Path) -> None:
    result = _runner(store, chain(tmp_path), tmp_path).run(1)
    assert result.ok, result.error
    assert states(store, result.run_id) == {
        "ingest": "COMPLETE",
        "stats": "COMPLETE",
        "train": "COMPLETE",
        "evaluate": "COMPLETE",
        "push": "CANCELED",
    }
    pipeline_ctx = store.get_context_by_type_and_name("pipeline", "chain")
    assert pipeline_ctx is not None
    run_ctx = store.get_contexts_by_id([result.run_id])[0]
    assert run_ctx.type == "pipeline_run"
    assert run_ctx.custom_properties["state"] == "COMPLETE"
    assert run_ctx.custom_properties["span"] == 1
    assert Path(str(run_ctx.custom_properties["environment_uri"])).exists()
    assert run_ctx.custom_properties["python"]
    assert [c.name for c in store.get_parent_contexts_by_context(result.run_id)] == ["chain"]
    node_ctx = store.get_context_by_type_and_name("node", "chain.train")
    assert node_ctx is not None
    train = store.get_executions_by_id([result.outcomes["train"].execution_id or 0])[0]
    assert {c.type for c in store.get_contexts_by_execution(int(train.id or 0))} == {
        "pipeline",
        "pipeline_run",
        "node",
    }
    props = train.custom_properties
    for key in (
        "start_time_ms",
        "end_time_ms",
        "cpu_seconds",
        "environment_sha256",
        "cache_key",
        "code_fingerprint",
        "param.epochs",
        "inputs",
    ):
        assert key in props, key
    assert props["end_time_ms"] >= props["start_time_ms"]
    events = store.get_events_by_execution_ids([int(train.id or 0)])
    kinds = sorted((e.key, e.type.name) for e in events)
    assert kinds == [
        ("examples", "INPUT"),
        ("model", "OUTPUT"),
        ("model", "PENDING_OUTPUT"),
        ("statistics", "INPUT"),
    ]
    [model] = result.outcomes["train"].outputs["model"]
    assert model.state == ArtifactState.LIVE and model.custom_properties["span"] == 1
    assert Path(str(model.uri)).read_bytes().startswith(b"{")
    [examples] = result.outcomes["ingest"].outputs["examples"]
    assert examples.properties["span"] == 1  # declared on Examples, as TFX does
    check_no_half_written(store)


def test_condition_cancels_with_skip_reason(lite_store: MetadataStore, tmp_path: Path) -> None:
    store = lite_store
    result = _runner(store, chain(tmp_path), tmp_path).run(1)
    push = store.get_executions_by_id([result.outcomes["push"].execution_id or 0])[0]
    assert push.last_known_state == ExecutionState.CANCELED
    assert push.custom_properties["skip_reason"] == (
        "condition not met: blessing.blessed == 1 (got 0)"
    )
    assert result.ok
    blessed = _runner(store, chain(tmp_path), tmp_path).run(2)  # span 2 is blessed
    assert states(store, blessed.run_id)["push"] == "COMPLETE"


def test_params_and_metrics_become_properties(lite_store: MetadataStore, tmp_path: Path) -> None:
    store = lite_store
    result = _runner(store, chain(tmp_path), tmp_path).run(2)
    train = store.get_executions_by_id([result.outcomes["train"].execution_id or 0])[0]
    assert train.custom_properties["param.optimizer"] == "sgd"
    assert train.custom_properties["param.epochs"] == 3
    assert train.custom_properties["metric.loss"] == pytest.approx(1 / 3)
    ev = store.get_executions_by_id([result.outcomes["evaluate"].execution_id or 0])[0]
    assert ev.custom_properties["metric.accuracy"] == pytest.approx(0.52)


def test_rolling_window_and_warm_start(store: MetadataStore, tmp_path: Path) -> None:
    with _runner(store, chain(tmp_path), tmp_path) as runner:
        models = []
        for span in (1, 2, 3):
            res = runner.run(span)
            [model] = res.outcomes["train"].outputs["model"]
            models.append(Path(str(model.uri)).read_text())
    import json

    docs = [json.loads(m) for m in models]
    assert [d["spans"] for d in docs] == [[1], [2, 1], [3, 2]]
    assert [d["warm_from"] for d in docs] == [None, [1], [2, 1]]


def test_backfill_out_of_order_window_uses_only_earlier_spans(
    lite_store: MetadataStore, tmp_path: Path
) -> None:
    store = lite_store
    with _runner(store, chain(tmp_path), tmp_path) as runner:
        runner.run(5)
        res = runner.run(3)  # a late span: its window and warm start must not see span 5
    import json

    [model] = res.outcomes["train"].outputs["model"]
    doc = json.loads(Path(str(model.uri)).read_text())
    assert doc["spans"] == [3] and doc["warm_from"] is None


def test_unchanged_rerun_is_cached_and_links_existing_outputs(
    store: MetadataStore, tmp_path: Path
) -> None:
    with _runner(store, chain(tmp_path), tmp_path) as runner:
        first = runner.run(2)
        n_artifacts = store.count("artifact")
        again = runner.run(2)
    assert again.ok
    assert states(store, again.run_id) == {n: "CACHED" for n in first.outcomes}
    assert store.count("artifact") == n_artifacts
    for node, outcome in again.outcomes.items():
        assert outcome.cached_from == first.outcomes[node].execution_id
        ids = {k: [a.id for a in v] for k, v in outcome.outputs.items()}
        assert ids == {k: [a.id for a in v] for k, v in first.outcomes[node].outputs.items()}
        ex = store.get_executions_by_id([outcome.execution_id or 0])[0]
        assert ex.custom_properties["cached_execution_id"] == first.outcomes[node].execution_id
        out_events = [
            e
            for e in store.get_events_by_execution_ids([int(ex.id or 0)])
            if e.type == EventType.OUTPUT
        ]
        want = {int(a.id or 0) for arts in first.outcomes[node].outputs.values() for a in arts}
        assert {int(e.artifact_id or 0) for e in out_events} == want
    check_no_half_written(store)


def test_changed_parameter_misses_only_downstream(
    lite_store: MetadataStore, tmp_path: Path
) -> None:
    store = lite_store
    pipeline = chain(tmp_path)
    _runner(store, pipeline, tmp_path).run(2)
    res = _runner(store, pipeline, tmp_path, param_overrides={"train.epochs": 5}).run(2)
    assert states(store, res.run_id) == {
        "ingest": "CACHED",
        "stats": "CACHED",
        "train": "COMPLETE",
        "evaluate": "COMPLETE",
        "push": "COMPLETE",
    }


def test_changed_helper_function_misses(lite_store: MetadataStore, tmp_path: Path) -> None:
    store = lite_store
    _runner(store, chain(tmp_path), tmp_path).run(2)
    commented = CHAIN.replace("    return x * SCALE\n", "    # a comment\n    return x * SCALE\n")
    res = _runner(store, load_source(tmp_path, commented), tmp_path).run(2)
    assert set(states(store, res.run_id).values()) == {"CACHED"}, "a comment is not a change"
    edited = CHAIN.replace("    return x * SCALE\n", "    return x * SCALE + 1\n")
    res = _runner(store, load_source(tmp_path, edited), tmp_path).run(2)
    assert states(store, res.run_id)["ingest"] == "COMPLETE"
    constant = CHAIN.replace("SCALE = 2", "SCALE = 3")
    res = _runner(store, load_source(tmp_path, constant), tmp_path).run(2)
    assert states(store, res.run_id)["ingest"] == "COMPLETE"


def test_no_cache_per_run_and_per_component(lite_store: MetadataStore, tmp_path: Path) -> None:
    store = lite_store
    pipeline = chain(tmp_path)
    _runner(store, pipeline, tmp_path).run(2)
    res = _runner(store, pipeline, tmp_path, options=RunOptions(no_cache=True)).run(2)
    assert states(store, res.run_id)["ingest"] == "COMPLETE"
    opts = RunOptions(no_cache_for=frozenset({"stats"}))
    res = _runner(store, pipeline, tmp_path, options=opts).run(2)
    got = states(store, res.run_id)
    assert got["ingest"] == "CACHED" and got["stats"] == "COMPLETE"
    # stats wrote the same bytes, so everything after it hits the cache again
    assert got["train"] == "CACHED"


def test_cache_max_age(lite_store: MetadataStore, tmp_path: Path) -> None:
    store = lite_store
    import time

    pipeline = chain(tmp_path)
    _runner(store, pipeline, tmp_path).run(2)
    time.sleep(0.05)
    res = _runner(store, pipeline, tmp_path, options=RunOptions(cache_max_age_s=0.01)).run(2)
    assert states(store, res.run_id)["ingest"] == "COMPLETE"
    res = _runner(store, pipeline, tmp_path, options=RunOptions(cache_max_age_s=3600)).run(2)
    assert states(store, res.run_id)["ingest"] == "CACHED"


def test_failure_marks_failed_and_stops_dependants(store: MetadataStore, tmp_path: Path) -> None:
    with _runner(store, chain(tmp_path, FAIL_ON=2), tmp_path) as runner:
        assert runner.run(1).ok
        res = runner.run(2)
    assert res.state == "FAILED" and not res.ok
    assert "train failed: ValueError: bad span 2" in str(res.error)
    assert states(store, res.run_id) == {
        "ingest": "COMPLETE",
        "stats": "COMPLETE",
        "train": "FAILED",
    }
    assert res.outcomes["evaluate"].state is None and res.outcomes["push"].state is None
    train = store.get_executions_by_id([res.outcomes["train"].execution_id or 0])[0]
    assert train.custom_properties["error"] == "ValueError: bad span 2"
    assert "Traceback" in str(train.custom_properties["error_traceback"])
    [pending] = [
        e
        for e in store.get_events_by_execution_ids([int(train.id or 0)])
        if e.type == EventType.PENDING_OUTPUT
    ]
    [model] = store.get_artifacts_by_id([int(pending.artifact_id or 0)])
    assert model.state == ArtifactState.ABANDONED
    run_ctx = store.get_contexts_by_id([res.run_id])[0]
    assert run_ctx.custom_properties["state"] == "FAILED"
    check_no_half_written(store)


BRANCHES = """
from graphlets.pipeline import Examples, Input, Model, Output, Pipeline, Schema, component


@component
def source(examples: Output[Examples]) -> None:
    examples.write_text("x")


@component
def broken(examples: Input[Examples], model: Output[Model]) -> None:
    raise RuntimeError("boom\\nsecond line")


@component
def after_broken(model: Input[Model], schema: Output[Schema]) -> None:
    schema.write_text("never")


@component
def sibling(examples: Input[Examples], other: Output[Model]) -> None:
    other.write_text("fine")


pipeline = Pipeline("branches", [source, broken, after_broken, sibling])
"""


def test_independent_branch_still_runs(lite_store: MetadataStore, tmp_path: Path) -> None:
    store = lite_store
    res = _runner(store, load_source(tmp_path, BRANCHES), tmp_path).run()
    assert states(store, res.run_id) == {
        "source": "COMPLETE",
        "broken": "FAILED",
        "sibling": "COMPLETE",
    }
    assert res.outcomes["broken"].error == "RuntimeError: boom second line"  # one line
    assert res.outcomes["after_broken"].error == "upstream 'broken' failed"


def test_resume_finishes_the_run_in_place(store: MetadataStore, tmp_path: Path) -> None:
    with _runner(store, chain(tmp_path, FAIL_ON=2), tmp_path) as runner:
        runner.run(1)
        failed = runner.run(2)
    before = {n: o.execution_id for n, o in failed.outcomes.items() if o.state is not None}
    [run_ctx] = store.get_contexts_by_id([failed.run_id])
    fixed = _runner(store, chain(tmp_path), tmp_path).resume(run_ctx)
    assert fixed.ok and fixed.run_id == failed.run_id
    assert fixed.outcomes["ingest"].execution_id == before["ingest"]  # kept, not rerun
    assert fixed.outcomes["stats"].execution_id == before["stats"]
    train_execs = [
        e
        for e in store.get_executions_by_context(failed.run_id)
        if e.custom_properties["node"] == "train"
    ]
    assert [e.last_known_state.name for e in train_execs] == ["FAILED", "COMPLETE"]
    assert str(train_execs[1].name).endswith(".train.2")
    assert store.get_contexts_by_id([failed.run_id])[0].custom_properties["state"] == "COMPLETE"
    check_no_half_written(store)


class _Gate:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.seen: list[tuple[str, str]] = []

    @hookimpl
    def should_skip_execution(self, node: Any, execution_type: Any, inputs: Any) -> Any:
        self.calls.append(
            {
                "node": node.name,
                "type": execution_type.name,
                "inputs": {k: [a.type for a in v] for k, v in inputs.items()},
            }
        )
        if node.name == "train":
            return SkipDecision("predicted not pushed", {"p_push": 0.1})
        return None

    @hookimpl
    def after_execution(self, node: Any, execution: Any) -> None:
        self.seen.append((node.name, execution.last_known_state.name))

    @hookimpl
    def before_execution(self, node: Any) -> None:
        self.seen.append((node.name, "BEFORE"))


def test_hook_skip_cancels_node_and_dependants(store: MetadataStore, tmp_path: Path) -> None:
    gate = _Gate()
    hooks = plain_hooks()
    hooks.register(gate)
    res = _runner(store, chain(tmp_path), tmp_path, hooks=hooks).run(2)
    assert res.ok and res.state == "COMPLETE"
    assert states(store, res.run_id) == {
        "ingest": "COMPLETE",
        "stats": "COMPLETE",
        "train": "CANCELED",
        "evaluate": "CANCELED",
        "push": "CANCELED",
    }
    train = store.get_executions_by_id([res.outcomes["train"].execution_id or 0])[0]
    assert train.custom_properties["skip_reason"] == "predicted not pushed"
    assert train.custom_properties["skip_details"] == {"p_push": 0.1}
    inputs = {e.key for e in store.get_events_by_execution_ids([int(train.id or 0)])}
    assert inputs == {"examples", "statistics"}  # what the skipped training would have read
    assert res.outcomes["evaluate"].skip_reason == "upstream skipped"
    assert [c["node"] for c in gate.calls] == ["ingest", "stats", "train"]
    assert gate.calls[2]["inputs"] == {
        "examples": ["Examples"],
        "statistics": ["ExampleStatistics"],
        "base_model": [],
    }
    assert ("ingest", "BEFORE") in gate.seen and ("train", "CANCELED") in gate.seen


RETRY = """
from pathlib import Path
from graphlets.pipeline import Examples, Output, Pipeline, component

COUNTER = Path(__file__).with_name("attempts.txt")


@component(retries=2, retry_backoff=0.0)
def flaky(examples: Output[Examples]) -> None:
    n = int(COUNTER.read_text()) if COUNTER.exists() else 0
    COUNTER.write_text(str(n + 1))
    if n < 2:
        raise OSError("transient")
    examples.write_text("ok")


@component
def unwritten(examples: Output[Examples] = None) -> None:  # type: ignore[assignment]
    pass


pipeline = Pipeline("retry", [flaky])
"""


def test_retries_then_success(lite_store: MetadataStore, tmp_path: Path) -> None:
    store = lite_store
    res = _runner(store, load_source(tmp_path, RETRY), tmp_path).run()
    assert res.ok
    ex = store.get_executions_by_id([res.outcomes["flaky"].execution_id or 0])[0]
    assert ex.custom_properties["attempts"] == 3


BAD_OUTPUTS = """
from graphlets.pipeline import Examples, Model, Output, Pipeline, component


@component
def forgets(examples: Output[Examples]) -> None:
    pass


@component
def returns_text(model: Output[Model]) -> str:
    model.write_text("m")
    return "oops"


pipeline = Pipeline("bad", [forgets, returns_text])
"""


def test_component_mistakes_fail_with_the_fix(lite_store: MetadataStore, tmp_path: Path) -> None:
    store = lite_store
    res = _runner(store, load_source(tmp_path, BAD_OUTPUTS), tmp_path).run()
    assert not res.ok
    assert "did not write output 'examples'" in str(res.outcomes["forgets"].error)
    assert "return None, or a dict of metric values" in str(res.outcomes["returns_text"].error)
    check_no_half_written(store)


LATEST = """
from graphlets.pipeline import (
    Examples, Input, Model, Output, Pipeline, PushedModel, component, latest_artifact,
)


@component
def ingest(span: int, examples: Output[Examples]) -> None:
    examples.write_text(str(span))


@component(inputs={"baseline": latest_artifact("PushedModel", pushed=1)})
def train(examples: Input[Examples], baseline: Input[PushedModel] | None,
          model: Output[Model]) -> None:
    model.write_text(f"{examples.read_text()} after {baseline.read_text() if baseline else '-'}")


@component
def push(span: int, model: Input[Model], pushed: Output[PushedModel]) -> None:
    pushed.write_bytes(model.read_bytes())
    pushed.set("pushed", 1 if span != 2 else 0)


pipeline = Pipeline("latest", [ingest, train, push])
"""


def test_latest_artifact_resolver(lite_store: MetadataStore, tmp_path: Path) -> None:
    store = lite_store
    with _runner(store, load_source(tmp_path, LATEST), tmp_path) as runner:
        texts = []
        for span in (1, 2, 3):
            [model] = runner.run(span).outcomes["train"].outputs["model"]
            texts.append(Path(str(model.uri)).read_text())
    # span 2's push has pushed=0, so span 3 still builds on span 1's pushed model
    assert texts == ["1 after -", "2 after 1 after -", "3 after 1 after -"]


def test_hook_with_stores_of_each_backend_records_no_half_written(
    lite_store: MetadataStore, tmp_path: Path
) -> None:
    store = lite_store
    with _runner(store, chain(tmp_path), tmp_path) as runner:
        for span in (1, 2, 3, 3):
            runner.run(span)
    check_no_half_written(store)
    assert store.count("execution") == 20


WHEN = """
from graphlets.pipeline import Examples, Input, Model, Output, Pipeline, component


@component
def ingest(span: int, examples: Output[Examples]) -> None:
    examples.write_text(str(span))
    examples.set("rows", span * 10)


@component(when=lambda examples: examples.properties["rows"] >= 20)
def train(examples: Input[Examples], model: Output[Model]) -> None:
    model.write_text("m")


@component(when=lambda examples: examples.properties["missing"] > 0)
def broken_condition(examples: Input[Examples], schema: Output[Model]) -> None:
    schema.write_text("never")


pipeline = Pipeline("when", [ingest, train, broken_condition])
"""


def test_callable_conditions(lite_store: MetadataStore, tmp_path: Path) -> None:
    store = lite_store
    with _runner(store, load_source(tmp_path, WHEN), tmp_path) as runner:
        small, big = runner.run(1), runner.run(2)
    assert states(store, small.run_id)["train"] == "CANCELED"
    assert small.outcomes["train"].skip_reason == (
        "condition not met: lambda examples: examples.properties['rows'] >= 20 is false"
    )
    assert states(store, big.run_id)["train"] == "COMPLETE"
    assert "when= condition of 'broken_condition' raised KeyError" in str(
        big.outcomes["broken_condition"].error
    )


class _BrokenPlugin:
    @hookimpl
    def should_skip_execution(self, node: Any) -> Any:
        raise RuntimeError("plugin bug")


def test_plugin_errors_fail_the_node(lite_store: MetadataStore, tmp_path: Path) -> None:
    hooks = plain_hooks()
    hooks.register(_BrokenPlugin())
    res = _runner(lite_store, chain(tmp_path), tmp_path, hooks=hooks).run(1)
    assert res.state == "FAILED"
    assert "should_skip_execution plugin raised RuntimeError: plugin bug" in str(
        res.outcomes["ingest"].error
    )
    check_no_half_written(lite_store)
