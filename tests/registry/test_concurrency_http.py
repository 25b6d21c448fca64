"""Concurrent registry writes over HTTP: several clients hit a live ``graphlets ui`` server's
promote, rollback and alias endpoints at once (SQLite file and PostgreSQL).

Every answer is a 200, a 400 (nothing to roll back to) or a 409 with a one-line message; every
200 has exactly one audit record; the invariants hold afterwards; then eight clients rolling back
the same version at once give one rollback and seven 409s.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from graphlets.registry import ModelRegistry
from graphlets.store import MetadataStore
from graphlets.web import create_app
from tests.registry import race
from tests.registry.invariants import violations
from tests.web.conftest import TOKEN, auth
from tests.web.live import live_server

CLIENTS = 8
REQUESTS = 4  # per client
BACKENDS = pytest.mark.parametrize("store_url", ["sqlite-file", "postgresql"], indirect=True)


@pytest.fixture
def server(store_url: str) -> Iterator[tuple[str, str]]:
    """A live server over a seeded registry (v2 in production, v1 the fallback, v3..v8 staged)."""
    race.seed(store_url, 8)
    with live_server(create_app(store_url, TOKEN)) as base:
        yield base, store_url


def race_clients(base: str, requests: list[list[tuple[str, dict[str, Any]]]]) -> list[Any]:
    """Each client (a thread with its own connection) sends its requests once all are ready."""
    ready = threading.Barrier(len(requests))
    answers: list[Any] = []

    def client(mine: list[tuple[str, dict[str, Any]]]) -> None:
        with httpx.Client(base_url=base, headers=auth(), timeout=60) as http:
            ready.wait()
            for action, body in mine:
                r = http.post(f"/api/registry/{race.MODEL}/{action}", json=body)
                answers.append((action, r.status_code, r.json()))

    threads = [threading.Thread(target=client, args=(m,)) for m in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def final_state(url: str) -> tuple[list[str], list[dict[str, Any]]]:
    with MetadataStore(url) as store:
        reg = ModelRegistry(store)
        return violations(reg, race.MODEL), reg.history(race.MODEL)


@BACKENDS
def test_clients_racing_promote_rollback_alias_leave_a_consistent_registry(
    server: tuple[str, str],
) -> None:
    base, url = server
    rng = random.Random(13)
    plan = [
        [
            rng.choice(
                [
                    ("promote", {"version": rng.randint(1, 8), "reason": f"c{c}"}),
                    ("rollback", {"reason": f"c{c}"}),
                    ("alias", {"alias": "champion", "version": rng.randint(1, 8)}),
                ]
            )
            for _ in range(REQUESTS)
        ]
        for c in range(CLIENTS)
    ]
    answers = race_clients(base, plan)
    assert len(answers) == CLIENTS * REQUESTS
    for action, status, doc in answers:
        assert status == 200 or (status in (400, 409) and action == "rollback"), (status, doc)
        if status != 200:
            assert "\n" not in doc["detail"] and "cannot roll back" in doc["detail"]
    now, history = final_state(url)
    assert now == []
    ok = Counter(action for action, status, _ in answers if status == 200)
    trail = Counter(h["action"] for h in history)
    assert trail["transition"] - 2 == ok["promote"]  # the seed promoted twice
    assert trail["rollback"] == ok["rollback"]
    assert trail["alias"] == ok["alias"]
    rollback_once(base, url)


def rollback_once(base: str, url: str) -> None:
    """Eight clients roll back the same version at once: one 200, seven one-line 409s."""
    with MetadataStore(url) as store:
        reg = ModelRegistry(store, who="setup")
        current = reg.production(race.MODEL)
        bad = 1 if current is None or current.version != 1 else 2
        reg.promote(race.MODEL, bad, why="the version everyone will roll back")
    body = {"reason": "alert", "from_version": bad}
    answers = race_clients(base, [[("rollback", body)] for _ in range(CLIENTS)])
    statuses = Counter(status for _, status, _ in answers)
    assert statuses == {200: 1, 409: CLIENTS - 1}
    for _, status, doc in answers:
        if status == 409:
            assert "\n" not in doc["detail"]
            assert doc["detail"].startswith(f"model 'm' was not rolled back: version {bad} is no")
    now, history = final_state(url)
    assert now == [] and history[-1]["action"] == "rollback"
    assert history[-2]["action"] == "transition" and history[-2]["version"] == bad
