"""The pruning gate in the real runner: skips are recorded, guards and warm-up are respected, and
the online features of a pending training equal the bulk features of the same training."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import typer

from graphlets.model import EventType, ExecutionState, ExecutionType
from graphlets.optimizer import gate as gate_module
from graphlets.optimizer.candidate import Pending, candidate_row
from graphlets.optimizer.features import FEATURES, build_features, online_features
from graphlets.optimizer.gate import SKIP_REASON, GateConfig, PruningGate, is_training
from graphlets.optimizer.trace import load_history
from graphlets.pipeline import Pipeline, Runner
from graphlets.plugins import get_plugin_manager
from graphlets.store import MetadataStore
from tests.pipeline.helpers import chain, states

pytestmark = pytest.mark.unit
HISTORY = 24  # spans run before the gate is switched on
OFF = {"max_staleness_hours": None, "max_trainings_without_push": None}
# The evidence minimums (100 trainings, 50 pushes) off, so a short history can be gated.
EAGER = {"min_trainings": 0, "min_pushes": 0}


@pytest.fixture
def pipeline(tmp_path: Path) -> Pipeline:
    return chain(tmp_path / "src")


@pytest.fixture
def store(tmp_path: Path, pipeline: Pipeline) -> Iterator[MetadataStore]:
    """A store with HISTORY runs of the chain pipeline (trainings alternate pushed / not)."""
    s = MetadataStore(f"sqlite:///{tmp_path / 's.sqlite'}", create=True)
    with Runner(s, pipeline, blobs=str(tmp_path / "blobs")) as runner:
        for span in range(1, HISTORY + 1):
            assert runner.run(span).ok
    yield s
    s.close()


def _run(
    store: MetadataStore, pipeline: Pipeline, tmp: Path, gate: object, spans: range
) -> list[dict[str, str]]:
    out = []
    with Runner(store, pipeline, blobs=str(tmp / "blobs"), hooks=get_plugin_manager([gate])) as r:
        for span in spans:
            result = r.run(span)
            assert result.ok, result.error
            out.append(states(store, result.run_id))
    return out


def _skips(store: MetadataStore) -> list[dict[str, object]]:
    return [
        dict(e.custom_properties)
        for e in store.get_executions_by_type("Train")
        if e.last_known_state == ExecutionState.CANCELED
    ]


def test_gate_skips_and_records_why(
    store: MetadataStore, pipeline: Pipeline, tmp_path: Path
) -> None:
    gate = PruningGate(GateConfig(threshold=1.01, **OFF, **EAGER))  # every probability is below it
    runs = _run(store, pipeline, tmp_path, gate, range(HISTORY + 1, HISTORY + 3))
    assert runs == [{"ingest": "COMPLETE", "stats": "COMPLETE", "train": "CANCELED",
                     "evaluate": "CANCELED", "push": "CANCELED"}] * 2  # fmt: skip
    skips = _skips(store)
    assert len(skips) == 2
    for props in skips:
        assert str(props["skip_reason"]).startswith(SKIP_REASON)
        details = props["skip_details"]
        assert isinstance(details, dict)
        assert 0.0 <= float(details["probability"]) <= 1.0
        assert details["threshold"] == 1.01 and details["mode"] == "probability"
        assert details["trained_on"] == HISTORY
    # Lineage reports them as skipped trainings, never as waste.
    summary = load_history(store).summary
    assert summary["skipped_trainings"]["count"] == 2  # type: ignore[index]


def test_gate_waits_for_enough_history(
    store: MetadataStore, pipeline: Pipeline, tmp_path: Path
) -> None:
    gate = PruningGate(GateConfig(threshold=1.01, min_history=HISTORY + 1, **OFF, **EAGER))
    runs = _run(store, pipeline, tmp_path, gate, range(HISTORY + 1, HISTORY + 2))
    assert runs[0]["train"] == "COMPLETE" and not _skips(store)


def test_freshness_guard_runs_the_training(
    store: MetadataStore, pipeline: Pipeline, tmp_path: Path
) -> None:
    gate = PruningGate(GateConfig(threshold=1.01, max_staleness_hours=0.0,
                                  max_trainings_without_push=None, **EAGER))  # fmt: skip
    runs = _run(store, pipeline, tmp_path, gate, range(HISTORY + 1, HISTORY + 2))
    assert runs[0]["train"] == "COMPLETE" and not _skips(store)


def test_cadence_guard_runs_every_nth_training(
    store: MetadataStore, pipeline: Pipeline, tmp_path: Path
) -> None:
    gate = PruningGate(GateConfig(threshold=1.01, max_staleness_hours=None,
                                  max_trainings_without_push=2, **EAGER))  # fmt: skip
    runs = _run(store, pipeline, tmp_path, gate, range(HISTORY + 1, HISTORY + 4))
    # In CHAIN a training pushes when its newest span is even, so span 24's did: span 25's is
    # skipped, then the guard counts 2 trainings without a push (one ran, one skipped) and
    # span 26's runs (and pushes); span 27's is skipped again.
    assert [r["train"] for r in runs] == ["CANCELED", "COMPLETE", "CANCELED"]
    assert runs[1]["push"] == "COMPLETE"


def test_graphlets_run_prune_skips_with_settings_from_the_environment(
    store: MetadataStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``graphlets run --prune`` registers this module's hook, configured by GRAPHLETS_PRUNE_*."""
    from typer.testing import CliRunner

    from graphlets.cli import run_cmd

    monkeypatch.delenv("GRAPHLETS_PLUGINS", raising=False)
    monkeypatch.setenv("GRAPHLETS_PRUNE_THRESHOLD", "1.01")
    monkeypatch.setenv("GRAPHLETS_PRUNE_MAX_STALENESS_HOURS", "none")
    monkeypatch.setenv("GRAPHLETS_PRUNE_MAX_TRAININGS_WITHOUT_PUSH", "none")
    monkeypatch.setenv("GRAPHLETS_PRUNE_MIN_TRAININGS", "0")
    monkeypatch.setenv("GRAPHLETS_PRUNE_MIN_PUSHES", "0")
    monkeypatch.setattr(gate_module, "_DEFAULT", None)
    app = typer.Typer()
    app.registered_commands.extend(run_cmd.app.registered_commands)
    source = tmp_path / "src" / "pipe.py"
    args = ["run", str(source), "--spans", f"{HISTORY + 1}", "--store", store.url.text,
            "--blobs", str(tmp_path / "blobs"), "--json"]  # fmt: skip
    plain = CliRunner().invoke(app, args)
    assert plain.exit_code == 0, plain.output
    assert not _skips(store)  # without --prune nothing is gated
    pruned = CliRunner().invoke(app, [*args[:3], f"{HISTORY + 2}", *args[4:], "--prune"])
    assert pruned.exit_code == 0, pruned.output
    [props] = _skips(store)
    assert str(props["skip_reason"]).startswith(SKIP_REASON)
    assert GateConfig.from_env({"GRAPHLETS_PRUNE_MODE": "probability"}).mode == "probability"


def test_only_trainings_are_gated(pipeline: Pipeline) -> None:
    assert is_training(pipeline.nodes["train"], ExecutionType("Train"))
    assert is_training(object(), ExecutionType("tfx.components.trainer.component.Trainer"))
    assert not is_training(pipeline.nodes["evaluate"], ExecutionType("Evaluate"))
    assert not is_training(pipeline.nodes["ingest"], ExecutionType("Ingest"))


def test_online_features_equal_bulk_features(store: MetadataStore, pipeline: Pipeline) -> None:
    """Rebuild the last recorded training as a pending one (its inputs, run, code and params, at
    its start time) and compute its features online from the history before it."""
    history = load_history(store)
    d = history.decisions
    last = d.row(d.height - 1, named=True)
    [ex] = store.get_executions_by_id([last["gid"]])
    events = [
        e for e in store.get_events_by_execution_ids([last["gid"]]) if e.type == EventType.INPUT
    ]
    arts = {
        int(a.id or 0): a
        for a in store.get_artifacts_by_id([int(e.artifact_id or 0) for e in events])
    }
    inputs: dict[str, list[object]] = {}
    for e in events:
        inputs.setdefault(str(e.path[0].key), []).append(arts[int(e.artifact_id or 0)])
    run = next(
        c for c in store.get_contexts_by_execution(int(ex.id or 0)) if c.type == "pipeline_run"
    )
    props = {**ex.properties, **ex.custom_properties}
    pending = Pending(
        pipeline="chain",
        node="train",
        execution_type=str(ex.type),
        inputs=inputs,  # type: ignore[arg-type]
        run_context_id=run.id,
        t=last["t"],
        code={"code_fingerprint": str(props["code_fingerprint"])},
        config={k: str(v) for k, v in props.items() if k.startswith("param.")},
    )
    before = d.filter(pl.col("t") < last["t"]).with_columns(
        label=pl.when(pl.col("known") > last["t"]).then(None).otherwise("label"),
        known=pl.when(pl.col("known") > last["t"]).then(None).otherwise("known"),
    )
    row = candidate_row(store, pending, before)
    same = ("spans", "n_spans", "span_max", "examples_id", "schema_id", "code_fp", "config_fp",
            "structure", "stats_id", "pipeline_first", "series", "model_type")  # fmt: skip
    assert row.select(same).row(0) == d.filter(pl.col("gid") == last["gid"]).select(same).row(0)
    online = online_features(before, row).row(0, named=True)
    bulk = build_features(d).filter(pl.col("gid") == last["gid"]).row(0, named=True)
    for name in FEATURES:
        a, b = online[name], bulk[name]
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b), name


def test_budget_threshold_is_learned_from_held_out_history(
    store: MetadataStore, pipeline: Pipeline, tmp_path: Path
) -> None:
    """Without a fixed threshold the gate picks one from its held-out predictions of past
    pushes. CHAIN alternates pushed / not pushed, which the push history reveals: after span
    24's push, span 25's training is predicted not to push and is skipped."""
    gate = PruningGate(GateConfig(max_pushes_missed=0.45, **OFF, **EAGER))
    runs = _run(store, pipeline, tmp_path, gate, range(HISTORY + 1, HISTORY + 2))
    assert runs[0]["train"] == "CANCELED"
    [details] = [p["skip_details"] for p in _skips(store)]
    assert isinstance(details, dict)
    assert details["mode"] == "cost" and details["max_pushes_missed"] == 0.45
    assert float(details["score"]) < float(details["threshold"])
    assert float(details["probability"]) < 0.5


def test_gate_abstains_on_a_30_run_history_and_says_why(
    store: MetadataStore, pipeline: Pipeline, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With the default evidence minimums (100 trainings, 50 pushes per pipeline) a history of
    30 runs is too short: even a threshold every training is under skips nothing, and the
    reason is logged once per change and kept on the gate."""
    gate = PruningGate(GateConfig(threshold=1.01, **OFF))
    with caplog.at_level("WARNING", logger="graphlets.optimizer.gate"):
        runs = _run(store, pipeline, tmp_path, gate, range(HISTORY + 1, 32))
    assert all(r["train"] == "COMPLETE" for r in runs) and not _skips(store)
    assert gate.abstentions == {"chain": "abstained: 30 trainings, needs 100"}
    logged = [r.getMessage() for r in caplog.records]
    assert len(logged) == 31 - HISTORY and "abstained: 24 trainings, needs 100" in logged[0]
    # The same history passes the count minimums when they are lowered: the gate then acts.
    eager = PruningGate(GateConfig(threshold=1.01, **OFF, **EAGER))
    assert _run(store, pipeline, tmp_path, eager, range(32, 33))[0]["train"] == "CANCELED"
