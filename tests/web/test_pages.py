"""Every page renders, and its ``/api`` twin returns the document the page was drawn from."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import Demo, write_tradeoff

pytestmark = pytest.mark.unit


def get_json(client: TestClient, url: str) -> Any:
    r = client.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


def get_html(client: TestClient, url: str) -> str:
    r = client.get(url)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"].startswith("text/html")
    return r.text


def test_overview_lists_pipelines_with_runs_push_rate_and_waste(client: TestClient) -> None:
    doc = get_json(client, "/api/pipelines")
    names = [p["name"] for p in doc["pipelines"]]
    assert names == ["demo-pipeline-0", "demo-pipeline-1"]
    for p in doc["pipelines"]:
        assert p["runs"] == 12
        assert 0 < p["pushed"] <= p["models"]
        assert p["push_rate"] == pytest.approx(p["pushed"] / p["models"])
        assert p["graphlets"]["graphlets"] == p["models"]
        assert 0 <= p["graphlets"]["waste_fraction"] < 1
    html = get_html(client, "/")
    for name in names:
        assert f'href="/pipelines/{name}"' in html


def test_overview_pages_by_token_without_overlap(client: TestClient) -> None:
    first = get_json(client, "/api/pipelines?limit=1")
    assert len(first["pipelines"]) == 1 and first["next_page_token"]
    second = get_json(client, f"/api/pipelines?limit=1&page_token={first['next_page_token']}")
    assert second["pipelines"][0]["name"] != first["pipelines"][0]["name"]
    assert second["next_page_token"] is None


@pytest.mark.parametrize("token", ["garbage", "eyJrIjoicnVucyIsImlkIjoxfQ"])
def test_bad_or_foreign_page_token_is_a_400_naming_the_fix(client: TestClient, token: str) -> None:
    r = client.get(f"/api/pipelines?page_token={token}")
    assert r.status_code == 400
    assert "next_page_token" in r.json()["detail"]


def test_pipeline_page_has_runs_newest_first_and_graphlets_by_outcome(client: TestClient) -> None:
    doc = get_json(client, "/api/pipelines/demo-pipeline-0")
    runs = doc["runs"]
    assert [r["name"] for r in runs] == [f"demo-pipeline-0-{d:03d}" for d in range(11, -1, -1)]
    assert all(r["executions"] >= 5 for r in runs)
    assert {g["outcome"] for g in doc["graphlets"]} <= {"pushed", "unpushed", "failed", "pending"}
    assert "pushed" in {g["outcome"] for g in doc["graphlets"]}
    assert len(doc["timeline"]["runs"]) == 12
    assert len(doc["timeline"]["graphlets"]) == len(doc["graphlets"])
    pushed_runs = [r for r in runs if r["pushed"]]
    assert all("pushed" in r["outcomes"] for r in pushed_runs)
    html = get_html(client, "/pipelines/demo-pipeline-0")
    assert html.count('class="tl-') == len(doc["timeline"]["runs"]) + len(doc["graphlets"])
    assert "demo-pipeline-0-011" in html


def test_pipeline_runs_page_by_token(client: TestClient) -> None:
    seen: list[str] = []
    url = "/api/pipelines/demo-pipeline-1?limit=5"
    while url:
        doc = get_json(client, url)
        assert len(doc["runs"]) <= 5
        seen += [r["name"] for r in doc["runs"]]
        token = doc["next_page_token"]
        url = f"/api/pipelines/demo-pipeline-1?limit=5&page_token={token}" if token else ""
    assert seen == [f"demo-pipeline-1-{d:03d}" for d in range(11, -1, -1)]


def test_unknown_pipeline_is_404_json_and_an_html_error_page(client: TestClient) -> None:
    r = client.get("/api/pipelines/nope")
    assert r.status_code == 404 and "pipeline 'nope' does not exist" in r.json()["detail"]
    page = client.get("/pipelines/nope")
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert "does not exist" in page.text


def test_run_page_is_a_dag_of_its_executions(client: TestClient) -> None:
    runs = get_json(client, "/api/pipelines/demo-pipeline-0")["runs"]
    run_id = runs[-1]["id"].split(":")[1]
    doc = get_json(client, f"/api/runs/{run_id}")
    types = {e["type"] for e in doc["executions"]}
    assert {"ExampleGen", "StatisticsGen", "Trainer"} <= types
    ids = {n["id"] for n in doc["graph"]["nodes"]}
    for e in doc["graph"]["edges"]:
        assert e["source"] in ids and e["target"] in ids
        kinds = (e["source"].split(":")[0], e["target"].split(":")[0])
        assert kinds in (("artifact", "execution"), ("execution", "artifact"))
    assert doc["pipeline"]["name"] == "demo-pipeline-0"
    html = get_html(client, f"/runs/{run_id}")
    assert 'id="graph-data"' in html and "cytoscape.min.js" in html


def test_artifact_page_shows_properties_events_contexts_and_payload(
    client: TestClient, demo: Demo
) -> None:
    doc = get_json(client, f"/api/artifacts/{demo.model_with_payload}")
    assert doc["type"] == "Model"
    assert {e["type"] for e in doc["events"]} >= {"OUTPUT"}
    assert doc["events"][0]["other"]["type"] == "Trainer"
    assert {c["type"] for c in doc["contexts"]} == {"pipeline", "pipeline_run"}
    assert doc["payload"]["available"] is True
    html = get_html(client, f"/artifacts/{demo.model_with_payload}")
    assert 'id="download"' in html and doc["payload"]["sha256"] in html


def test_artifact_events_are_paged(client: TestClient) -> None:
    schema = get_json(client, "/api/artifacts?type=Schema&newest_first=false")["items"][0]
    art = schema["id"].split(":")[1]
    first = get_json(client, f"/api/artifacts/{art}?limit=3")
    assert len(first["events"]) == 3 and first["events_next_page_token"]
    token = first["events_next_page_token"]
    rest = get_json(client, f"/api/artifacts/{art}?limit=500&page_token={token}")
    ids = [e["execution"] for e in first["events"] + rest["events"]]
    assert len(ids) == len(set(ids)) > 3


def test_execution_and_context_pages(client: TestClient) -> None:
    trainer = get_json(client, "/api/executions?type=Trainer&limit=1")["items"][0]
    eid = trainer["id"].split(":")[1]
    doc = get_json(client, f"/api/executions/{eid}")
    assert {e["key"] for e in doc["events"]} >= {"examples", "schema", "model"}
    assert "cpu_seconds" in doc["custom_properties"]
    ctx = doc["contexts"][0]["id"].split(":")[1]
    cdoc = get_json(client, f"/api/contexts/{ctx}?limit=2")
    assert len(cdoc["executions"]) == 2 and cdoc["next_page_token"]
    assert "Custom properties" in get_html(client, f"/executions/{eid}")
    assert get_html(client, f"/contexts/{ctx}")


def test_lists_filter_by_type_and_filter_query(client: TestClient) -> None:
    models = get_json(client, "/api/artifacts?type=Model&limit=500")["items"]
    assert models and {m["type"] for m in models} == {"Model"}
    failed = get_json(client, "/api/executions?filter=last_known_state%20%3D%20FAILED")["items"]
    assert all(e["state"] == "FAILED" for e in failed)
    r = client.get("/api/executions?filter=bogus%20~~%203")
    assert r.status_code == 400 and r.json()["detail"]
    assert "Nothing matches" in get_html(client, "/artifacts?type=NoSuchType")


def test_a_pushed_model_leads_back_to_its_spans_in_a_few_hops(client: TestClient) -> None:
    pushed = get_json(client, "/api/artifacts?type=PushedModel&limit=1")["items"][0]
    doc = get_json(client, f"/api/lineage?start={pushed['id']}&direction=up&hops=4")
    types = {n["type"] for n in doc["nodes"]}
    assert {"PushedModel", "Pusher", "Model", "Trainer", "Examples"} <= types
    spans = [n for n in doc["nodes"] if n["type"] == "Examples"]
    assert all("span" in n["label"] for n in spans)
    html = get_html(client, f"/lineage?start={pushed['id']}&direction=up&hops=4")
    assert 'data-mode="explore"' in html


def test_graphlet_page(client: TestClient) -> None:
    graphlets = get_json(client, "/api/pipelines/demo-pipeline-0")["graphlets"]
    g = next(g for g in graphlets if g["outcome"] == "pushed")
    doc = get_json(client, g["url"].replace("/graphlets", "/api/graphlets"))
    assert doc["graphlet"]["outcome"] == "pushed"
    assert doc["graphlet"]["input_spans"]
    roles = {m["role"] for m in doc["members"]}
    assert {"anchor", "model", "upstream"} <= roles
    anchor = next(n for n in doc["graph"]["nodes"] if n["role"] == "anchor")
    assert anchor["type"] == "Trainer"
    assert get_html(client, g["url"])
    assert client.get("/api/graphlets/1").status_code == 404


def test_waste_page_without_and_with_a_tradeoff_curve(client: TestClient, demo: Demo) -> None:
    doc = get_json(client, "/api/waste")
    assert doc["summary"]["graphlets"] > 0
    assert 0 < doc["summary"]["waste_fraction"] < 1
    assert {p["pipeline"] for p in doc["pipelines"]} == {"demo-pipeline-0", "demo-pipeline-1"}
    assert doc["tradeoff"]["available"] is False
    assert "No tradeoff curve yet" in get_html(client, "/waste")
    assert client.get("/api/waste/tradeoff.png").status_code == 404
    write_tradeoff(demo.reports, [{"x": 0, "y": 0}, {"x": 0.1, "y": 0.4, "label": "t=0.5"}])
    (demo.reports / "tradeoff.png").write_bytes(b"\x89PNG\r\n\x1a\nnot-really")
    try:
        doc = get_json(client, "/api/waste")
        assert doc["tradeoff"]["available"] is True and len(doc["tradeoff"]["points"]) == 2
        html = get_html(client, "/waste")
        assert "<polyline" in html and "compute saved" in html
        png = client.get("/api/waste/tradeoff.png")
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    finally:
        (demo.reports / "tradeoff.json").unlink()
        (demo.reports / "tradeoff.png").unlink()


def test_waste_page_reads_the_optimizers_replay_report(client: TestClient, demo: Demo) -> None:
    report = {
        "waste_saved_fraction": 0.4,
        "budget_sweep": [
            {"budget": 0.0, "pushes_missed_fraction": 0.0, "waste_saved_fraction": 0.1},
            {"budget": 0.02, "pushes_missed_fraction": 0.018, "waste_saved_fraction": 0.45},
        ],
    }
    (demo.reports / "tradeoff.json").write_text(json.dumps(report))
    try:
        t = get_json(client, "/api/waste")["tradeoff"]
        assert t["available"] and [p["y"] for p in t["points"]] == [0.1, 0.45]
        assert t["y_label"] == "waste saved (fraction)"
    finally:
        (demo.reports / "tradeoff.json").unlink()


def test_registry_shows_an_explicit_empty_state(client: TestClient) -> None:
    doc = get_json(client, "/api/registry")
    assert doc["available"] is False and "registry" in doc["message"]
    assert 'id="no-registry"' in get_html(client, "/registry")


def test_every_json_twin_is_in_the_openapi_document(client: TestClient) -> None:
    spec = get_json(client, "/openapi.json")
    paths = set(spec["paths"])
    expected = {
        "/api/pipelines",
        "/api/pipelines/{name}",
        "/api/runs/{run_id}",
        "/api/lineage",
        "/api/artifacts",
        "/api/executions",
        "/api/contexts",
        "/api/artifacts/{artifact_id}",
        "/api/executions/{execution_id}",
        "/api/contexts/{context_id}",
        "/api/artifacts/{artifact_id}/payload",
        "/api/graphlets/{graphlet_id}",
        "/api/waste",
        "/api/waste/tradeoff.png",
        "/api/registry",
        "/api/v1/lineage",
    }
    assert expected <= paths
    assert all(p.startswith("/api/") for p in paths), "HTML pages stay out of the API document"
    post = spec["paths"]["/api/v1/lineage"]["post"]
    assert post["security"] == [{"GraphletsToken": []}]
    assert "run" in post["requestBody"]["content"]["application/json"]["schema"]["properties"]
    listed = spec["paths"]["/api/artifacts"]["get"]["parameters"]
    assert {"limit", "page_token"} <= {p["name"] for p in listed}


def test_static_assets_and_vendored_licence_are_served(client: TestClient) -> None:
    js = client.get("/static/vendor/cytoscape.min.js")
    assert js.status_code == 200 and "cytoscape" in js.text[:2000].lower()
    lic = client.get("/static/vendor/cytoscape.LICENSE")
    assert lic.status_code == 200 and "Permission is hereby granted" in lic.text
    assert client.get("/static/graph.js").status_code == 200
