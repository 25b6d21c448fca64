"""Web fixtures: a demo history in a SQLite store, a payload in a blob store, and the app."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from graphlets.demo import record_history
from graphlets.model import ArtifactState
from graphlets.store import MetadataStore
from graphlets.store.blobs import BlobStore
from graphlets.web import create_app

TOKEN = "s3cret-token"
PAYLOAD = b"pretend these are model weights\n" * 100


@dataclasses.dataclass(frozen=True)
class Demo:
    """Where the demo store lives and a few ids the tests look at."""

    url: str
    blobs: str
    reports: Path
    model_with_payload: int
    model_with_bad_digest: int


def build_demo(folder: Path, days: int = 12) -> Demo:
    """Record ``days`` days of two demo pipelines; give one model a payload and one a hostile
    ``content_sha256`` that tries to leave the blob store."""
    url = f"sqlite:///{folder / 'store.sqlite'}"
    blobs = BlobStore(str(folder / "blobs"))
    ref = blobs.put_bytes(PAYLOAD)
    with MetadataStore(url, create=True) as st:
        record_history(st, days=days)
        live = [a for a in st.get_artifacts_by_type("Model") if a.state == ArtifactState.LIVE]
        good, bad = live[:2]
        good = dataclasses.replace(
            good, custom_properties={**good.custom_properties, "content_sha256": ref.sha256}
        )
        bad = dataclasses.replace(
            bad,
            uri=str(folder / "store.sqlite"),
            custom_properties={**bad.custom_properties, "content_sha256": "../../store.sqlite"},
        )
        st.put_artifacts([good, bad])
    reports = folder / "reports"
    reports.mkdir()
    return Demo(url, blobs.url, reports, int(good.id or 0), int(bad.id or 0))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return build_demo(tmp_path_factory.mktemp("web-demo"))


@pytest.fixture(scope="module")
def app(demo: Demo) -> FastAPI:
    return create_app(demo.url, TOKEN, blob_url=demo.blobs, reports_dir=demo.reports)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def auth(token: str = TOKEN) -> dict[str, str]:
    """The header a write needs."""
    return {"Authorization": f"Bearer {token}"}


def write_tradeoff(folder: Path, points: list[dict[str, Any]]) -> None:
    """What the optimizer's replay writes (the format the waste page reads)."""
    doc = {"title": "pruning", "x_label": "pushes missed", "y_label": "compute saved"}
    (folder / "tradeoff.json").write_text(json.dumps({**doc, "points": points}))
