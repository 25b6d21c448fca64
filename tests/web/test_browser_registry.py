"""The registry pages in a real browser (Playwright driving Debian's Chromium, as
:mod:`tests.web.test_browser`): open the registry, promote a version without the token (refused,
nothing changes), with a wrong one, then with the right one (the new stage shows), roll back, and
follow a version to the lineage of its model. Screenshots go to ``GRAPHLETS_SCREENSHOTS`` when
set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from graphlets.store import MetadataStore
from graphlets.web import create_app
from tests.web.conftest import TOKEN
from tests.web.live import live_server
from tests.web.test_browser import browser, page, shots  # noqa: F401  (shared fixtures)
from tests.web.test_registry_web import MODEL, populate

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def registry_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A live server over a SQLite store whose registry holds churn v1 (archived, fallback), v2
    (production) and v3 (staging)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('web-registry') / 'store.sqlite'}"
    with MetadataStore(url, create=True) as store:
        populate(store)
    app = create_app(url, TOKEN)
    with live_server(app) as base:
        yield base


def stages(base: str) -> dict[int, str]:
    """What the server says, read beside the browser."""
    doc = httpx.get(f"{base}/api/registry/{MODEL}", timeout=30).json()
    return {v["version"]: v["stage"] for v in doc["versions"]}


def wait_status(pg: Any, text: str) -> str:
    """The status line once it says ``text`` (the page's answer to a button)."""
    pg.wait_for_function(
        "t => document.getElementById('registry-status').textContent.includes(t)", arg=text
    )
    return str(pg.inner_text("#registry-status"))


def row_stage(pg: Any, version: int) -> str:
    return str(pg.get_attribute(f'#versions tr[data-version="{version}"]', "data-stage"))


def script_errors(pg: Any) -> list[str]:
    """Errors other than the browser's own note about the refused requests (401/403)."""
    return [e for e in pg.errors if "Failed to load resource" not in e]


def test_promote_needs_the_token_then_shows_the_new_stage_and_rolls_back(
    page: Any,  # noqa: F811
    registry_url: str,
    shots: Path,  # noqa: F811
) -> None:
    page.goto(registry_url + "/registry")
    page.wait_for_selector(f'#models [data-model="{MODEL}"]')
    page.screenshot(path=str(shots / "registry.png"), full_page=True)
    page.click(f'#models h2 a:has-text("{MODEL}")')
    page.wait_for_selector("#versions")
    before = stages(registry_url)
    assert before == {3: "staging", 2: "production", 1: "archived"}

    promote_v3 = '#versions tr[data-version="3"] button[data-action="promote"]'
    page.click(promote_v3)  # no token pasted
    assert "refused (401)" in wait_status(page, "refused (401)")
    page.fill("#token", "not-the-token")
    page.click(promote_v3)
    assert "refused (403)" in wait_status(page, "refused (403)")
    assert row_stage(page, 3) == "staging" and stages(registry_url) == before
    page.screenshot(path=str(shots / "registry-refused.png"), full_page=True)

    page.fill("#token", TOKEN)
    page.fill("#reason", "canary looked good")
    page.click(promote_v3)
    assert "churn/3 is now in production" in wait_status(page, "now in production")
    assert (row_stage(page, 3), row_stage(page, 2)) == ("production", "archived")
    assert page.inner_text("#production") == "v3" and page.inner_text("#fallback") == "v2"
    assert "canary looked good" in page.inner_text("#history tbody tr:first-child")
    page.screenshot(path=str(shots / "registry-promoted.png"), full_page=True)

    page.click("#rollback")
    assert "rolled back to version 2" in wait_status(page, "rolled back")
    assert (row_stage(page, 2), row_stage(page, 3)) == ("production", "archived")
    assert stages(registry_url) == {3: "archived", 2: "production", 1: "archived"}
    page.screenshot(path=str(shots / "registry-rolled-back.png"), full_page=True)
    assert script_errors(page) == []


def test_a_version_leads_to_the_lineage_of_its_model(
    page: Any,  # noqa: F811
    registry_url: str,
    shots: Path,  # noqa: F811
) -> None:
    page.goto(f"{registry_url}/registry/{MODEL}/versions/1")
    page.wait_for_selector("#history")
    page.screenshot(path=str(shots / "registry-version.png"), full_page=True)
    page.click("#lineage")
    page.wait_for_function("() => document.getElementById('graph').dataset.nodes > 0")
    types = page.evaluate("() => window.graphletsGraph.cy.nodes().map(n => n.data('type'))")
    assert {"Model", "Trainer", "Examples"} <= set(types)
    assert script_errors(page) == []
