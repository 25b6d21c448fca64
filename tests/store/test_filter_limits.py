"""The filter parser's limits, each reported in the message, on every backend: nesting, length,
predicates, IN values and joined contexts; values must suit their field and fit int64; NUL
and lone surrogates are refused before they reach a driver."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from graphlets.errors import FilterQueryError
from graphlets.model import (
    Artifact,
    ArtifactType,
    Association,
    Context,
    ContextType,
    Execution,
    ExecutionType,
)
from graphlets.store import ListOptions, MetadataStore
from graphlets.store import filter_query as fq
from tests.store.backends import BACKENDS, module_store


@pytest.fixture(scope="module", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MetadataStore]:
    with module_store(request.param, tmp_path_factory.mktemp("fl")) as st:
        at = st.put_artifact_type(ArtifactType("A"))
        et = st.put_execution_type(ExecutionType("E"))
        ct = st.put_context_type(ContextType("pipeline"))
        st.put_artifacts([Artifact(at, uri=f"/{i}", name=f"a{i}") for i in range(5)])
        [ex] = st.put_executions([Execution(et, name="e")])
        [cx] = st.put_contexts([Context(ct, name="p")])
        st.put_attributions_and_associations([], [Association(cx, ex)])
        yield st


def _refused(store: MetadataStore, query: str, kind: str = "artifact") -> str:
    get = {"artifact": store.get_artifacts, "execution": store.get_executions}[kind]
    with pytest.raises(FilterQueryError) as err:
        get(ListOptions(filter_query=query))
    msg = str(err.value)
    assert "\n" not in msg and len(msg) < 600
    return msg


def _ok(store: MetadataStore, query: str, kind: str = "artifact") -> int:
    get = {"artifact": store.get_artifacts, "execution": store.get_executions}[kind]
    return len(get(ListOptions(filter_query=query)))


def test_nesting_at_the_limit_works_and_beyond_is_reported(store: MetadataStore) -> None:
    depth = fq.MAX_DEPTH
    assert _ok(store, "(" * depth + "uri = '/1'" + ")" * depth) == 1
    assert _ok(store, "NOT " * depth + "uri = '/1'") == (4 if depth % 2 else 1)
    for query in (
        "(" * (depth + 1) + "uri = '/1'" + ")" * (depth + 1),
        "(" * 5000,  # RecursionError before the limit existed
        "NOT " * 2000 + "uri = '/1'",
        "NOT (" * 600 + "id = 1" + ")" * 600,
    ):
        assert f"{depth} levels" in _refused(store, query)


def test_length_limit_is_reported(store: MetadataStore) -> None:
    query = "uri = '" + "x" * fq.MAX_LENGTH + "'"
    assert str(fq.MAX_LENGTH) in _refused(store, query)


def test_many_or_terms_are_reported(store: MetadataStore) -> None:
    n = fq.MAX_PREDICATES
    assert _ok(store, " OR ".join(f"uri = '/{i}'" for i in range(n))) == 5
    msg = _refused(store, " OR ".join(f"id = {i}" for i in range(700)))  # within the length limit
    assert str(n) in msg and "predicates" in msg


def test_many_in_values_are_reported(store: MetadataStore) -> None:
    assert _ok(store, f"id IN ({', '.join(map(str, range(fq.MAX_VALUES)))})") == 5
    msg = _refused(store, f"id IN ({', '.join(map(str, range(fq.MAX_VALUES + 1)))})")
    assert str(fq.MAX_VALUES) in msg


def test_joined_contexts_are_limited(store: MetadataStore) -> None:
    n = fq.MAX_CONTEXT_JOINS
    within = " AND ".join(f"contexts_c{i}.name = 'p'" for i in range(n))
    assert _ok(store, within, "execution") == 1
    beyond = " AND ".join(f"contexts_c{i}.name = 'p'" for i in range(40))  # SQLite: 64 tables
    msg = _refused(store, beyond, "execution")
    assert f"more than {n} contexts" in msg


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("id = 9223372036854775808", "64-bit"),
        ("id = -99999999999999999999999", "64-bit"),
        ("properties.x.int_value > 99999999999999999999", "64-bit"),
        ("id = 'one'", "integer"),
        ("id = 1.5", "integer"),
        ("name = 5", "quoted string"),
        ("name = LIVE", "quoted string"),
        ("uri IN ('a', 2)", "quoted string"),
        ("id LIKE '1%'", "LIKE needs a text field"),
        ("state NOT LIKE 'x'", "LIKE needs a text field"),
        ("properties.p.double_value = 'x'", "a number"),
        ("properties.p.bool_value = 'yes'", "TRUE or FALSE"),
        ("contexts_a.id = 'p'", "integer"),
        ("uri = 'a\x00b'", "NUL"),
        ("uri = '\ud800'", "surrogate"),
        ("properties.`a\x00`.int_value = 1", "NUL"),
    ],
)
def test_values_must_suit_their_field(store: MetadataStore, query: str, words: str) -> None:
    assert words in _refused(store, query)


@pytest.mark.parametrize(
    "query",
    [
        "properties.p.double_value > 2",
        "properties.p.bool_value = 1",
        "properties.p.bool_value = FALSE",
        "properties.p.bool_value < 1",
        "properties.p.bool_value >= TRUE",
        "state = 2",
        "create_time_since_epoch > -1",
        f"id < {2**63 - 1}",
        "contexts_a.type = 'pipeline'",
    ],
)
def test_values_that_suit_their_field_run(store: MetadataStore, query: str) -> None:
    kind = "execution" if "contexts_" in query else "artifact"
    assert _ok(store, query, kind) >= 0


def test_long_input_is_cut_in_messages(tmp_path: Path) -> None:
    with MetadataStore("sqlite://") as st:
        msg = _refused(st, "uri = 'x' " + "garbage " * 900)
        assert "..." in msg
