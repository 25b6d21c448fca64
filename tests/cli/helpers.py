"""Shared by the CLI tests: run the app in-process or as the real console script, and a small
provenance graph with known counts."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from graphlets.cli.main import app
from graphlets.model import (
    Artifact,
    ArtifactState,
    ArtifactType,
    Context,
    ContextType,
    Event,
    EventStep,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    PropertyType,
)
from graphlets.store import MetadataStore

BIN = Path(sys.executable).parent / "graphlets"
runner = CliRunner()


def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return runner.invoke(app, list(args), env=env)


def run_json(*args: str) -> Any:
    res = run(*args, "--json")
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


def build_graph(url: str) -> dict[str, int]:
    """ExampleGen -> Examples -> Trainer (ok) -> Model; a failed Trainer -> abandoned Model.

    All five nodes are in one pipeline context; returns the ids by role.
    """
    with MetadataStore(url) as s:
        ex_t = s.put_artifact_type(ArtifactType("Examples", {"span": PropertyType.INT}))
        model_t = s.put_artifact_type(ArtifactType("Model"))
        gen_t = s.put_execution_type(ExecutionType("ExampleGen"))
        train_t = s.put_execution_type(ExecutionType("Trainer"))
        pipe_t = s.put_context_type(ContextType("pipeline"))
        [ctx] = s.put_contexts([Context(pipe_t, name="p1")])
        pipe = s.get_contexts_by_id([ctx])[0]
        examples = Artifact(
            ex_t, uri="mem://examples", properties={"span": 7}, state=ArtifactState.LIVE
        )
        gen, [ex_id], _ = s.put_execution(
            Execution(gen_t, last_known_state=ExecutionState.COMPLETE),
            [(examples, Event(type=EventType.OUTPUT, path=(EventStep("examples"),)))],
            [pipe],
        )
        ex_art = s.get_artifacts_by_id([ex_id])[0]
        consumed = Event(type=EventType.INPUT, path=(EventStep("examples"),))
        ok, [_, model], _ = s.put_execution(
            Execution(
                train_t,
                name="train-ok",
                last_known_state=ExecutionState.COMPLETE,
                custom_properties={"cpu_seconds": 1.5, "note": "[bold]x[/]"},
            ),
            [
                (ex_art, consumed),
                (
                    Artifact(model_t, uri="mem://model", state=ArtifactState.LIVE),
                    Event(type=EventType.OUTPUT, path=(EventStep("model"),)),
                ),
            ],
            [pipe],
        )
        bad, [_, abandoned], _ = s.put_execution(
            Execution(train_t, last_known_state=ExecutionState.FAILED),
            [
                (ex_art, consumed),
                (
                    Artifact(model_t, uri="mem://model2", state=ArtifactState.ABANDONED),
                    Event(type=EventType.PENDING_OUTPUT, path=(EventStep("model"),)),
                ),
            ],
            [pipe],
        )
    return {
        "context": ctx,
        "gen": gen,
        "examples": ex_id,
        "train": ok,
        "model": model,
        "failed": bad,
        "abandoned": abandoned,
    }


def shell(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, env=full_env, timeout=120, check=False
    )


def raw_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        return {
            f"{t.lower()}s": db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("Artifact", "Execution", "Event", "Context")
        }
