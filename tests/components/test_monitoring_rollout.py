"""Monitoring with late labels, alerts deduplicated per incident (stderr sink, store, webhook on a
local receiver), and the staged rollout with gains per stage."""

from __future__ import annotations

import json
import pickle
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sklearn.pipeline import Pipeline as SkPipeline

from graphlets.components.monitoring import AlertRule, Monitor
from graphlets.components.rollout import RolloutConfig, StagedRollout
from graphlets.components.transform import make_preprocessor
from graphlets.demo.data import LABEL, Incidents, make_span
from graphlets.model import Artifact, ArtifactState, ArtifactType
from graphlets.registry import ModelRegistry
from graphlets.store import MetadataStore
from graphlets.store.blobs import BlobStore

pytestmark = pytest.mark.unit
INC = Incidents(schema_break=99, missing_spike=99, concept_drift=5, code_change=99, code_fix=99)
NUMERIC = ["tenure_months", "monthly_charges", "support_calls", "usage_drop", "age", "data_gb"]
CATEGORICAL = ["region", "plan", "payment"]


def span(s: int) -> pl.DataFrame:
    return make_span(s, rows=1500, incidents=INC)


def train(spans: list[int]) -> Any:
    from sklearn.linear_model import LogisticRegression

    df = pl.concat([span(s) for s in spans])
    pipe: Any = SkPipeline(
        [("transform", make_preprocessor(NUMERIC, CATEGORICAL)), ("model", LogisticRegression())]
    )
    pipe.fit(df.select(NUMERIC + CATEGORICAL), df[LABEL].to_numpy())
    pipe.graphlets_meta = {"features": NUMERIC + CATEGORICAL, "label": LABEL}
    return pipe


def register(store: MetadataStore, blobs: BlobStore, reg: ModelRegistry, model: Any) -> int:
    type_id = store.put_artifact_type(ArtifactType("Model"))
    ref = blobs.put_bytes(pickle.dumps(model))
    art = Artifact(
        type_id,
        uri=ref.uri,
        state=ArtifactState.LIVE,
        custom_properties={"content_sha256": ref.sha256},
    )
    [aid] = store.put_artifacts([art])
    return reg.register("churn", store.get_artifacts_by_id([aid])[0]).version


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/alerts", got
    server.shutdown()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[MetadataStore, BlobStore, ModelRegistry]]:
    with MetadataStore(f"sqlite:///{tmp_path / 's.sqlite'}", create=True) as store:
        yield store, BlobStore(str(tmp_path / "blobs")), ModelRegistry(store)


def test_late_labels_and_one_alert_per_incident(world: tuple, receiver: tuple) -> None:
    store, blobs, reg = world
    url, received = receiver
    reg.promote("churn", register(store, blobs, reg, train([1, 2, 3])))
    rollout = StagedRollout(reg, "churn", blobs)
    printed: list[str] = []
    rules = (AlertRule("auc_low", "auc", "<", 0.75),)
    monitor = Monitor(rollout, label_delay=2, rules=rules, webhook=url, sink=printed.append)
    measured: dict[int, float] = {}
    for s in range(1, 13):
        monitor.serve(s, span(s))
        doc = monitor.labels_arrive(s)
        if s < 3:
            assert doc is None  # labels of span s arrive at s + 2
        else:
            assert doc is not None and doc["span"] == s - 2 and doc["measured_at_span"] == s
            measured[doc["span"]] = doc["auc"]
        if s == 9:
            reg.promote("churn", register(store, blobs, reg, train([5, 6, 7, 8])))
    assert all(measured[s] >= 0.75 for s in (1, 2, 3, 4)), measured
    assert all(measured[s] < 0.75 for s in (5, 6, 7)), measured
    assert measured[10] >= 0.75, measured
    assert monitor.alerts_sent == 1 and len(printed) == 1 and "span 5" in printed[0]
    assert [a["span"] for a in received] == [5] and received[0]["status"] == "firing"
    records = [e.custom_properties for e in store.get_executions_by_type("Alert")]
    assert [(r["status"], r["span"]) for r in records] == [("firing", 5), ("resolved", 10)]
    assert len(store.get_executions_by_type("ProductionMonitor")) == 10


def test_webhook_failure_is_reported_not_raised(world: tuple) -> None:
    store, blobs, reg = world
    reg.promote("churn", register(store, blobs, reg, train([1])))
    printed: list[str] = []
    monitor = Monitor(
        StagedRollout(reg, "churn", blobs),
        label_delay=0,
        rules=(AlertRule("always", "auc", ">", 0.0),),
        webhook="http://127.0.0.1:9/nothing-listens-here",
        sink=printed.append,
    )
    monitor.serve(1, span(1))
    monitor.labels_arrive(1)
    assert monitor.alerts_sent == 1 and any("webhook" in p for p in printed)


def test_staged_rollout_records_gains_and_requires_one(world: tuple) -> None:
    store, blobs, reg = world
    old = register(store, blobs, reg, train([1]))
    rollout = StagedRollout(reg, "churn", blobs, config=RolloutConfig(min_gain=0.0))
    assert rollout.advance(4, span(4)) == [{"version": old, "to": "production", "why": "bootstrap"}]
    new = register(store, blobs, reg, train([5, 6, 7]))
    assert rollout.advance(7, span(7))[0]["to"] == "shadow"
    [shadow] = rollout.advance(8, span(8))
    assert shadow["stage"] == "shadow" and shadow["gain"] > 0 and shadow["to"] == "canary"
    [canary] = rollout.advance(9, span(9))
    assert canary["to"] == "production" and reg.production("churn").version == new  # type: ignore[union-attr]
    gains = [h for h in reg.history("churn") if "gain" in h]
    assert [g["rollout_stage"] for g in gains] == ["shadow", "canary"]
    worse = register(store, blobs, reg, train([1]))
    rollout.advance(10, span(10))
    [judged] = rollout.advance(11, span(11))
    assert judged["gain"] < 0 and judged["to"] == "archived"
    assert reg.get("churn", worse).stage == "archived"
