"""Registry: versions, stages, fallback, rollback, aliases, audit trail, load_model, gc."""

from __future__ import annotations

import pickle
import threading
from pathlib import Path

import pytest

import graphlets
from graphlets.errors import InvalidArgumentError, NotFoundError
from graphlets.model import Artifact, ArtifactState, ArtifactType, PropertyType
from graphlets.registry import ModelRegistry, RetentionPolicy, collect
from graphlets.store import MetadataStore
from graphlets.store.blobs import BlobStore

pytestmark = pytest.mark.unit


@pytest.fixture
def setup(store: MetadataStore, tmp_path: Path) -> tuple[MetadataStore, BlobStore, ModelRegistry]:
    """A registry on each backend (``store`` is parametrised over SQLite and PostgreSQL)."""
    return store, BlobStore(str(tmp_path / "blobs")), ModelRegistry(store, who="tester")


def model_artifact(store: MetadataStore, blobs: BlobStore, payload: object, span: int) -> Artifact:
    type_id = store.put_artifact_type(ArtifactType("Model", {"span": PropertyType.INT}))
    ref = blobs.put_bytes(pickle.dumps(payload))
    art = Artifact(
        type_id,
        uri=ref.uri,
        state=ArtifactState.LIVE,
        properties={"span": span},
        custom_properties={"content_sha256": ref.sha256},
    )
    [aid] = store.put_artifacts([art])
    return store.get_artifacts_by_id([aid])[0]


def test_promote_archives_previous_and_sets_fallback_then_rollback(setup: tuple) -> None:
    store, blobs, reg = setup
    v1 = reg.register("churn", model_artifact(store, blobs, "m1", 1), signature={"x": "float"})
    v2 = reg.register("churn", model_artifact(store, blobs, "m2", 2))
    assert (v1.version, v2.version, v1.stage) == (1, 2, "staging")
    reg.promote("churn", 1, why="first")
    reg.promote("churn", 2, why="better")
    assert reg.production("churn").version == 2  # type: ignore[union-attr]
    assert reg.resolve("churn@fallback").version == 1
    assert reg.get("churn", 1).stage == "archived"
    back = reg.rollback("churn", why="bad metrics")
    assert back.version == 1 and back.stage == "production"
    assert reg.get("churn", 2).tags["rolled_back"] == "true"
    actions = [(h["action"], h["who"]) for h in reg.history("churn")]
    assert actions[-1] == ("rollback", "tester") and len(actions) == 5
    assert reg.history("churn")[-1]["why"] == "bad metrics"
    with pytest.raises(InvalidArgumentError, match="cannot roll back"):
        reg.rollback("churn")


def test_aliases_stages_refs_and_load_model(setup: tuple, tmp_path: Path) -> None:
    store, blobs, reg = setup
    reg.register("churn", model_artifact(store, blobs, {"w": 1}, 1))
    reg.register("churn", model_artifact(store, blobs, {"w": 2}, 2))
    reg.promote("churn", 1)
    reg.transition("churn", 2, "canary", why="try it")
    reg.set_alias("churn", "champion", 2)
    assert reg.resolve("models:/churn@champion").version == 2
    assert reg.resolve("churn@canary").version == 2
    assert reg.resolve("churn/1").stage == "production"
    # by URL: the store is reopened (an in-memory store lives only in its engine, so it is
    # passed open; its URL would open a new, empty one)
    target = store if store.url.is_memory else str(store.url.text)
    assert graphlets.load_model("churn@production", target, blobs=blobs) == {"w": 1}
    assert graphlets.load_model("models:/churn/2", store, blobs=blobs) == {"w": 2}
    with pytest.raises(NotFoundError, match="no version in stage or with alias"):
        reg.resolve("churn@shadow")
    with pytest.raises(InvalidArgumentError):
        reg.transition("churn", 1, "prod")


def test_reading_an_unregistered_store_never_writes(store: MetadataStore) -> None:
    reg = ModelRegistry(store)
    assert reg.models() == [] and reg.versions("churn") == [] and reg.history("churn") == []
    assert reg.alias("churn", "fallback") is None
    assert store.get_artifact_types() == []


def test_gc_keeps_production_fallback_and_last_k_then_rollback_works(setup: tuple) -> None:
    store, blobs, reg = setup
    for span in range(1, 31):
        reg.register("churn", model_artifact(store, blobs, f"m{span}", span))
        if span in (2, 5, 8):
            reg.promote("churn", span)
        elif span <= 25:
            reg.transition("churn", span, "archived", why="superseded")
    report = collect(store, blobs, RetentionPolicy(keep_spans=5, keep_last_production=2))
    # spans <= 25 go, except v8 (production) and v5 (fallback, and among the last 2)
    assert report.artifacts_deleted == 25 - 2
    assert report.blobs_deleted == report.artifacts_deleted
    kept = {reg.get("churn", v).model_artifact_id for v in (5, 8, 26, 30)}
    assert kept <= set(report.protected_models)
    for v in (2, 3):
        dead = store.get_artifacts_by_id([reg.get("churn", v).model_artifact_id or 0])[0]
        assert dead.state == ArtifactState.DELETED
    back = reg.rollback("churn")
    assert back.version == 5
    assert reg.alias("churn", "fallback") is None  # v2, the only older one, was collected
    assert graphlets.load_model("churn@production", store, blobs=blobs) == "m5"
    with pytest.raises(NotFoundError, match="gc"):
        graphlets.load_model("churn/3", store, blobs=blobs)


def test_repeated_rollbacks_walk_back_and_never_return_to_a_rolled_back_version(
    setup: tuple,
) -> None:
    store, blobs, reg = setup
    for span in (1, 2, 3):
        reg.register("churn", model_artifact(store, blobs, f"m{span}", span))
        reg.promote("churn", span)
    assert reg.rollback("churn", why="v3 bad").version == 2
    assert reg.resolve("churn@fallback").version == 1
    assert reg.rollback("churn", why="v2 bad too").version == 1
    # v3 and v2 were rolled back away from: neither may become the fallback again
    assert reg.alias("churn", "fallback") is None
    with pytest.raises(InvalidArgumentError, match="cannot roll back"):
        reg.rollback("churn")
    assert reg.production("churn").version == 1  # type: ignore[union-attr]
    assert [h["from_version"] for h in reg.history("churn") if h["action"] == "rollback"] == [3, 2]


def test_an_explicit_promote_clears_a_rollback_and_an_explicit_fallback_is_honoured(
    setup: tuple,
) -> None:
    store, blobs, reg = setup
    for span in (1, 2, 3, 4):
        reg.register("churn", model_artifact(store, blobs, f"m{span}", span))
    for v in (1, 2, 3):
        reg.promote("churn", v)
    reg.rollback("churn")  # v3 -> v2, fallback v1
    reg.promote("churn", 3, why="fixed the feature bug")  # v3 is trusted again; fallback v2
    reg.promote("churn", 4)  # fallback v3
    assert reg.resolve("churn@fallback").version == 3
    assert reg.rollback("churn").version == 3
    assert reg.resolve("churn@fallback").version == 2  # v4 rolled away; v3 re-promoted
    reg.set_alias("churn", "fallback", 4, why="hotfixed in place")  # an explicit choice
    assert reg.rollback("churn").version == 4
    assert reg.resolve("churn@fallback").version == 2  # v3 was just rolled away from
    assert graphlets.load_model("churn@production", store, blobs=blobs) == "m4"


def test_audit_trail_pushed_idempotence_update_and_record_round_trip(setup: tuple) -> None:
    store, blobs, reg = setup
    pushed_type = store.put_artifact_type(ArtifactType("PushedModel"))
    [pid] = store.put_artifacts([Artifact(pushed_type, uri="file:///p", state=ArtifactState.LIVE)])
    pushed = store.get_artifacts_by_id([pid])[0]
    model = model_artifact(store, blobs, "m1", 1)
    v1 = reg.register("churn.v2-x", model, pushed=pushed, metrics={"auc": 0.875}, tags={"a": "b"})
    assert reg.register("churn.v2-x", model, pushed=pushed).version == v1.version == 1
    assert reg.find_by_pushed(pid) == reg.get("churn.v2-x", 1)
    reg.update("churn.v2-x", 1, tags={"c": "d"}, description="ünïcode ✓", why="notes")
    reg.record("churn.v2-x", 1, "rollout_gain", why="canary", gain=0.25, ok=True)
    got = reg.get("churn.v2-x", 1)
    assert (dict(got.tags), got.description, dict(got.metrics)) == (
        {"a": "b", "c": "d"},
        "ünïcode ✓",
        {"auc": 0.875},
    )
    assert got.pushed_artifact_id == pid and got.model_artifact_id == model.id
    trail = reg.history("churn.v2-x")
    assert [h["action"] for h in trail] == ["register", "update", "rollout_gain"]
    assert {h["who"] for h in trail} == {"tester"}
    assert (trail[-1]["gain"], trail[-1]["ok"], trail[1]["why"]) == (0.25, True, "notes")
    assert reg.models() == ["churn.v2-x"] and reg.versions("other") == []


@pytest.mark.parametrize("store_url", ["sqlite-file", "postgresql"], indirect=True)
def test_concurrent_registrations_each_get_their_own_version_number(
    store_url: str, tmp_path: Path
) -> None:
    """Two pipelines pushing the same model at once: every push becomes a version (before the
    retry, PostgreSQL's concurrent writers failed with AlreadyExistsError on ``churn/N``)."""
    blobs = BlobStore(str(tmp_path / "blobs"))
    errors: list[BaseException] = []
    # the types and the model's context exist before the race: concurrent first writes of one
    # *type* are the store's put_type concern, not the registry's
    with MetadataStore(store_url) as first:
        ModelRegistry(first).register("churn", model_artifact(first, blobs, "seed", 1))

    def push(worker: int) -> None:
        with MetadataStore(store_url) as own:
            reg = ModelRegistry(own, who=f"w{worker}")
            for k in range(4):
                try:
                    reg.register("churn", model_artifact(own, blobs, (worker, k), 1))
                except BaseException as exc:
                    errors.append(exc)

    threads = [threading.Thread(target=push, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with MetadataStore(store_url) as store:
        reg = ModelRegistry(store)
        assert [v.version for v in reg.versions("churn")] == list(range(1, 14))
        assert len({v.model_artifact_id for v in reg.versions("churn")}) == 13
        assert sorted(h["version"] for h in reg.history("churn")) == list(range(1, 14))


def test_gc_on_a_store_without_collected_types_deletes_nothing(setup: tuple) -> None:
    store, blobs, _ = setup
    report = collect(store, blobs)
    assert (report.cutoff_span, report.artifacts_deleted, report.protected_models) == (None, 0, [])
    assert store.get_execution_types() == []
