"""Registry: versions, stages, fallback, rollback, aliases, audit trail, load_model, gc."""

from __future__ import annotations

import pickle
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
def setup(tmp_path: Path) -> tuple[MetadataStore, BlobStore, ModelRegistry]:
    store = MetadataStore(f"sqlite:///{tmp_path / 'store.sqlite'}", create=True)
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
    url = str(store.url.text)
    assert graphlets.load_model("churn@production", url, blobs=blobs) == {"w": 1}
    assert graphlets.load_model("models:/churn/2", store, blobs=blobs) == {"w": 2}
    with pytest.raises(NotFoundError, match="no version in stage or with alias"):
        reg.resolve("churn@shadow")
    with pytest.raises(InvalidArgumentError):
        reg.transition("churn", 1, "prod")


def test_reading_an_unregistered_store_never_writes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    MetadataStore(url, create=True).close()
    with MetadataStore(url) as store:
        assert ModelRegistry(store).models() == []
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
