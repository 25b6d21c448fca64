"""Writes need the token before the body is read; downloads stay in the blob store; no CORS."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from graphlets.store import MetadataStore
from graphlets.web import create_app
from tests.web.conftest import PAYLOAD, TOKEN, Demo, auth

pytestmark = pytest.mark.unit
LINEAGE = "/api/v1/lineage"


def run_event(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "eventType": "COMPLETE",
        "eventTime": "2026-01-02T03:04:05Z",
        "producer": "https://example.com/test",
        "run": {"runId": str(uuid.uuid4())},
        "job": {"namespace": "tests", "name": "security"},
        "inputs": [],
        "outputs": [{"namespace": "file", "name": "/data/out.csv"}],
    }
    doc.update(over)
    return doc


def counts(url: str) -> tuple[int, ...]:
    with MetadataStore(url) as st:
        return tuple(st.count(t) for t in ("artifact", "execution", "event", "context", "type"))


@pytest.mark.parametrize("body", [b"{not json", b"", b'{"run": 1}', b"x" * 100])
def test_no_token_is_401_whatever_the_body(client: TestClient, body: bytes) -> None:
    r = client.post(LINEAGE, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert "GRAPHLETS_TOKEN" in r.json()["detail"]


@pytest.mark.parametrize("body", [b"{not json", b'{"run": 1}'])
def test_wrong_token_is_403_whatever_the_body(client: TestClient, body: bytes) -> None:
    r = client.post(LINEAGE, content=body, headers=auth("wrong"))
    assert r.status_code == 403


def test_token_is_checked_before_the_body_is_read(client: TestClient) -> None:
    too_big = b"[" * (9 * 1024 * 1024)  # over MAX_BODY: reading it first would answer 413
    assert client.post(LINEAGE, content=too_big).status_code == 401
    assert client.post(LINEAGE, content=too_big, headers=auth("nope")).status_code == 403
    assert client.post(LINEAGE, content=too_big, headers=auth()).status_code == 413


def test_a_server_without_token_refuses_every_write(demo: Demo) -> None:
    with TestClient(create_app(demo.url, None)) as c:
        for headers in ({}, auth(), auth(""), auth("anything")):
            r = c.post(LINEAGE, json=run_event(), headers=headers)
            assert r.status_code == 403, headers
            r = c.post(LINEAGE, content=b"{broken", headers=headers)
            assert r.status_code == 403, headers
        assert "writes are disabled" in c.post(LINEAGE, json=run_event()).json()["detail"]


def test_malformed_events_get_a_clear_4xx_and_change_nothing(
    client: TestClient, demo: Demo
) -> None:
    before = counts(demo.url)
    cases = [
        (b"{oops", 400, "not JSON"),
        (b'{"job": {"namespace": "a", "name": "b"}}', 422, "no 'run'"),
        (run_event(run={"runId": "not-a-uuid"}), 422, "run.runId"),
        (run_event(eventTime="yesterday"), 422, "eventTime"),
        (run_event(eventType="EXPLODE"), 422, "eventType"),
        (run_event(job={"namespace": "", "name": "x"}), 422, "job.namespace"),
        (run_event(outputs=[{"namespace": "file"}]), 422, "outputs[0].name"),
        (run_event(run={"runId": str(uuid.uuid4()), "facets": {"x": 3}}), 422, "run.facets.x"),
        (run_event(job={"namespace": "n", "name": "j" * 500}), 422, "longer than"),
    ]
    for body, status, words in cases:
        if isinstance(body, bytes):
            r = client.post(LINEAGE, content=body, headers=auth())
        else:
            r = client.post(LINEAGE, json=body, headers=auth())
        assert r.status_code == status, (body, r.text)
        assert words in r.json()["detail"]
    assert counts(demo.url) == before


def test_a_valid_event_with_the_token_is_stored(client: TestClient) -> None:
    r = client.post(LINEAGE, json=run_event(), headers=auth())
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "COMPLETE"


def test_payload_download_streams_the_blob(client: TestClient, demo: Demo) -> None:
    r = client.get(f"/api/artifacts/{demo.model_with_payload}/payload")
    assert r.status_code == 200
    assert r.content == PAYLOAD
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    "url",
    [
        "/api/artifacts/{bad}/payload",
        "/api/artifacts/..%2F..%2Fstore.sqlite/payload",
        "/api/artifacts/1%2F..%2F..%2Fstore.sqlite/payload",
        "/static/../store.sqlite",
        "/static/..%2F..%2Fapp.py",
        "/static/%2e%2e/%2e%2e/app.py",
        "/api/artifacts/999999/payload",
    ],
)
def test_downloads_cannot_leave_the_blob_store(client: TestClient, demo: Demo, url: str) -> None:
    r = client.get(url.format(bad=demo.model_with_bad_digest))
    assert r.status_code in (404, 422), r.text[:200]
    assert b"SQLite format" not in r.content and b"create_app" not in r.content


def test_artifact_with_a_hostile_digest_offers_no_download(client: TestClient, demo: Demo) -> None:
    doc = client.get(f"/api/artifacts/{demo.model_with_bad_digest}").json()
    assert doc["payload"] == {"available": False, "sha256": None, "url": None}


def test_no_cors_headers_by_default(client: TestClient) -> None:
    origin = {"Origin": "https://evil.example"}
    assert "access-control-allow-origin" not in client.get("/api/pipelines", headers=origin).headers
    pre = client.options(
        LINEAGE,
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert "access-control-allow-origin" not in pre.headers
    assert pre.status_code in (404, 405)


def test_pages_carry_hardening_headers(client: TestClient) -> None:
    h = client.get("/").headers
    assert "script-src 'self'" in h["content-security-policy"]
    assert h["x-frame-options"] == "DENY"
    assert h["x-content-type-options"] == "nosniff"


def test_host_header_is_checked_when_bound_to_loopback(demo: Demo) -> None:
    app = create_app(demo.url, TOKEN, allowed_hosts=["127.0.0.1", "localhost"])
    with TestClient(app, base_url="http://127.0.0.1") as c:
        assert c.get("/api/registry").status_code == 200
        assert c.get("/api/registry", headers={"Host": "evil.example"}).status_code == 400


@pytest.mark.parametrize(
    "url",
    [
        "/api/artifacts?type=%27%20OR%201%3D1%20--",
        "/api/pipelines/x%27%3B%20DROP%20TABLE%20artifact%3B%20--",
        "/api/executions?filter=name%20%3D%20%27x%27%27%3B%20DROP%20TABLE%20event",
    ],
)
def test_injection_attempts_are_plain_values(client: TestClient, demo: Demo, url: str) -> None:
    r = client.get(url)
    assert r.status_code in (200, 400, 404)
    if r.status_code == 200:
        assert r.json()["items"] == []
    with MetadataStore(demo.url) as st:
        assert st.count("artifact") > 0 and st.count("event") > 0


def test_store_file_is_not_reachable_anywhere(client: TestClient, demo: Demo) -> None:
    path = Path(demo.url.removeprefix("sqlite:///"))
    for url in (f"/static/{path}", f"/static//{path}", "/store.sqlite", "/api/store.sqlite"):
        r = client.get(url)
        assert r.status_code == 404 and b"SQLite format" not in r.content


@pytest.mark.parametrize(
    ("headers", "status"), [([], 401), ([(b"authorization", b"Bearer x")], 403)]
)
def test_the_body_is_never_received_without_the_token(
    app: Any, headers: list[tuple[bytes, bytes]], status: int
) -> None:
    """Drive the ASGI app directly: the server must answer without pulling one body chunk."""
    import asyncio

    pulled: list[dict[str, Any]] = []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        msg = {"type": "http.request", "body": b"{not json" * 1000, "more_body": False}
        pulled.append(msg)
        return msg

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": LINEAGE,
        "raw_path": LINEAGE.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "state": {},
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == status
    assert pulled == [], "the body was read before the token check"
