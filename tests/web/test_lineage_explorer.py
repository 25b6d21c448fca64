"""The lineage explorer's JSON: bounded neighbourhoods, expandable nodes, typed ids."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.unit


def lineage(client: TestClient, query: str) -> Any:
    r = client.get(f"/api/lineage?{query}")
    assert r.status_code == 200, r.text
    return r.json()


def schema_id(client: TestClient) -> str:
    items = client.get("/api/artifacts?type=Schema&newest_first=false").json()["items"]
    return str(items[0]["id"])


def test_a_hub_is_capped_per_node_and_offers_the_rest(client: TestClient) -> None:
    doc = lineage(client, f"start={schema_id(client)}&hops=1&per_node=4")
    start = next(n for n in doc["nodes"] if n["id"] == doc["start"])
    assert len(doc["nodes"]) == 5 and len(doc["edges"]) == 4
    assert start["more"] > 10, "the schema is read by every run's validator and trainer"


def test_the_node_budget_is_never_exceeded(client: TestClient) -> None:
    doc = lineage(client, f"start={schema_id(client)}&hops=6&per_node=500&max_nodes=25")
    assert len(doc["nodes"]) <= 25 and doc["truncated"] is True
    ids = {n["id"] for n in doc["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in doc["edges"])


def test_expanding_a_node_returns_its_missing_neighbours(client: TestClient) -> None:
    first = lineage(client, f"start={schema_id(client)}&hops=1&per_node=2")
    node = next(n for n in first["nodes"] if n["kind"] == "execution" and n["more"] > 0)
    more = lineage(client, f"start={node['id']}&hops=1")
    new = {n["id"] for n in more["nodes"]} - {n["id"] for n in first["nodes"]}
    assert len(new) >= node["more"]


def test_upstream_more_counts_the_producers_not_shown(client: TestClient) -> None:
    pushed = client.get("/api/artifacts?type=PushedModel&limit=1").json()["items"][0]["id"]
    doc = lineage(client, f"start={pushed}&direction=up&hops=4")
    spans = [n for n in doc["nodes"] if n["type"] == "Examples"]
    assert spans and all(n["more"] == 1 for n in spans), "each span's ExampleGen is one hop on"
    start = next(n for n in doc["nodes"] if n["id"] == pushed)
    assert start["more"] == 0


def test_a_context_starts_from_its_newest_executions(client: TestClient) -> None:
    doc = lineage(client, "start=context:1&hops=0")
    assert doc["nodes"] and {n["kind"] for n in doc["nodes"]} == {"execution"}


@pytest.mark.parametrize(
    ("start", "status", "words"),
    [
        ("5", 400, "artifact:5, execution:5, context:5"),
        ("model:5", 400, "KIND:NUMBER"),
        ("artifact:99999", 404, "does not exist"),
    ],
)
def test_bad_starts_say_what_to_write(
    client: TestClient, start: str, status: int, words: str
) -> None:
    r = client.get(f"/api/lineage?start={start}")
    assert r.status_code == status and words in r.json()["detail"]
    page = client.get(f"/lineage?start={start}")
    assert page.status_code == status and words in page.text
