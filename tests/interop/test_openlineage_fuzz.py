"""Property-based: random OpenLineage events through ``POST /api/v1/lineage`` never make a 5xx or a
traceback, and the store always reads back (the executions list, the execution's page and its
run's page) after every example.

Events are mostly well formed, so they reach the write path, with hostile values mixed into every
part the receiver reads: facets nested past the limit, NaN and Infinity, lone surrogates, NUL,
integers past 64 bits, odd types where strings or objects belong, our own facets (``graphlets``,
``cost``, ``version``, ``datasetType``) with wrong shapes, and events of a few runs in any order.
``GRAPHLETS_FUZZ_EXAMPLES`` sets the number of cases (CI: a few hundred on SQLite, fewer on
PostgreSQL; the ``slow`` variant runs 10,000).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphlets.interop.openlineage_check import MAX_DEPTH
from graphlets.web import create_app

TOKEN = "fuzz-token"
HEAD = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
BOUNDED = int(os.environ.get("GRAPHLETS_FUZZ_EXAMPLES", "200"))
SLOW = int(os.environ.get("GRAPHLETS_FUZZ_SLOW_EXAMPLES", "10000"))
RUNS = [str(uuid.UUID(int=i + 1)) for i in range(4)]
ODD_CHARS = ["\x00", "\ud800", "\udfff", "a", "é", "\U0001f600", "/", ".", " "]


def _strategies(hostile: bool) -> dict[str, st.SearchStrategy[Any]]:
    """Value strategies: ``hostile`` ones include what the store cannot hold (NaN, surrogates,
    NUL, huge integers, nesting past the limit); the others are valid JSON of odd shapes."""
    if hostile:
        texts = st.one_of(
            st.text(max_size=12),
            st.text(alphabet=st.sampled_from(ODD_CHARS), max_size=8),
            st.sampled_from(["Model", "MODEL", "", "x" * 300]),
        )
        numbers = st.one_of(
            st.integers(min_value=-(2**70), max_value=2**70),
            st.floats(allow_nan=True, allow_infinity=True),
        )
    else:
        chars = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
        texts = st.one_of(
            st.text(alphabet=chars, max_size=12),
            st.sampled_from(
                ["Model", "MODEL", "Dataset", "PushedModel", "CACHED", "mlmd.Model", "x" * 300]
            ),
        )
        numbers = st.one_of(
            st.integers(min_value=-(2**62), max_value=2**62),
            st.floats(allow_nan=False, allow_infinity=False),
        )
    scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
    values = st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)
        ),
        max_leaves=12,
    )
    top = MAX_DEPTH + 4 if hostile else MAX_DEPTH - 8
    return {"texts": texts, "numbers": numbers, "scalars": scalars, "values": values,
            "deep": deep(scalars, texts, top)}  # fmt: skip


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``good`` six times in seven: so that a whole event is often valid enough to be written."""
    return st.sampled_from(range(7)).flatmap(lambda i: bad if i == 6 else good)


@st.composite
def deep(
    draw: st.DrawFn, scalars: st.SearchStrategy[Any], texts: st.SearchStrategy[str], top: int
) -> Any:
    """A value nested up to ``top`` levels (objects and arrays mixed)."""
    value: Any = draw(scalars)
    for _ in range(draw(st.integers(min_value=max(0, top - 10), max_value=top))):
        value = [value] if draw(st.booleans()) else {draw(texts): value}
    return value


def facets(v: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Facets graphlets reads (with any shape) and others, or not an object at all."""
    values = v["values"]
    ours = st.fixed_dictionaries(
        {},
        optional={
            "graphlets": st.dictionaries(
                st.sampled_from(["type", "state", "properties", "key", "artifact"]),
                st.one_of(values, st.sampled_from(["CACHED", "Model", "COMPLETE"])),
            ),
            "cost": st.dictionaries(st.sampled_from(["cpuSeconds", "cpu_seconds"]), values),
            "version": st.fixed_dictionaries({"datasetVersion": values}),
            "datasetType": st.fixed_dictionaries(
                {"datasetType": st.one_of(st.just("MODEL"), values)}
            ),
            "graphletsEvent": st.dictionaries(st.sampled_from(["key", "index"]), values),
            "parent": mostly(
                st.fixed_dictionaries(
                    {
                        "run": st.fixed_dictionaries({"runId": st.sampled_from(RUNS)}),
                        "job": st.fixed_dictionaries(
                            {"namespace": st.just("ns"), "name": mostly(st.just("dag"), v["texts"])}
                        ),
                    }
                ),
                values,
            ),
            "errorMessage": st.fixed_dictionaries({"message": values}),
            "deep": mostly(st.fixed_dictionaries({"v": v["deep"]}), v["deep"]),
            "odd": mostly(st.dictionaries(v["texts"], values, max_size=3), values),
        },
    )
    return mostly(ours, values)


@st.composite
def datasets(draw: st.DrawFn, v: dict[str, st.SearchStrategy[Any]]) -> Any:
    if draw(st.sampled_from(range(20))) == 19:
        return draw(v["values"])
    names = st.one_of(st.sampled_from(["t1", "t2", "models/m", "a.onnx"]), v["texts"])
    return {
        "namespace": draw(mostly(st.sampled_from(["s3://lake", "file"]), v["values"])),
        "name": draw(mostly(names, v["values"])),
        "facets": draw(facets(v)),
        "inputFacets": draw(facets(v)),
        "outputFacets": draw(facets(v)),
    }


@st.composite
def events(draw: st.DrawFn) -> Any:
    """A run event, of a few runs in any order: a quarter of them with hostile values anywhere,
    one in twenty any JSON at all, the rest valid JSON of odd shapes that reaches the writes."""
    v = _strategies(hostile=draw(st.sampled_from(range(4))) == 3)
    if draw(st.sampled_from(range(20))) == 19:
        return draw(v["values"])
    kinds = st.sampled_from(["START", "RUNNING", "COMPLETE", "FAIL", "ABORT", "OTHER"])
    times = st.sampled_from(["2026-03-01T10:00:00Z", "2026-03-01T09:00:00.123+02:00"])
    return {
        "eventType": draw(mostly(kinds, v["scalars"])),
        "eventTime": draw(mostly(times, st.one_of(v["texts"], v["numbers"]))),
        "producer": draw(mostly(st.just("https://example.com/p"), v["scalars"])),
        "run": {
            "runId": draw(mostly(st.sampled_from(RUNS), v["texts"])),
            "facets": draw(facets(v)),
        },
        "job": {
            "namespace": draw(mostly(st.just("ns"), v["texts"])),
            "name": draw(mostly(st.sampled_from(["dag.a", "dag.b"]), v["texts"])),
            "facets": draw(facets(v)),
        },
        "inputs": draw(st.lists(datasets(v), max_size=2)),
        "outputs": draw(st.lists(datasets(v), max_size=2)),
    }


def _post_and_read_back(client: TestClient, doc: Any) -> None:
    body = json.dumps(doc)  # NaN -> NaN, surrogates -> \ud800: as a hostile client sends them
    r = client.post("/api/v1/lineage", content=body, headers=HEAD)
    assert r.status_code < 500, r.text
    assert r.status_code in (201, 400, 409, 422), r.text
    listing = client.get("/api/executions")
    assert listing.status_code == 200, listing.text
    if r.status_code == 201:
        got = r.json()
        exec_id = got["execution"].split(":")[1]
        for path in (f"/api/executions/{exec_id}", f"/executions/{exec_id}"):
            page = client.get(path)
            assert page.status_code == 200, (path, page.text[:500])
        run_ctx = got["contexts"][1].split(":")[1]
        assert client.get(f"/api/runs/{run_ctx}").status_code == 200


@pytest.fixture
def client(served_store_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(served_store_url, TOKEN)) as c:
        yield c


def _fuzz(client: TestClient, examples: int) -> None:
    @given(doc=events())
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(doc: Any) -> None:
        _post_and_read_back(client, doc)

    run()


def test_random_events_never_break_the_receiver_or_the_reads(
    client: TestClient, served_store_url: str
) -> None:
    pg = served_store_url.startswith("postgresql")
    _fuzz(client, BOUNDED // 2 if pg else BOUNDED)


@pytest.mark.slow
def test_ten_thousand_random_events_never_break_the_receiver(
    client: TestClient, served_store_url: str
) -> None:
    _fuzz(client, SLOW)
