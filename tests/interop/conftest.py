"""A receiver: graphlets' web app over a fresh store, served by uvicorn on a free port."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from graphlets.store import MetadataStore
from graphlets.web import create_app
from tests.web.live import live_server

TOKEN = "ol-token"


@dataclass(frozen=True)
class Receiver:
    """A live receiver and the store it writes to."""

    url: str
    store_url: str


@pytest.fixture(params=["sqlite-file", "postgresql"])
def served_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An initialised store the web app can open on its own: a SQLite file or PostgreSQL."""
    if request.param == "postgresql":
        request.applymarker(pytest.mark.postgres)
        return str(request.getfixturevalue("pg_store_url"))
    url = f"sqlite:///{tmp_path / 'served.sqlite'}"
    MetadataStore(url, create=True).close()
    return url


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    store_url = f"sqlite:///{tmp_path / 'receiver.sqlite'}"
    MetadataStore(store_url, create=True).close()
    with live_server(create_app(store_url, TOKEN)) as url:
        yield Receiver(url, store_url)
