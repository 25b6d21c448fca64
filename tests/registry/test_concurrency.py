"""Concurrent registry writers: 8 processes racing promote/promote, promote/rollback, alias/alias,
register/register and a double rollback, on a SQLite file and on PostgreSQL.

Each worker checks the invariants (:mod:`tests.registry.invariants`) after every one of its
writes; the test checks them again at the end and counts: every write that reported success has
exactly one audit record, every refusal is a one-line ConflictError or InvalidArgumentError.
Before the registry's writes were serialised these races left several versions in production,
lost the fallback and let ``@production`` disagree with the audit trail.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from collections.abc import Iterator
from multiprocessing.pool import Pool

import pytest

from graphlets.registry import ModelRegistry
from graphlets.store import MetadataStore
from tests.registry import race
from tests.registry.invariants import violations

PROCESSES = 8
ROUNDS = 3  # writes per process in the default run; the slow run does SLOW_ROUNDS
SLOW_ROUNDS = 40
VERSIONS = 8
BACKENDS = pytest.mark.parametrize("store_url", ["sqlite-file", "postgresql"], indirect=True)


@pytest.fixture(scope="module")
def pool() -> Iterator[Pool]:
    """Eight spawned worker processes (a fresh interpreter each, as separate CLI runs would
    be), started once for the module and warmed up (imports done)."""
    workers = multiprocessing.get_context("spawn").Pool(PROCESSES)
    try:
        workers.map(time.sleep, [0.2] * PROCESSES, chunksize=1)
        yield workers
    finally:
        workers.terminate()
        workers.join()


def run(pool: Pool, url: str, scenario: str, rounds: int, **kw: int) -> list[race.Outcome]:
    """Seed the store, race ``PROCESSES`` workers, return their outcomes."""
    race.seed(url, VERSIONS)
    start = time.time() + 0.5
    tasks = [race.Task(url, scenario, w, rounds, VERSIONS, start, **kw) for w in range(PROCESSES)]
    outcomes = pool.map(race.work, tasks, chunksize=1)
    assert len({o.pid for o in outcomes}) == PROCESSES  # really 8 processes at once
    return outcomes


def settle(url: str, outcomes: list[race.Outcome]) -> tuple[Counter[str], list[dict]]:
    """Assert no worker saw a violation and none holds now; the actions recorded by workers
    (``promote``, ``rollback``, ...) and the audit trail."""
    seen = [v for o in outcomes for v in o.violations]
    with MetadataStore(url) as store:
        reg = ModelRegistry(store)
        now = violations(reg, race.MODEL)
        history = reg.history(race.MODEL)
    assert seen == [] and now == [], (seen[:10], now)
    for o in outcomes:
        assert all("\n" not in r and r.split(":")[0] in _REFUSALS for r in o.refused), o.refused
    done = Counter(s.split()[0] for o in outcomes for s in o.succeeded)
    return done, history


_REFUSALS = {"ConflictError", "InvalidArgumentError"}


def _actions(history: list[dict], action: str, seeded: int = 0) -> int:
    return sum(1 for h in history if h.get("action") == action) - seeded


def check_promotes(pool: Pool, url: str, rounds: int) -> None:
    done, history = settle(url, run(pool, url, "promote", rounds))
    assert done["promote"] == PROCESSES * rounds
    assert _actions(history, "transition", seeded=2) == done["promote"]
    last = [h["version"] for h in history if h.get("to_stage") == "production"][-1]
    with MetadataStore(url) as store:
        reg = ModelRegistry(store)
        assert reg.resolve(f"{race.MODEL}@production").version == last
        assert len(reg.in_stage(race.MODEL, "production")) == 1
        assert reg.alias(race.MODEL, "fallback") is not None


def check_promote_rollback(pool: Pool, url: str, rounds: int) -> None:
    done, history = settle(url, run(pool, url, "promote_rollback", rounds))
    assert done["promote"] == PROCESSES // 2 * rounds
    assert done["rollback"] >= 1  # at least the first rollback had v1 to go back to
    assert _actions(history, "transition", seeded=2) == done["promote"]
    assert _actions(history, "rollback") == done["rollback"]


def check_aliases(pool: Pool, url: str, rounds: int) -> None:
    done, history = settle(url, run(pool, url, "alias", rounds))
    assert done["alias"] == PROCESSES * rounds == _actions(history, "alias")
    last = [h["version"] for h in history if h.get("alias") == "champion"][-1]
    with MetadataStore(url) as store:
        holders = [v.version for v in ModelRegistry(store).versions(race.MODEL) if v.aliases]
        assert ModelRegistry(store).resolve(f"{race.MODEL}@champion").version == last
    assert last in holders


def check_registers(pool: Pool, url: str, rounds: int) -> None:
    done, history = settle(url, run(pool, url, "register", rounds))
    total = VERSIONS + PROCESSES * rounds
    assert done["register"] == PROCESSES * rounds
    with MetadataStore(url) as store:
        versions = ModelRegistry(store).versions(race.MODEL)
    assert [v.version for v in versions] == list(range(1, total + 1))
    assert len({v.model_artifact_id for v in versions}) == total
    assert sorted(h["version"] for h in history if h["action"] == "register") == list(
        range(1, total + 1)
    )


def check_rollback_once(pool: Pool, url: str) -> None:
    """Eight people roll back the same bad version at the same moment: one rollback, seven
    conflicts. Runs on whatever state the store holds: a fresh promote first makes the previous
    production version the fallback."""
    with MetadataStore(url) as store:
        reg = ModelRegistry(store, who="setup")
        current = reg.production(race.MODEL)
        bad = 1 if current is None or current.version != 1 else 2
        reg.promote(race.MODEL, bad, why="the version everyone will roll back")
    tasks = [
        race.Task(url, "rollback_once", w, 1, VERSIONS, time.time() + 0.5, bad)
        for w in range(PROCESSES)
    ]
    outcomes = pool.map(race.work, tasks, chunksize=1)
    done, history = settle(url, outcomes)
    refused = [r for o in outcomes for r in o.refused]
    assert done["rollback"] == 1 and len(refused) == PROCESSES - 1
    assert history[-1]["action"] == "rollback" and history[-1]["from_version"] == bad
    assert sum(h.get("from_version") == bad for h in history[-PROCESSES:]) == 1
    assert all(r.startswith("ConflictError: model 'm' was not rolled back") for r in refused)


@BACKENDS
@pytest.mark.parametrize("scenario", ["promote", "promote_rollback", "alias", "register"])
def test_eight_processes_race_and_every_invariant_holds(
    pool: Pool, store_url: str, scenario: str
) -> None:
    """Each race, then (on the promote race's result) eight processes rolling back one
    version at once."""
    checks = {
        "promote": check_promotes,
        "promote_rollback": check_promote_rollback,
        "alias": check_aliases,
        "register": check_registers,
    }
    checks[scenario](pool, store_url, ROUNDS)
    if scenario == "promote":
        check_rollback_once(pool, store_url)


@pytest.mark.slow
@BACKENDS
@pytest.mark.parametrize("scenario", ["promote", "promote_rollback", "alias", "register"])
def test_eight_processes_race_longer(pool: Pool, store_url: str, scenario: str) -> None:
    checks = {
        "promote": check_promotes,
        "promote_rollback": check_promote_rollback,
        "alias": check_aliases,
        "register": check_registers,
    }
    checks[scenario](pool, store_url, SLOW_ROUNDS)
