"""``ListOptions.filter_query`` on every backend: each documented field, operator and value form."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graphlets.errors import FilterQueryError, InvalidArgumentError
from graphlets.model import (
    Artifact,
    ArtifactState,
    ArtifactType,
    Association,
    Attribution,
    Context,
    ContextType,
    Execution,
    ExecutionState,
    ExecutionType,
    ParentContext,
    PropertyType,
)
from graphlets.store import ListOptions, MetadataStore
from tests.store.backends import BACKENDS, module_store


@pytest.fixture(scope="module", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MetadataStore]:
    """One store per backend for the whole module: these tests only read."""
    with module_store(request.param, tmp_path_factory.mktemp("fq")) as st:
        yield st


@pytest.fixture(scope="module")
def graph(store: MetadataStore) -> dict[str, int]:
    """Four artifacts, three executions and four contexts with known properties and links."""
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
    model_t = store.put_artifact_type(ArtifactType("Model"))
    trainer_t = store.put_execution_type(ExecutionType("Trainer"))
    pusher_t = store.put_execution_type(ExecutionType("Pusher"))
    pipe_t = store.put_context_type(ContextType("pipeline"))
    run_t = store.put_context_type(ContextType("pipeline_run"))
    a = store.put_artifacts(
        [
            Artifact(
                ex_t,
                name="span-1",
                uri="/data/1",
                state=ArtifactState.LIVE,
                properties={"span": 1, "split": "train", "ratio": 0.5, "ok": True},
                custom_properties={"owner": "ann", "my key": 7},
            ),
            Artifact(
                ex_t,
                name="span-2",
                uri="/data/2",
                state=ArtifactState.PENDING,
                properties={"span": 2, "split": "eval", "ratio": 1.5, "ok": False},
                custom_properties={"owner": "bob's"},
            ),
            Artifact(
                ex_t,
                name="span-3",
                state=ArtifactState.ABANDONED,
                properties={"span": 3},
                external_id="ext-3",
            ),
            Artifact(
                model_t,
                name="model-1",
                uri="/models/1",
                state=ArtifactState.LIVE,
                custom_properties={"pushed": 1},
            ),
        ]
    )
    e = store.put_executions(
        [
            Execution(
                trainer_t,
                name="t1",
                last_known_state=ExecutionState.COMPLETE,
                custom_properties={"cpu_seconds": 12.5},
            ),
            Execution(trainer_t, name="t2", last_known_state=ExecutionState.FAILED),
            Execution(pusher_t, name="push", last_known_state=ExecutionState.CACHED),
        ]
    )
    c = store.put_contexts(
        [
            Context(pipe_t, name="p1"),
            Context(pipe_t, name="p2"),
            Context(run_t, name="p1-run1"),
            Context(run_t, name="p2-run1"),
        ]
    )
    store.put_parent_contexts([ParentContext(c[2], c[0]), ParentContext(c[3], c[1])])
    store.put_attributions_and_associations(
        [
            Attribution(c[0], a[0]),
            Attribution(c[2], a[0]),
            Attribution(c[1], a[1]),
            Attribution(c[3], a[1]),
            Attribution(c[0], a[3]),
        ],
        [Association(c[0], e[0]), Association(c[2], e[0]), Association(c[1], e[1])],
    )
    names = [
        "span-1",
        "span-2",
        "span-3",
        "model-1",
        "t1",
        "t2",
        "push",
        "p1",
        "p2",
        "p1-run1",
        "p2-run1",
    ]
    return dict(zip(names, a + e + c, strict=True)) | {"model_t": model_t}


def _names(store: MetadataStore, kind: str, query: str) -> set[str]:
    get = {
        "artifact": store.get_artifacts,
        "execution": store.get_executions,
        "context": store.get_contexts,
    }[kind]
    return {str(n.name) for n in get(ListOptions(filter_query=query))}


ARTIFACT_CASES = [
    ("uri = '/data/1'", {"span-1"}),
    ('uri = "/data/2"', {"span-2"}),
    ("uri != '/data/1'", {"span-2", "model-1"}),  # SQL: NULL uris never compare
    ("name LIKE 'span-%'", {"span-1", "span-2", "span-3"}),
    ("name NOT LIKE 'span-%'", {"model-1"}),
    ("uri LIKE '/data/_'", {"span-1", "span-2"}),
    ("uri IS NULL", {"span-3"}),
    ("uri IS NOT NULL", {"span-1", "span-2", "model-1"}),
    ("external_id = 'ext-3'", {"span-3"}),
    ("external_id IS NOT NULL", {"span-3"}),
    ("type = 'Model'", {"model-1"}),
    ("type != 'Model'", {"span-1", "span-2", "span-3"}),
    ("type IN ('Model', 'Nope')", {"model-1"}),
    ("state = LIVE", {"span-1", "model-1"}),
    ("state = live", {"span-1", "model-1"}),
    ("state IN (PENDING, ABANDONED)", {"span-2", "span-3"}),
    ("state = 2", {"span-1", "model-1"}),
    ("create_time_since_epoch > 0", {"span-1", "span-2", "span-3", "model-1"}),
    ("last_update_time_since_epoch <= 0", set()),
    (
        "create_time_since_epoch >= 1600000000000 AND last_update_time_since_epoch < 9999999999999",
        {"span-1", "span-2", "span-3", "model-1"},
    ),
    ("properties.span.int_value = 2", {"span-2"}),
    ("properties.span.int_value >= 2", {"span-2", "span-3"}),
    ("properties.span.int_value < 2", {"span-1"}),
    ("properties.span.int_value != 2", {"span-1", "span-3"}),
    ("properties.span.int_value IN (1, 3)", {"span-1", "span-3"}),
    ("properties.ratio.double_value > 0.75", {"span-2"}),
    ("properties.ratio.double_value <= 0.5", {"span-1"}),
    ("properties.ratio.double_value > -1.5", {"span-1", "span-2"}),
    ("properties.split.string_value = 'eval'", {"span-2"}),
    ("properties.split.string_value LIKE 'tr%'", {"span-1"}),
    ("properties.ok.bool_value = TRUE", {"span-1"}),
    ("properties.ok.bool_value = false", {"span-2"}),
    ("properties.split.string_value IS NULL", set()),  # no such row: the property is absent
    ("custom_properties.owner.string_value = 'ann'", {"span-1"}),
    ("custom_properties.owner.string_value = 'bob\\'s'", {"span-2"}),
    ("custom_properties.`my key`.int_value = 7", {"span-1"}),
    ("custom_properties.pushed.int_value = 1", {"model-1"}),
    ("properties.pushed.int_value = 1", set()),  # custom, not declared
    ("custom_properties.span.int_value = 1", set()),  # declared, not custom
    ("contexts_a.name = 'p1'", {"span-1", "model-1"}),
    ("contexts_a.type = 'pipeline_run'", {"span-1", "span-2"}),
    ("contexts_a.type = 'pipeline' AND contexts_a.name = 'p1-run1'", set()),
    ("contexts_a.type = 'pipeline' AND contexts_b.name = 'p1-run1'", {"span-1"}),
    ("contexts_a.name = 'p1' AND contexts_b.name = 'p2'", set()),
    ("contexts_a.name IN ('p1', 'p2') AND type = 'Examples'", {"span-1", "span-2"}),
    ("uri = '/data/1' OR uri = '/data/2'", {"span-1", "span-2"}),
    ("uri = '/data/1' or state = ABANDONED and name = 'span-3'", {"span-1", "span-3"}),
    ("(uri = '/data/1' OR state = ABANDONED) AND name = 'span-3'", {"span-3"}),
    ("NOT state = LIVE", {"span-2", "span-3"}),
    ("NOT (state = LIVE OR type = 'Model')", {"span-2", "span-3"}),
    ("not not name = 'span-1'", {"span-1"}),
    ("((name = 'span-1'))", {"span-1"}),
    ("NOT properties.span.int_value = 1", {"span-2", "span-3", "model-1"}),
    ("uri = '\\'; DROP TABLE artifact; --'", set()),
]


@pytest.mark.parametrize(("query", "expected"), ARTIFACT_CASES, ids=[c[0] for c in ARTIFACT_CASES])
def test_artifact_filters(
    store: MetadataStore, graph: dict[str, int], query: str, expected: set[str]
) -> None:
    assert _names(store, "artifact", query) == expected
    assert store.count("artifact") == 4


def test_id_and_type_id_fields(store: MetadataStore, graph: dict[str, int]) -> None:
    assert _names(store, "artifact", f"id = {graph['span-2']}") == {"span-2"}
    assert _names(store, "artifact", f"id > {graph['span-2']}") == {"span-3", "model-1"}
    assert _names(store, "artifact", f"type_id = {graph['model_t']}") == {"model-1"}
    assert _names(store, "artifact", f"contexts_a.id = {graph['p2']}") == {"span-2"}
    assert _names(store, "execution", f"contexts_x.id = {graph['p1-run1']}") == {"t1"}


EXECUTION_CASES = [
    ("last_known_state = COMPLETE", {"t1"}),
    ("last_known_state IN (FAILED, CACHED)", {"t2", "push"}),
    ("last_known_state != COMPLETE", {"t2", "push"}),
    ("type = 'Trainer' AND NOT last_known_state = FAILED", {"t1"}),
    ("custom_properties.cpu_seconds.double_value > 10", {"t1"}),
    ("contexts_a.name = 'p1'", {"t1"}),
    ("contexts_run.type = 'pipeline_run' AND contexts_pipe.name = 'p1'", {"t1"}),
    ("contexts_a.name = 'p2' OR name = 'push'", {"t2"}),  # a contexts_ join drops unlinked rows
    ("name LIKE 't%'", {"t1", "t2"}),
]


@pytest.mark.parametrize(
    ("query", "expected"), EXECUTION_CASES, ids=[c[0] for c in EXECUTION_CASES]
)
def test_execution_filters(
    store: MetadataStore, graph: dict[str, int], query: str, expected: set[str]
) -> None:
    assert _names(store, "execution", query) == expected


CONTEXT_CASES = [
    ("type = 'pipeline'", {"p1", "p2"}),
    ("name = 'p1-run1'", {"p1-run1"}),
    ("parent_contexts_a.name = 'p1'", {"p1-run1"}),
    ("parent_contexts_a.type = 'pipeline'", {"p1-run1", "p2-run1"}),
    ("child_contexts_a.name = 'p2-run1'", {"p2"}),
    ("child_contexts_a.type = 'pipeline_run' AND name != 'p2'", {"p1"}),
    ("name LIKE 'p_'", {"p1", "p2"}),
]


@pytest.mark.parametrize(("query", "expected"), CONTEXT_CASES, ids=[c[0] for c in CONTEXT_CASES])
def test_context_filters(
    store: MetadataStore, graph: dict[str, int], query: str, expected: set[str]
) -> None:
    assert _names(store, "context", query) == expected


BAD = [
    ("artifact", "uri =="),
    ("artifact", "uri = "),
    ("artifact", "foo = 1"),
    ("artifact", "uri = bareword"),
    ("artifact", "(uri = 'a'"),
    ("artifact", "uri = 'a')"),
    ("artifact", "uri = 'unterminated"),
    ("artifact", "uri ~ 'x'"),
    ("artifact", "uri = 'a' extra"),
    ("artifact", "uri = 'a' AND"),
    ("artifact", "properties.span.blob_value = 1"),
    ("artifact", "properties.span = 1"),
    ("artifact", "contexts_a.uri = 'x'"),
    ("artifact", "parent_contexts_a.name = 'p1'"),
    ("artifact", "last_known_state = COMPLETE"),
    ("execution", "uri = '/x'"),
    ("context", "contexts_a.name = 'p1'"),
    ("context", "state = LIVE"),
    ("artifact", "   "),
    ("artifact", "uri IS 'x'"),
    ("artifact", "uri IN 'x'"),
    ("artifact", "= 'x'"),
]


@pytest.mark.parametrize(("kind", "query"), BAD, ids=[f"{k}:{q}" for k, q in BAD])
def test_bad_query_is_one_line_filter_query_error(
    store: MetadataStore, graph: dict[str, int], kind: str, query: str
) -> None:
    get = {
        "artifact": store.get_artifacts,
        "execution": store.get_executions,
        "context": store.get_contexts,
    }[kind]
    with pytest.raises(FilterQueryError) as err:
        get(ListOptions(filter_query=query))
    msg = str(err.value)
    assert isinstance(err.value, InvalidArgumentError)
    assert "\n" not in msg and "filter_query" in msg
