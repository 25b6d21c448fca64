"""Racing registry writers for the concurrency tests: one call of :func:`work` is one process.

Each worker opens its own store, waits for a common start time (so the processes really overlap),
then makes ``rounds`` writes of its scenario. After every write it checks the invariants
(:mod:`tests.registry.invariants`) on a consistent snapshot: the check runs under the model's lock,
so it sees the state between two committed writes, never half of one.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field

from graphlets.errors import ConflictError, GraphletsError, InvalidArgumentError
from graphlets.model import Artifact, ArtifactState, ArtifactType, PropertyType
from graphlets.registry import ModelRegistry
from graphlets.store import MetadataStore
from graphlets.store.locks import run_locked
from tests.registry.invariants import violations

MODEL = "m"
SCENARIOS = ("promote", "promote_rollback", "alias", "register", "rollback_once")
MODEL_TYPE = ArtifactType("Model", {"span": PropertyType.INT})


@dataclass(frozen=True)
class Task:
    """What one worker process does."""

    url: str
    scenario: str
    worker: int
    rounds: int
    versions: int
    start_at: float
    from_version: int = 0


@dataclass
class Outcome:
    """What one worker saw: its successes, its refusals (class names) and any violation."""

    pid: int
    succeeded: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


def model_artifact(store: MetadataStore, span: int) -> Artifact:
    """A fresh LIVE Model artifact to register."""
    type_id = store.put_artifact_type(MODEL_TYPE)
    [aid] = store.put_artifacts(
        [Artifact(type_id, uri=f"mem://model/{span}", state=ArtifactState.LIVE, properties={})]
    )
    return store.get_artifacts_by_id([aid])[0]


def seed(url: str, versions: int) -> None:
    """``versions`` registered versions of ``m``; v1 then v2 promoted (v2 in production, v1 the
    fallback), so every scenario starts with something to roll back to."""
    with MetadataStore(url) as store:
        reg = ModelRegistry(store, who="seed")
        for k in range(versions):
            reg.register(MODEL, model_artifact(store, k))
        reg.promote(MODEL, 1, why="seed")
        reg.promote(MODEL, 2, why="seed")


def _write(reg: ModelRegistry, store: MetadataStore, task: Task, rng: random.Random) -> str:
    """One write of the task's scenario; returns what it did."""
    pick = rng.randint(1, task.versions)
    if task.scenario == "promote" or (task.scenario == "promote_rollback" and task.worker % 2):
        reg.promote(MODEL, pick, why=f"w{task.worker}")
        return f"promote {pick}"
    if task.scenario == "promote_rollback":
        reg.rollback(MODEL, why=f"w{task.worker}")
        return "rollback"
    if task.scenario == "alias":
        reg.set_alias(MODEL, "champion", pick, why=f"w{task.worker}")
        return f"alias {pick}"
    if task.scenario == "register":
        v = reg.register(MODEL, model_artifact(store, 1000 * task.worker + pick))
        return f"register {v.version}"
    reg.rollback(MODEL, why=f"w{task.worker}", from_version=task.from_version)
    return "rollback"


def snapshot_violations(reg: ModelRegistry, store: MetadataStore) -> list[str]:
    """The invariants checked on one committed state (under the model's lock)."""
    return run_locked(store, f"registry:{MODEL}", lambda: violations(reg, MODEL))


def work(task: Task) -> Outcome:
    """Run one worker; never raises (a failure is reported in the outcome)."""
    out = Outcome(os.getpid())
    rng = random.Random(task.worker * 7919 + task.rounds)
    with MetadataStore(task.url) as store:
        reg = ModelRegistry(store, who=f"w{task.worker}")
        time.sleep(max(0.0, task.start_at - time.time()))
        for _ in range(task.rounds):
            try:
                out.succeeded.append(_write(reg, store, task, rng))
            except (ConflictError, InvalidArgumentError) as exc:
                out.refused.append(f"{type(exc).__name__}: {exc}")
            except GraphletsError as exc:  # anything else expected-looking is still a failure
                out.violations.append(f"unexpected {type(exc).__name__}: {exc}")
            except Exception as exc:
                out.violations.append(f"crash {type(exc).__name__}: {str(exc)[:300]}")
            out.violations += snapshot_violations(reg, store)
    return out
