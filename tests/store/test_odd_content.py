"""Odd but valid MLMD content written by other tools (or by hand): reads tolerate it.

A struct that is not base64 or not protobuf, one nested past protobuf's recursion limit, a
``proto_value`` that does not parse, an unknown ``type_kind``, state or event type: the value
reads as an ``<undecodable: ...>`` string or as ``UNKNOWN``, and a list (API, web, CLI) never
fails for one bad row.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from graphlets.model import (
    Artifact,
    ArtifactState,
    ArtifactType,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
)
from graphlets.store import MetadataStore
from graphlets.store.codec import UNDECODABLE_PREFIX, decode_struct, read_struct
from graphlets.web.app import create_app
from tests.cli.helpers import run


def _varint(n: int) -> bytes:
    out = b""
    while True:
        byte, n = n & 0x7F, n >> 7
        if not n:
            return out + bytes([byte])
        out += bytes([byte | 0x80])


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def nested_struct(depth: int) -> str:
    """``mlmd-struct::`` of ``{"a": {"a": ...}}`` ``depth`` levels deep, built byte by byte (the
    protobuf library refuses to build what it cannot parse)."""
    body = b""
    for _ in range(depth):
        entry = _field(1, b"a") + _field(2, _field(5, body))  # key, Value.struct_value
        body = _field(1, entry)  # Struct.fields
    return "mlmd-struct::" + base64.b64encode(body).decode()


BAD_STRUCTS = {
    "not base64": "mlmd-struct::!!!not-base64!!!",
    "not protobuf": "mlmd-struct::" + base64.b64encode(b"\xff\xff\xff\xff").decode(),
    "too deep": nested_struct(110),  # protobuf stops at 100
}


def test_nested_struct_builder_is_valid_when_shallow() -> None:
    assert decode_struct(nested_struct(3)) == {"a": {"a": {"a": {}}}}


@pytest.mark.parametrize("name", list(BAD_STRUCTS))
def test_bad_struct_reads_as_an_error_value(name: str) -> None:
    value = read_struct(BAD_STRUCTS[name])
    assert isinstance(value, str) and value.startswith(UNDECODABLE_PREFIX)


@pytest.fixture
def odd(store_url: str) -> Iterator[tuple[MetadataStore, dict[str, int]]]:
    """A store with one healthy execution and one of every odd row, written behind the API."""
    with MetadataStore(store_url) as st:
        yield st, write_odd_rows(st)


@pytest.fixture(params=["sqlite-file", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store another process (the web app, the CLI) can open too, holding the odd rows."""
    if request.param == "postgresql":
        url = str(request.getfixturevalue("pg_store_url"))
    else:
        url = f"sqlite:///{tmp_path / 'store.sqlite'}"
        MetadataStore(url, create=True).close()
    with MetadataStore(url) as st:
        request.node.odd_ids = write_odd_rows(st)  # type: ignore[attr-defined]
    return url


def write_odd_rows(st: MetadataStore) -> dict[str, int]:
    """One healthy execution and one of every odd row (written behind the API); their ids."""
    at = st.put_artifact_type(ArtifactType("Examples"))
    et = st.put_execution_type(ExecutionType("Trainer"))
    good, bad = st.put_executions(
        [
            Execution(et, name="good", custom_properties={"cfg": {"lr": 0.1}}),
            Execution(et, name="bad", custom_properties={k: {"x": 1} for k in BAD_STRUCTS}),
        ]
    )
    [art] = st.put_artifacts([Artifact(at, uri="/a")])
    st.put_events([Event(art, bad, EventType.OUTPUT)])
    with st.engine.begin() as conn:
        for key, value in BAD_STRUCTS.items():
            conn.execute(
                text("UPDATE executionproperty SET string_value = :v WHERE name = :k"),
                {"v": value, "k": key},
            )
        conn.execute(
            text(
                "INSERT INTO executionproperty (execution_id, name, is_custom_property, "
                "proto_value) VALUES (:e, 'blob', :c, :p)"
            ),
            {"e": bad, "c": True, "p": b"\xff\xfe\xfd"},
        )
        conn.execute(text("UPDATE execution SET last_known_state = 99 WHERE id = :i"), {"i": bad})
        conn.execute(text("UPDATE artifact SET state = 77"))
        conn.execute(text("UPDATE event SET type = 42"))
        conn.execute(text("INSERT INTO type (name, type_kind) VALUES ('FromTheFuture', 7)"))
    return {"good": good, "bad": bad, "art": art}


def test_reads_tolerate_odd_rows(odd: tuple[MetadataStore, dict[str, int]]) -> None:
    st, ids = odd
    execs = {e.name: e for e in st.get_executions()}
    assert execs["good"].custom_properties["cfg"] == {"lr": 0.1}
    bad = execs["bad"]
    assert bad.last_known_state == ExecutionState.UNKNOWN
    for key in (*BAD_STRUCTS, "blob"):
        value = bad.custom_properties[key]
        assert isinstance(value, str) and value.startswith(UNDECODABLE_PREFIX), key
    [art] = st.get_artifacts_by_id([ids["art"]])
    assert art.state == ArtifactState.UNKNOWN
    [ev] = st.get_events_by_execution_ids([ids["bad"]])
    assert ev.type == EventType.UNKNOWN
    assert {t.name for t in st.get_execution_types()} == {"Trainer"}  # the unknown kind is skipped
    graph = st.get_lineage_subgraph([ids["art"]], max_hops=2)  # an UNKNOWN event is no edge
    assert [a.id for a in graph.artifacts] == [ids["art"]] and not graph.executions


def test_web_list_and_page_survive_a_bad_row(
    shared_url: str, request: pytest.FixtureRequest
) -> None:
    ids = request.node.odd_ids
    with TestClient(create_app(shared_url), raise_server_exceptions=False) as client:
        listed = client.get("/api/executions")
        assert listed.status_code == 200, listed.text
        assert {i["name"] for i in listed.json()["items"]} >= {"good", "bad"}
        page = client.get(f"/api/executions/{ids['bad']}")
        assert page.status_code == 200, page.text
        assert UNDECODABLE_PREFIX in page.text
        assert client.get(f"/executions/{ids['bad']}").status_code == 200
        assert client.get(f"/api/artifacts/{ids['art']}").status_code == 200


def test_cli_ls_and_show_survive_a_bad_row(shared_url: str, request: pytest.FixtureRequest) -> None:
    ids = request.node.odd_ids
    store_url = shared_url
    res = run("store", "ls", "executions", "--json", "--store", store_url)
    assert res.exit_code == 0, res.stderr
    names = {i["name"] for i in json.loads(res.stdout)["items"]}
    assert names >= {"good", "bad"}
    res = run("store", "show", f"execution:{ids['bad']}", "--store", store_url)
    assert res.exit_code == 0, res.stderr
    assert "undecodable" in res.stdout


def test_read_struct_never_raises_on_random_bytes(tmp_path: Path) -> None:
    import random

    rng = random.Random(13)
    for _ in range(2000):
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
        value = read_struct("mlmd-struct::" + base64.b64encode(raw).decode())
        assert isinstance(value, dict | str)
