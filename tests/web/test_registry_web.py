"""The registry pages and their JSON twins, and the writes (promote, rollback, alias) with the
token checked before the body: on SQLite (file and memory) and PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any, get_args

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from graphlets.demo import record_history
from graphlets.model import ArtifactState
from graphlets.registry import STAGES, ModelRegistry
from graphlets.store import MetadataStore
from graphlets.web import create_app, registry_views
from graphlets.web.routers import registry as registry_router
from tests.web.conftest import TOKEN, auth
from tests.web.test_api_fuzz import CHECKS, EXAMPLES

MODEL = "churn"
WRITES = ("promote", "rollback", "alias")
VALID = {
    "promote": {"version": 3, "stage": "production", "reason": "canary gained"},
    "rollback": {"reason": "alert"},
    "alias": {"alias": "champion", "version": 3},
}


@dataclasses.dataclass
class Reg:
    """An app over a store whose registry holds ``churn`` v1 (archived, fallback), v2
    (production) and v3 (staging), each pointing at a real Model artifact."""

    app: FastAPI
    client: TestClient
    store: MetadataStore
    models: list[int]


def populate(store: MetadataStore) -> list[int]:
    """A short synthetic history (real Model artifacts with lineage) and three versions."""
    record_history(store, days=5, pipelines=1)
    models = [a for a in store.get_artifacts_by_type("Model") if a.state == ArtifactState.LIVE]
    assert len(models) >= 3
    reg = ModelRegistry(store, who="alice")
    for m in models[:3]:
        reg.register(MODEL, m, why="pushed by the pipeline", metrics={"auc": 0.8})
    reg.promote(MODEL, 1, why="first model")
    reg.promote(MODEL, 2, why="beats v1")
    return [int(m.id or 0) for m in models[:3]]


@pytest.fixture
def reg(store_url: str, request: pytest.FixtureRequest) -> Iterator[Reg]:
    if not store_url.startswith("postgresql"):
        request.applymarker(pytest.mark.unit)
    app = create_app(store_url, TOKEN)
    store = app.state.ctx.store  # the app's own store: works for an in-memory SQLite too
    models = populate(store)
    with TestClient(app) as client:
        yield Reg(app, client, store, models)


def snapshot(store: MetadataStore) -> tuple[Any, ...]:
    """Everything a write could change: row counts and each version's stage and aliases."""
    counts = tuple(store.count(t) for t in ("artifact", "execution", "event", "context", "type"))
    versions = tuple((v.version, v.stage, v.aliases) for v in ModelRegistry(store).versions(MODEL))
    return counts, versions


def get_json(client: TestClient, url: str) -> Any:
    r = client.get(url)
    assert r.status_code == 200, r.text
    return r.json()


def post(client: TestClient, action: str, body: Any = None, **kw: Any) -> Any:
    url = f"/api/registry/{MODEL}/{action}"
    return client.post(url, json=body, **kw) if body is not None else client.post(url, **kw)


# reads --------------------------------------------------------------------------------------
def test_registry_lists_models_with_stages_aliases_fallback_and_audit(reg: Reg) -> None:
    doc = get_json(reg.client, "/api/registry")
    assert doc["available"] is True and doc["next_page_token"] is None
    (m,) = doc["models"]
    assert (m["name"], m["production"], m["fallback"], m["latest_version"]) == (MODEL, 2, 1, 3)
    assert m["by_stage"] == {"staging": [3], "shadow": [], "canary": [], "production": [2]}
    assert m["aliases"] == {"fallback": 1} and m["can_rollback"] is True
    assert [(v["version"], v["stage"]) for v in m["live"]] == [
        (3, "staging"),
        (2, "production"),
        (1, "archived"),
    ]
    newest = m["history"][0]
    assert (newest["action"], newest["version"], newest["to_stage"]) == (
        "transition",
        2,
        "production",
    )
    assert (newest["who"], newest["why"]) == ("alice", "beats v1") and newest["time_ms"] > 0
    html = reg.client.get("/registry").text
    assert 'href="/registry/churn"' in html and "beats v1" in html and "@fallback" in html
    assert 'id="no-registry"' not in html


def test_model_pages_versions_and_audit_trail_newest_first_without_overlap(reg: Reg) -> None:
    first = get_json(reg.client, f"/api/registry/{MODEL}?limit=2&history_limit=3")
    assert [v["version"] for v in first["versions"]] == [3, 2]
    token, history_token = first["next_page_token"], first["history_next_page_token"]
    second = get_json(reg.client, f"/api/registry/{MODEL}?limit=2&page_token={token}")
    assert [v["version"] for v in second["versions"]] == [1] and second["next_page_token"] is None
    older = get_json(
        reg.client, f"/api/registry/{MODEL}?history_limit=3&history_page_token={history_token}"
    )
    actions = [h["action"] for h in first["history"] + older["history"]]
    assert actions == ["transition", "transition", "register", "register", "register"]
    ids = [int(h["execution"].split(":")[1]) for h in first["history"] + older["history"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 5
    r = reg.client.get(f"/api/registry/{MODEL}?page_token={history_token}")
    assert r.status_code == 400 and "page" in r.json()["detail"]
    html = reg.client.get(f"/registry/{MODEL}").text
    assert 'data-action="promote"' in html and '<script src="/static/registry.js">' in html
    assert "<script>" not in html  # no inline script: the CSP allows scripts from the server only


def test_version_detail_links_to_its_model_artifact_and_lineage(reg: Reg) -> None:
    doc = get_json(reg.client, f"/api/registry/{MODEL}/versions/2")
    assert (doc["stage"], doc["model"]) == ("production", f"artifact:{reg.models[1]}")
    assert [h["to_stage"] for h in doc["history"]] == ["staging", "production"]
    model = get_json(reg.client, "/api" + doc["model_url"])
    assert model["type"] == "Model" and model["id"] == doc["model"]
    lineage = get_json(reg.client, "/api" + doc["lineage_url"])
    assert {"Model", "Trainer", "Examples"} <= {n["type"] for n in lineage["nodes"]}
    html = reg.client.get(f"/registry/{MODEL}/versions/2").text
    assert f'href="{doc["lineage_url"].replace("&", "&amp;")}"' in html


def test_models_and_a_versions_changes_page_by_token(reg: Reg) -> None:
    model = reg.store.get_artifacts_by_id([reg.models[0]])[0]
    ModelRegistry(reg.store, who="carol").register("fraud", model)
    first = get_json(reg.client, "/api/registry?limit=1")
    second = get_json(reg.client, f"/api/registry?limit=1&page_token={first['next_page_token']}")
    assert [m["name"] for m in first["models"] + second["models"]] == [MODEL, "fraud"]
    assert second["next_page_token"] is None and second["models"][0]["by_stage"]["staging"] == [1]
    seen, token = [], ""
    while True:
        page = get_json(reg.client, f"/api/registry/{MODEL}/versions/1?limit=1&page_token={token}")
        seen += [(h["action"], h["version"], h["to_stage"]) for h in page["history"]]
        token = page["next_page_token"]
        if not token:
            break
    # v1: registered, promoted, then archived (and made fallback) when v2 was promoted
    assert seen == [
        ("register", 1, "staging"),
        ("transition", 1, "production"),
        ("transition", 2, "production"),
    ]
    first_of_v1 = get_json(reg.client, f"/api/registry/{MODEL}/versions/1?limit=1")
    r = reg.client.get(
        f"/api/registry/{MODEL}/versions/2?page_token={first_of_v1['next_page_token']}"
    )
    assert r.status_code == 400 and "another list" in r.json()["detail"]


def test_the_summary_keeps_production_when_many_versions_wait_in_staging(
    reg: Reg, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry_views, "LIVE_SHOWN", 1)
    model = reg.store.get_artifacts_by_id([reg.models[0]])[0]
    for _ in range(2):
        ModelRegistry(reg.store).register(MODEL, model)  # v4, v5 in staging
    (m,) = get_json(reg.client, "/api/registry")["models"]
    assert (m["production"], m["fallback"], m["latest_version"]) == (2, 1, 5)
    assert m["by_stage"]["staging"] == [5] and [v["version"] for v in m["live"]] == [5, 2, 1]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("/api/registry/nope", "'churn'"),
        ("/api/registry/nope/versions/1", "'churn'"),
        (f"/api/registry/{MODEL}/versions/9", "[1, 2, 3]"),
    ],
)
def test_unknown_model_or_version_is_a_404_naming_what_exists(
    reg: Reg, url: str, says: str
) -> None:
    r = reg.client.get(url)
    assert r.status_code == 404 and says in r.json()["detail"]
    assert reg.client.get(url.removeprefix("/api")).status_code == 404


# the token ----------------------------------------------------------------------------------
def test_no_or_wrong_token_is_refused_before_the_body_and_changes_nothing(reg: Reg) -> None:
    before = snapshot(reg.store)
    bodies: list[dict[str, Any]] = [
        {"json": None},
        {"content": b"{not json"},
        {"content": b"x" * (registry_router.MAX_BODY + 10)},  # reading it first would be a 413
    ]
    for action in WRITES:
        for body in [{"json": VALID[action]}, *bodies]:
            r = reg.client.post(f"/api/registry/{MODEL}/{action}", **body)
            assert r.status_code == 401, (action, body, r.text)
            assert r.headers["www-authenticate"] == "Bearer"
            for wrong in ("wrong", TOKEN + "x", ""):
                r = reg.client.post(f"/api/registry/{MODEL}/{action}", headers=auth(wrong), **body)
                assert r.status_code == (401 if wrong == "" else 403), (action, wrong)
    assert snapshot(reg.store) == before


def test_a_server_without_token_refuses_every_registry_write(reg: Reg) -> None:
    # what create_app(url, None) builds; set on this app so an in-memory store is covered too
    ctx = reg.app.state.ctx
    ctx.settings = dataclasses.replace(ctx.settings, token=None)
    before = snapshot(reg.store)
    for action in WRITES:
        for headers in ({}, auth(), auth("anything")):
            for kw in ({"json": VALID[action]}, {"content": b"{broken"}):
                r = reg.client.post(f"/api/registry/{MODEL}/{action}", headers=headers, **kw)
                assert r.status_code == 403 and "writes are disabled" in r.json()["detail"]
    assert 'id="read-only"' in reg.client.get(f"/registry/{MODEL}").text
    assert snapshot(reg.store) == before


# writes -------------------------------------------------------------------------------------
def test_promote_moves_the_version_archives_the_old_one_and_records_who_and_why(reg: Reg) -> None:
    body = {**VALID["promote"], "who": "bob"}
    r = post(reg.client, "promote", body, headers=auth())
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["message"] == "churn/3 is now in production"
    assert (doc["version"]["stage"], doc["model"]["production"], doc["model"]["fallback"]) == (
        "production",
        3,
        2,
    )
    versions = {v.version: v for v in ModelRegistry(reg.store).versions(MODEL)}
    assert versions[3].stage == "production" and versions[2].stage == "archived"
    assert "fallback" in versions[2].aliases
    change = get_json(reg.client, f"/api/registry/{MODEL}")["history"][0]
    assert (change["who"], change["why"], change["version"]) == ("web:bob", "canary gained", 3)


def test_promote_to_another_stage_and_defaults(reg: Reg) -> None:
    r = post(reg.client, "promote", {"version": 3, "stage": "canary"}, headers=auth())
    assert r.status_code == 200 and r.json()["version"]["stage"] == "canary"
    assert ModelRegistry(reg.store).production(MODEL).version == 2  # type: ignore[union-attr]
    change = get_json(reg.client, f"/api/registry/{MODEL}")["history"][0]
    assert (change["who"], change["why"]) == ("web", "moved to canary from the web UI")


def test_rollback_puts_the_fallback_back_in_production(reg: Reg) -> None:
    r = post(reg.client, "rollback", headers=auth())  # an empty body is a rollback without reason
    assert r.status_code == 200, r.text
    assert r.json()["version"]["version"] == 1 and r.json()["model"]["production"] == 1
    assert ModelRegistry(reg.store).get(MODEL, 2).stage == "archived"
    change = get_json(reg.client, f"/api/registry/{MODEL}")["history"][0]
    assert (change["action"], change["details"]["from_version"]) == ("rollback", 2)


def test_alias_points_at_a_version_and_moves(reg: Reg) -> None:
    assert (
        post(reg.client, "alias", {"alias": "champion", "version": 2}, headers=auth()).status_code
        == 200
    )
    r = post(reg.client, "alias", {"alias": "champion", "version": 3}, headers=auth())
    assert r.status_code == 200 and r.json()["model"]["aliases"] == {"champion": 3, "fallback": 1}
    assert ModelRegistry(reg.store).resolve(f"{MODEL}@champion").version == 3


BAD_PAYLOADS: list[tuple[str, Any, int, str]] = [
    ("promote", b"{oops", 400, "not JSON"),
    ("promote", b"[1, 2]", 422, "JSON object"),
    ("promote", {}, 422, "field 'version' is missing"),
    ("promote", {"version": "3"}, 422, "JSON integer"),
    ("promote", {"version": 0}, 422, "field 'version'"),
    ("promote", {"version": 3, "stage": "live"}, 422, "use one of staging, shadow"),
    ("promote", {"version": 3, "why": "x"}, 422, "field 'why' is not accepted"),
    ("promote", {"version": 3, "reason": "a\nb"}, 422, "field 'reason'"),
    ("rollback", {"reason": 5}, 422, "field 'reason'"),
    ("alias", {"version": 3}, 422, "field 'alias' is missing"),
    ("alias", {"alias": "9lives", "version": 3}, 422, "start with a letter"),
    ("alias", {"alias": "Production", "version": 3}, 422, "stage name"),
]


def test_bad_payloads_get_one_line_naming_the_field_and_change_nothing(reg: Reg) -> None:
    before = snapshot(reg.store)
    for action, body, status, says in BAD_PAYLOADS:
        kw = {"content": body} if isinstance(body, bytes) else {"json": body}
        r = reg.client.post(f"/api/registry/{MODEL}/{action}", headers=auth(), **kw)
        assert r.status_code == status, (action, body, r.text)
        detail = r.json()["detail"]
        assert isinstance(detail, str) and "\n" not in detail and says in detail, (body, detail)
    assert snapshot(reg.store) == before


@pytest.mark.parametrize(
    ("action", "body", "status", "says"),
    [
        ("promote", {"version": 9}, 404, "its versions are [1, 2, 3]"),
        ("alias", {"alias": "champion", "version": 9}, 404, "no version 9"),
    ],
)
def test_registry_refusals_are_4xx_and_change_nothing(
    reg: Reg, action: str, body: Any, status: int, says: str
) -> None:
    before = snapshot(reg.store)
    r = post(reg.client, action, body, headers=auth())
    assert r.status_code == status and says in r.json()["detail"]
    r = reg.client.post("/api/registry/nope/promote", json={"version": 1}, headers=auth())
    assert r.status_code == 404 and "not registered" in r.json()["detail"]
    assert snapshot(reg.store) == before


def test_rollback_without_a_fallback_is_a_400_and_changes_nothing(reg: Reg) -> None:
    assert post(reg.client, "rollback", headers=auth()).status_code == 200  # v1 back, no fallback
    before = snapshot(reg.store)
    r = post(reg.client, "rollback", {"reason": "again"}, headers=auth())
    assert r.status_code == 400 and "cannot roll back" in r.json()["detail"]
    assert snapshot(reg.store) == before


# the document -------------------------------------------------------------------------------
def test_registry_routes_are_in_the_openapi_document(reg: Reg) -> None:
    spec = get_json(reg.client, "/openapi.json")
    for path in (
        "/api/registry",
        "/api/registry/{model}",
        "/api/registry/{model}/versions/{version}",
    ):
        assert "get" in spec["paths"][path]
    assert {"limit", "page_token", "history_page_token"} <= {
        p["name"] for p in spec["paths"]["/api/registry/{model}"]["get"]["parameters"]
    }
    for action in WRITES:
        op = spec["paths"][f"/api/registry/{{model}}/{action}"]["post"]
        assert op["security"] == [{"GraphletsToken": []}]
        assert {"401", "403", "422"} <= set(op["responses"])
        assert "reason" in op["requestBody"]["content"]["application/json"]["schema"]["properties"]
    promote = spec["paths"]["/api/registry/{model}/promote"]["post"]["requestBody"]
    assert promote["content"]["application/json"]["schema"]["required"] == ["version"]
    assert "/registry" not in spec["paths"]


@pytest.mark.unit
def test_the_web_stages_are_the_registrys() -> None:
    assert get_args(registry_router.Stage) == STAGES


def fuzz_on_model(operation: Any) -> None:
    """``EXAMPLES`` generated cases of one operation, aimed at the registered model (random names
    only reach the 404, which the suite's fuzz test already covers)."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        if case.path_parameters and "model" in case.path_parameters:
            case.path_parameters["model"] = MODEL
        case.call_and_validate(headers=auth(), checks=CHECKS)

    run()


@pytest.mark.parametrize("store_url", ["sqlite-file", "postgresql"], indirect=True)
def test_generated_registry_requests_never_make_a_server_error(reg: Reg) -> None:
    """Schemathesis on the registry's operations over a store that has a registry (the suite's
    fuzz test runs on a store without one), writes sent with the token."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", reg.app)
    ops = [r.ok() for r in schema.get_all_operations()]
    ops = [op for op in ops if op.path.startswith("/api/registry")]
    assert len(ops) == 6
    failures = []
    for op in ops:
        try:
            fuzz_on_model(op)
        except Exception as exc:  # report every failing operation, not only the first
            failures.append(f"{op.label}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
