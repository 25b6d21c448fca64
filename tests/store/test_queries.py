"""Reads on every backend: by type, name, uri and context; ``ListOptions`` ordering and paging."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from graphlets.errors import InvalidArgumentError, NotFoundError
from graphlets.model import (
    Artifact,
    ArtifactType,
    Attribution,
    Context,
    ContextType,
    Execution,
    ExecutionType,
)
from graphlets.store import ListOptions, MetadataStore, OrderBy


@pytest.fixture
def ids(store: MetadataStore) -> dict[str, int]:
    return {
        "examples": store.put_artifact_type(ArtifactType("Examples")),
        "model": store.put_artifact_type(ArtifactType("Model")),
        "trainer": store.put_execution_type(ExecutionType("Trainer")),
        "pusher": store.put_execution_type(ExecutionType("Pusher")),
        "pipeline": store.put_context_type(ContextType("pipeline")),
        "run": store.put_context_type(ContextType("pipeline_run")),
    }


def test_by_type(store: MetadataStore, ids: dict[str, int]) -> None:
    ex = store.put_artifacts([Artifact(ids["examples"], name=f"e{i}") for i in range(3)])
    mo = store.put_artifacts([Artifact(ids["model"], name="m")])
    tr = store.put_executions([Execution(ids["trainer"]) for _ in range(2)])
    pc = store.put_contexts([Context(ids["pipeline"], name="p")])
    store.put_contexts([Context(ids["run"], name="r")])
    assert [a.id for a in store.get_artifacts_by_type("Examples")] == ex
    assert [a.id for a in store.get_artifacts_by_type("Model")] == mo
    assert [e.id for e in store.get_executions_by_type("Trainer")] == tr
    assert store.get_executions_by_type("Pusher") == []
    assert [c.id for c in store.get_contexts_by_type("pipeline")] == pc
    assert all(a.type == "Examples" for a in store.get_artifacts_by_type("Examples"))


def test_by_unknown_type_names_the_type(store: MetadataStore, ids: dict[str, int]) -> None:
    # ml-metadata returns [] / None here; graphlets says which name is wrong and what exists.
    with pytest.raises(NotFoundError) as err:
        store.get_artifacts_by_type("Exampels")
    assert "'Exampels'" in str(err.value) and "Examples" in str(err.value)
    with pytest.raises(NotFoundError):
        store.get_executions_by_type("Nope")
    with pytest.raises(NotFoundError):
        store.get_context_by_type_and_name("Nope", "x")


def test_by_type_and_name(store: MetadataStore, ids: dict[str, int]) -> None:
    [a] = store.put_artifacts([Artifact(ids["examples"], name="span-1")])
    store.put_artifacts([Artifact(ids["model"], name="span-2")])
    [e] = store.put_executions([Execution(ids["trainer"], name="t")])
    [c] = store.put_contexts([Context(ids["pipeline"], name="p")])
    got_a = store.get_artifact_by_type_and_name("Examples", "span-1")
    assert got_a is not None and got_a.id == a
    assert store.get_artifact_by_type_and_name("Examples", "span-2") is None
    got_e = store.get_execution_by_type_and_name("Trainer", "t")
    assert got_e is not None and got_e.id == e
    assert store.get_execution_by_type_and_name("Pusher", "t") is None
    got_c = store.get_context_by_type_and_name("pipeline", "p")
    assert got_c is not None and got_c.id == c
    assert store.get_context_by_type_and_name("pipeline_run", "p") is None


def test_by_uri(store: MetadataStore, ids: dict[str, int]) -> None:
    got = store.put_artifacts(
        [
            Artifact(ids["examples"], uri="/a"),
            Artifact(ids["model"], uri="/a"),
            Artifact(ids["examples"], uri="/a/b"),
            Artifact(ids["examples"]),
        ]
    )
    assert [a.id for a in store.get_artifacts_by_uri("/a")] == got[:2]
    assert store.get_artifacts_by_uri("/a/") == []
    assert store.get_artifacts_by_uri("%") == []


def test_by_context_of_unknown_id_is_empty(store: MetadataStore, ids: dict[str, int]) -> None:
    assert store.get_artifacts_by_context(99) == []
    assert store.get_executions_by_context(99) == []
    assert store.get_contexts_by_artifact(99) == []
    assert store.get_contexts_by_execution(99) == []


def test_by_context_returns_hydrated_nodes(store: MetadataStore, ids: dict[str, int]) -> None:
    [c] = store.put_contexts([Context(ids["pipeline"], name="p")])
    [a] = store.put_artifacts([Artifact(ids["examples"], uri="/x", custom_properties={"k": "v"})])
    store.put_attributions_and_associations([Attribution(c, a)], [])
    [got] = store.get_artifacts_by_context(c)
    assert (got.uri, dict(got.custom_properties), got.type) == ("/x", {"k": "v"}, "Examples")


# ListOptions --------------------------------------------------------------------------------


def _seed(store: MetadataStore, ids: dict[str, int]) -> list[int]:
    """25 artifacts in batches (equal create times inside a batch), some updated later."""
    out: list[int] = []
    for size in (5, 1, 7, 3, 9):
        out += store.put_artifacts([Artifact(ids["examples"]) for _ in range(size)])
        time.sleep(0.003)
    arts = store.get_artifacts_by_id(out)
    store.put_artifacts([dataclasses.replace(a, uri="/touched") for a in arts[::4]])
    return out


def _expected(store: MetadataStore, all_ids: list[int], order: OrderBy, asc: bool) -> list[int]:
    arts = store.get_artifacts_by_id(all_ids)
    key = {
        OrderBy.ID: lambda a: (a.id, a.id),
        OrderBy.CREATE_TIME: lambda a: (a.create_time_since_epoch, a.id),
        OrderBy.LAST_UPDATE_TIME: lambda a: (a.last_update_time_since_epoch, a.id),
    }[order]
    return [a.id for a in sorted(arts, key=key, reverse=not asc)]


def test_default_is_ascending_id(store: MetadataStore, ids: dict[str, int]) -> None:
    all_ids = _seed(store, ids)
    assert [a.id for a in store.get_artifacts()] == sorted(all_ids)
    assert [a.id for a in store.get_artifacts(ListOptions(limit=3))] == sorted(all_ids)[:3]


@pytest.mark.parametrize("order", list(OrderBy))
@pytest.mark.parametrize("asc", [True, False])
def test_order_by(store: MetadataStore, ids: dict[str, int], order: OrderBy, asc: bool) -> None:
    all_ids = _seed(store, ids)
    got = [a.id for a in store.get_artifacts(ListOptions(order_by=order, is_asc=asc))]
    assert got == _expected(store, all_ids, order, asc)
    if order == OrderBy.LAST_UPDATE_TIME:
        assert got != sorted(all_ids, reverse=not asc)  # the updates really reorder


@pytest.mark.parametrize("order", list(OrderBy))
@pytest.mark.parametrize("asc", [True, False])
def test_pages_have_no_overlap_and_no_gap(
    store: MetadataStore, ids: dict[str, int], order: OrderBy, asc: bool
) -> None:
    all_ids = _seed(store, ids)
    expected = _expected(store, all_ids, order, asc)
    for limit in (1, 4, 25, 100):
        opts = ListOptions(limit=limit, order_by=order, is_asc=asc)
        seen: list[int] = []
        pages = 0
        while True:
            page, token = store.list_artifacts(opts)
            pages += 1
            assert 0 < len(page) <= limit
            seen += [a.id for a in page]
            if token is None:
                break
            opts = dataclasses.replace(opts, next_page_token=token)
        assert seen == expected, limit
        assert pages == max(1, -(-25 // limit))


def test_paging_with_a_filter(store: MetadataStore, ids: dict[str, int]) -> None:
    all_ids = _seed(store, ids)
    opts = ListOptions(limit=2, filter_query="uri = '/touched'", is_asc=False)
    seen: list[int] = []
    while True:
        page, token = store.list_artifacts(opts)
        seen += [a.id for a in page]
        if not token:
            break
        opts = dataclasses.replace(opts, next_page_token=token)
    assert seen == sorted(all_ids[::4], reverse=True)


@pytest.mark.parametrize("kind", ["execution", "context"])
def test_listing_executions_and_contexts(
    store: MetadataStore, ids: dict[str, int], kind: str
) -> None:
    if kind == "execution":
        made = store.put_executions([Execution(ids["trainer"]) for _ in range(5)])
        page, token = store.list_executions(ListOptions(limit=3, is_asc=False))
        assert [e.id for e in page] == made[::-1][:3]
        assert token is not None
        rest, end = store.list_executions(ListOptions(limit=3, is_asc=False, next_page_token=token))
        assert [e.id for e in rest] == made[::-1][3:] and end is None
        assert [e.id for e in store.get_executions()] == made
    else:
        made = store.put_contexts([Context(ids["run"], name=f"r{i}") for i in range(5)])
        page, token = store.list_contexts(ListOptions(limit=5))
        assert [c.id for c in page] == made and token is None
        assert [c.id for c in store.get_contexts(ListOptions(limit=2))] == made[:2]


def test_empty_listing(store: MetadataStore, ids: dict[str, int]) -> None:
    assert store.list_artifacts(ListOptions(limit=5)) == ([], None)
    assert store.get_executions() == []


@pytest.mark.parametrize(
    "change",
    [
        {"order_by": OrderBy.CREATE_TIME},
        {"is_asc": False},
        {"filter_query": "uri = '/touched'"},
    ],
)
def test_token_with_another_query(
    store: MetadataStore, ids: dict[str, int], change: dict[str, Any]
) -> None:
    _seed(store, ids)
    _, token = store.list_artifacts(ListOptions(limit=2))
    assert token is not None
    with pytest.raises(InvalidArgumentError) as err:
        store.list_artifacts(ListOptions(limit=2, next_page_token=token, **change))
    assert "another query" in str(err.value)


def test_token_from_another_table(store: MetadataStore, ids: dict[str, int]) -> None:
    _seed(store, ids)
    store.put_executions([Execution(ids["trainer"]) for _ in range(3)])
    _, token = store.list_artifacts(ListOptions(limit=2))
    with pytest.raises(InvalidArgumentError):
        store.list_executions(ListOptions(limit=2, next_page_token=token))


@pytest.mark.parametrize("token", ["garbage", "e30=", "!!!", ""])
def test_malformed_token(store: MetadataStore, ids: dict[str, int], token: str) -> None:
    _seed(store, ids)
    opts = ListOptions(limit=2, next_page_token=token)
    if token == "":  # an empty token means "first page", as in MLMD
        assert len(store.get_artifacts(opts)) == 2
        return
    with pytest.raises(InvalidArgumentError) as err:
        store.get_artifacts(opts)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("limit", [0, -1])
def test_bad_limit(store: MetadataStore, ids: dict[str, int], limit: int) -> None:
    with pytest.raises(InvalidArgumentError):
        store.get_artifacts(ListOptions(limit=limit))
