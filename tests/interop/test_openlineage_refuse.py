"""The receiver stores only what it can read back: hostile events get a 422 naming the field, and
nothing of them (not even a new type) is left behind; events of a run may come in any order."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from graphlets.errors import InvalidArgumentError
from graphlets.interop.openlineage_artifacts import Linker
from graphlets.interop.openlineage_check import MAX_DEPTH
from graphlets.interop.openlineage_receive import receive_event
from graphlets.model import ExecutionState
from graphlets.store import MetadataStore
from graphlets.web import create_app
from tests.interop.events import dataset, event
from tests.interop.test_openlineage_receive import counts

TOKEN = "refuse-token"


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"x": value}
    return value


def _hostile() -> list[tuple[str, dict[str, Any], str]]:
    """(label, event, the path the 422 must name)."""
    deep = event(run_facets={"deep": _nested(40)})
    return [
        ("nan", event(run_facets={"m": {"v": float("nan")}}), "run.facets.m.v"),
        ("infinity", event(run_facets={"m": {"v": [1, float("inf")]}}), "run.facets.m.v[1]"),
        ("deep", deep, "run.facets.deep.x"),
        ("surrogate", event(job="etl\ud800x"), "job.name"),
        ("surrogate key", event(run_facets={"m": {"k\udfff": 1}}), "run.facets.m.k"),
        ("nul", event(outputs=[dataset("t\x00")]), "outputs[0].name"),
        ("huge int", event(run_facets={"m": {"n": 10**30}}), "run.facets.m.n"),
        ("long producer", {**event(), "producer": "é" * 600}, "producer"),
    ]


@pytest.mark.parametrize(("label", "doc", "path"), _hostile(), ids=[h[0] for h in _hostile()])
def test_hostile_values_are_refused_naming_the_field(
    store: MetadataStore, label: str, doc: dict[str, Any], path: str
) -> None:
    before = counts(store)
    with pytest.raises(InvalidArgumentError) as exc:
        receive_event(store, doc)
    assert str(exc.value).startswith(path), (label, str(exc.value))
    assert counts(store) == before, "a refused event writes nothing"


def test_nesting_up_to_the_limit_is_stored_and_reads_back(store: MetadataStore) -> None:
    facet = _nested(MAX_DEPTH - 3)  # run (2) > facets (3) > facet (4): the facet is level 4
    got = receive_event(store, event(run_facets={"deep": facet}))
    [ex] = store.get_executions_by_id([int(got.execution.split(":")[1])])
    assert ex.custom_properties["openlineage.run.deep"] == facet
    with pytest.raises(InvalidArgumentError, match="deeper than"):
        receive_event(store, event(run_facets={"deep": _nested(MAX_DEPTH - 2)}))


def test_a_failing_write_leaves_no_type_behind(
    store: MetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    receive_event(store, event(job="known"))
    before = counts(store)

    def explode(*_: Any) -> None:
        raise RuntimeError("disk full, say")

    # fails after the job's execution type and the Model type were created, before put_execution
    monkeypatch.setattr(Linker, "outputs", explode)
    model = dataset("m", datasetType={"datasetType": "MODEL"})
    with pytest.raises(RuntimeError):
        receive_event(store, event(job="brand.new", inputs=[model]))
    assert counts(store) == before, "types are created in the event's own transaction"
    assert "airflow-prod/brand.new" not in {t.name for t in store.get_execution_types()}
    monkeypatch.undo()
    receive_event(store, event(job="brand.new", inputs=[model]))  # and the cache is not stale
    assert "Model" in {t.name for t in store.get_artifact_types()}


def test_a_late_start_keeps_the_run_complete_with_both_times(store: MetadataStore) -> None:
    run = str(uuid.uuid4())
    out = [dataset("t")]
    receive_event(store, event("COMPLETE", run_id=run, outputs=out, time="2026-03-01T10:05:00Z"))
    got = receive_event(store, event("START", run_id=run, outputs=out, time="2026-03-01T10:00:00Z"))
    assert got.state == "COMPLETE"
    [ex] = store.get_executions_by_id([int(got.execution.split(":")[1])])
    assert ex.last_known_state == ExecutionState.COMPLETE
    assert ex.custom_properties["end_time_ms"] - ex.custom_properties["start_time_ms"] == 300_000
    assert ex.custom_properties["openlineage.event_type"] == "COMPLETE"
    again = receive_event(store, event("RUNNING", run_id=run, time="2026-03-01T10:06:00Z"))
    assert again.state == "COMPLETE", "a finished run never goes back to RUNNING"


def test_the_http_endpoint_answers_422_and_every_read_still_works(served_store_url: str) -> None:
    app = create_app(served_store_url, TOKEN)
    with TestClient(app) as client:
        head = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        for label, doc, path in _hostile():
            r = client.post("/api/v1/lineage", content=json.dumps(doc), headers=head)
            assert r.status_code == 422, (label, r.text)
            assert path.split("[")[0].split(".")[0] in r.json()["detail"], (label, r.text)
        ok = client.post("/api/v1/lineage", content=json.dumps(event()), headers=head)
        assert ok.status_code == 201, ok.text
        assert client.get("/api/executions").status_code == 200
        exec_id = ok.json()["execution"].split(":")[1]
        assert client.get(f"/api/executions/{exec_id}").status_code == 200
