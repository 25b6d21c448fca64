"""Property: any filter text, random or grammar-shaped, gives a page of nodes or a
FilterQueryError on SQLite and PostgreSQL, a 200 or a 4xx from the web API, and exit 0, 1 or 2
with at most one error line from the CLI. Never a RecursionError, OverflowError, driver error
or 5xx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from graphlets.errors import FilterQueryError, InvalidArgumentError
from graphlets.model import (
    Artifact,
    ArtifactType,
    Association,
    Attribution,
    Context,
    ContextType,
    Execution,
    ExecutionType,
    ParentContext,
    PropertyType,
)
from graphlets.store import ListOptions, MetadataStore
from graphlets.web.app import create_app
from tests.cli.helpers import run
from tests.fuzz import CI_CASES, SLOW_CASES, budget
from tests.store.backends import module_store

FIELDS = [
    "id",
    "type_id",
    "name",
    "uri",
    "state",
    "last_known_state",
    "external_id",
    "create_time_since_epoch",
    "last_update_time_since_epoch",
    "type",
    "properties.span.int_value",
    "properties.ratio.double_value",
    "properties.ok.bool_value",
    "properties.split.string_value",
    "custom_properties.owner.string_value",
    "custom_properties.`my key`.int_value",
    "properties.span.blob_value",
    "contexts_a.name",
    "contexts_a.id",
    "contexts_b.type",
    "parent_contexts_a.name",
    "child_contexts_b.id",
    "bogus",
]
OPS = ["=", "!=", "<", "<=", ">", ">=", "LIKE", "NOT LIKE"]
WORDS = ["AND", "OR", "NOT", "(", ")", ",", "IN", "IS", "NULL", "TRUE", "FALSE", "LIVE", "COMPLETE"]
TEXT = st.text(max_size=12).map(lambda t: "'" + t.replace("\\", "\\\\").replace("'", "\\'") + "'")
VALUES = st.one_of(
    TEXT,
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda f: f"{f:.3f}"),
    st.sampled_from(["TRUE", "false", "LIVE", "COMPLETE", "'%'", "''", "'span-%'"]),
)


def _predicate() -> st.SearchStrategy[str]:
    field = st.sampled_from(FIELDS)
    compare = st.builds(lambda f, o, v: f"{f} {o} {v}", field, st.sampled_from(OPS), VALUES)
    in_list = st.builds(
        lambda f, vs: f"{f} IN ({', '.join(vs)})", field, st.lists(VALUES, min_size=1, max_size=4)
    )
    null = st.builds(lambda f, n: f"{f} IS {n}NULL", field, st.sampled_from(["", "NOT "]))
    return st.one_of(compare, in_list, null)


GRAMMAR = st.recursive(
    _predicate(),
    lambda inner: st.one_of(
        st.builds(lambda a, b, op: f"{a} {op} {b}", inner, inner, st.sampled_from(["AND", "OR"])),
        inner.map(lambda a: f"NOT {a}"),
        inner.map(lambda a: f"({a})"),
    ),
    max_leaves=12,
)
TOKENS = st.lists(
    st.one_of(st.sampled_from(FIELDS + OPS + WORDS), VALUES), min_size=1, max_size=15
).map(" ".join)
FILTERS = st.one_of(
    GRAMMAR,
    TOKENS,
    st.text(max_size=60),
    st.builds(lambda n, p: "(" * n + p + ")" * n, st.integers(0, 3000), _predicate()),
    st.builds(lambda n, p: "NOT " * n + p, st.integers(0, 3000), _predicate()),
    st.builds(lambda n: " OR ".join(f"id = {i}" for i in range(n)), st.integers(1, 1500)),
    st.builds(
        lambda n: " AND ".join(f"contexts_c{i}.name = 'p1'" for i in range(n)), st.integers(1, 70)
    ),
)


def _graph(store: MetadataStore) -> None:
    ex_t = store.put_artifact_type(
        ArtifactType(
            "Examples",
            {
                "span": PropertyType.INT,
                "split": PropertyType.STRING,
                "ratio": PropertyType.DOUBLE,
                "ok": PropertyType.BOOLEAN,
            },
        )
    )
    arts = store.put_artifacts(
        [
            Artifact(
                ex_t,
                name=f"span-{i}",
                uri=f"/data/{i}",
                properties={"span": i, "split": "train", "ratio": i / 2, "ok": i % 2 == 0},
                custom_properties={"owner": "ann", "my key": i},
            )
            for i in range(4)
        ]
    )
    et = store.put_execution_type(ExecutionType("Trainer"))
    execs = store.put_executions([Execution(et, name=f"t{i}") for i in range(2)])
    ct = store.put_context_type(ContextType("pipeline"))
    ctx = store.put_contexts([Context(ct, name="p1"), Context(ct, name="p1-run")])
    store.put_parent_contexts([ParentContext(ctx[1], ctx[0])])
    store.put_attributions_and_associations(
        [Attribution(ctx[0], a) for a in arts], [Association(ctx[0], e) for e in execs]
    )


@pytest.fixture(
    scope="module", params=["sqlite-file", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MetadataStore]:
    with module_store(request.param, tmp_path_factory.mktemp("fuzz")) as st_:
        _graph(st_)
        yield st_


def check_store(store: MetadataStore, query: str) -> None:
    for get in (store.get_artifacts, store.get_executions, store.get_contexts):
        try:
            nodes = get(ListOptions(filter_query=query, limit=20))
        except FilterQueryError as exc:
            assert "\n" not in str(exc) and len(str(exc)) < 1000
            continue
        except InvalidArgumentError as exc:  # e.g. a value the backend cannot store
            assert "\n" not in str(exc)
            continue
        assert len(nodes) <= 20


@budget(max(100, CI_CASES * 2 // 3))
@given(FILTERS)
def test_filters_on_the_store(store: MetadataStore, query: str) -> None:
    check_store(store, query)


@pytest.mark.slow
@budget(SLOW_CASES)
@given(FILTERS)
def test_filters_on_the_store_slow(store: MetadataStore, query: str) -> None:
    check_store(store, query)


@pytest.fixture(scope="module")
def client(store: MetadataStore) -> Iterator[TestClient]:
    url = store.url.text
    with TestClient(create_app(url), raise_server_exceptions=False) as c:
        yield c


def check_web(client: TestClient, query: str) -> None:
    for path in ("/api/artifacts", "/api/executions", "/contexts"):
        res = client.get(path, params={"filter": query})
        assert res.status_code == 200 or 400 <= res.status_code < 500, (query, res.text[:300])


@budget(max(50, CI_CASES // 3))
@given(FILTERS)
def test_filters_through_the_web_api(client: TestClient, query: str) -> None:
    check_web(client, query)


@pytest.mark.slow
@budget(SLOW_CASES)
@given(FILTERS)
def test_filters_through_the_web_api_slow(client: TestClient, query: str) -> None:
    check_web(client, query)


def check_cli(store: MetadataStore, query: str) -> None:
    if "\x00" in query:
        return  # argv cannot carry a NUL
    res = run("store", "ls", "artifacts", "--filter", query, "--json", "--store", store.url.text)
    assert res.exit_code in (0, 1, 2), (query, res.stderr, res.exception)
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    if res.exit_code == 1:
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr


@budget(max(20, CI_CASES // 15))
@given(FILTERS)
def test_filters_through_the_cli(store: MetadataStore, query: str) -> None:
    check_cli(store, query)


@pytest.mark.slow
@budget(SLOW_CASES // 5)
@given(FILTERS)
def test_filters_through_the_cli_slow(store: MetadataStore, query: str) -> None:
    check_cli(store, query)


def test_grammar_reaches_the_database(store: MetadataStore) -> None:
    """The grammar strategy's shapes do run: a sample of them returns rows."""
    for query in (
        "properties.span.int_value >= 1 AND NOT (uri LIKE '/data/3')",
        "contexts_a.name = 'p1' OR properties.ok.bool_value = TRUE",
        "custom_properties.`my key`.int_value IN (0, 2)",
    ):
        assert store.get_artifacts(ListOptions(filter_query=query))
