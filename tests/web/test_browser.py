"""The pages in a real browser: Playwright driving Debian's Chromium (``scripts/ensure_chromium.sh``
installs it; Playwright's own browser download is not reachable here).

Each page is opened against a live uvicorn server, checked for its key element and for script
errors, and photographed (``GRAPHLETS_SCREENSHOTS`` names a folder to keep the screenshots in).
A lineage node is expanded by a real mouse click on the canvas, and a write is tried from the
page's origin with and without the token.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.web.conftest import TOKEN, Demo
from tests.web.live import live_server

pytestmark = pytest.mark.integration

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def base_url(app: FastAPI) -> Iterator[str]:
    with live_server(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    exe = shutil.which("chromium")
    if exe is None:
        pytest.fail("chromium is not installed: run scripts/ensure_chromium.sh (make test does)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("GRAPHLETS_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = ctx.new_page()
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    yield pg
    ctx.close()


def api(base_url: str, path: str) -> Any:
    r = httpx.get(base_url + path, timeout=30)
    r.raise_for_status()
    return r.json()


def page_urls(base_url: str, demo: Demo) -> list[tuple[str, str, str]]:
    """(name, url, selector that must be visible) for every page."""
    pipe = api(base_url, "/api/pipelines/demo-pipeline-0")
    run = pipe["runs"][-2]["url"]
    graphlet = next(g["url"] for g in pipe["graphlets"] if g["outcome"] == "pushed")
    trainer = api(base_url, "/api/executions?type=Trainer&limit=1")["items"][0]["url"]
    pushed = api(base_url, "/api/artifacts?type=PushedModel&limit=1")["items"][0]["id"]
    return [
        ("overview", "/", "#pipelines"),
        ("pipeline", "/pipelines/demo-pipeline-0", "#timeline"),
        ("run", run, "#graph canvas"),
        ("lineage", f"/lineage?start={pushed}&direction=up&hops=4", "#graph canvas"),
        ("artifact", f"/artifacts/{demo.model_with_payload}", "#download"),
        ("execution", trainer, "#events"),
        ("context", "/contexts/1", "#members"),
        ("artifacts", "/artifacts?type=Model", "#items"),
        ("graphlet", graphlet, "#graph canvas"),
        ("waste", "/waste", "#tradeoff"),
        ("registry", "/registry", "#no-registry"),
    ]


def test_every_page_renders_without_script_errors(
    page: Any, base_url: str, demo: Demo, shots: Path
) -> None:
    for name, url, selector in page_urls(base_url, demo):
        resp = page.goto(base_url + url)
        assert resp.status == 200, (name, url)
        page.wait_for_selector(selector, state="visible", timeout=15_000)
        if "canvas" in selector:
            page.wait_for_function("() => document.getElementById('graph').dataset.nodes > 0")
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        assert page.errors == [], (name, page.errors)


def test_following_links_from_the_overview_reaches_a_pushed_models_spans(
    page: Any, base_url: str
) -> None:
    page.goto(base_url + "/")
    page.click("text=demo-pipeline-1")
    page.wait_for_selector("#timeline")
    page.click("#runs .o-pushed >> xpath=ancestor::tr//a")
    page.wait_for_selector("#graph canvas")
    pushed = page.evaluate(
        "() => window.graphletsGraph.cy.nodes().filter(n => n.data('type') === 'PushedModel')"
        ".map(n => n.data('url'))[0]"
    )
    page.goto(base_url + pushed)
    page.click("text=Explore lineage")
    page.select_option("select[name=direction]", "up")
    page.fill("input[name=hops]", "4")
    page.click("button:has-text('show')")
    page.wait_for_function("() => document.getElementById('graph').dataset.nodes > 0")
    types = page.evaluate("() => window.graphletsGraph.cy.nodes().map(n => n.data('type'))")
    assert {"PushedModel", "Model", "Trainer", "Examples"} <= set(types)


def test_clicking_a_node_with_more_neighbours_expands_it(
    page: Any, base_url: str, shots: Path
) -> None:
    schema = api(base_url, "/api/artifacts?type=Schema&limit=1")["items"][0]["id"]
    page.goto(f"{base_url}/lineage?start={schema}&hops=1&per_node=3")
    page.wait_for_function("() => document.getElementById('graph').dataset.nodes > 0")
    before = int(page.get_attribute("#graph", "data-nodes"))
    target = page.evaluate(
        """() => {
          const n = window.graphletsGraph.cy.nodes().filter(n => n.data('more') > 0)
            .filter(n => n.data('kind') === 'execution')[0];
          const p = n.renderedPosition();
          return {id: n.id(), x: p.x, y: p.y};
        }"""
    )
    box = page.locator("#graph").bounding_box()
    page.mouse.click(box["x"] + target["x"], box["y"] + target["y"])
    page.wait_for_function(f"() => document.getElementById('graph').dataset.nodes > {before}")
    page.wait_for_selector("#graph-info a:has-text('details')")
    assert target["id"] in page.inner_text("#graph-info")
    page.screenshot(path=str(shots / "lineage-expanded.png"), full_page=True)
    assert page.errors == []


def test_a_write_from_the_page_needs_the_token(page: Any, base_url: str) -> None:
    page.goto(base_url + "/")
    post = """async ([token, runId]) => {
      const headers = {'Content-Type': 'application/json'};
      if (token) headers['Authorization'] = 'Bearer ' + token;
      const event = {eventType: 'COMPLETE', eventTime: new Date().toISOString(),
        run: {runId}, job: {namespace: 'browser', name: 'write-test'},
        outputs: [{namespace: 'file', name: '/tmp/out'}]};
      const r = await fetch('/api/v1/lineage', {method: 'POST', headers,
        body: JSON.stringify(event)});
      return [r.status, await r.text()];
    }"""
    run_id = str(uuid.uuid4())
    assert page.evaluate(post, [None, run_id])[0] == 401
    assert page.evaluate(post, ["wrong", run_id])[0] == 403
    status, body = page.evaluate(post, [TOKEN, run_id])
    assert status == 201, body
    assert "execution:" in body
