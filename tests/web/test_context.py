"""The graphlet cache: computed once, served at once after a store change, refreshed behind."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from graphlets.lineage import GraphletConfig, segment_store
from graphlets.model import Artifact, ArtifactType, Context, ContextType
from graphlets.store import MetadataStore
from graphlets.web.context import GraphletCache

pytestmark = pytest.mark.unit


def test_stale_while_refreshing(tmp_path: Path) -> None:
    calls: list[Any] = []
    gate = threading.Event()

    def segment(store: MetadataStore, cfg: GraphletConfig, where: Any) -> Any:
        calls.append(where)
        if len(calls) > 1:
            gate.wait(10)
        return segment_store(store, cfg, where)

    with MetadataStore(f"sqlite:///{tmp_path / 's.sqlite'}", create=True) as st:
        cache = GraphletCache(st, GraphletConfig(), segment)
        first = cache.get(None)
        assert not first.stale and cache.get(None) is first and len(calls) == 1
        st.put_contexts([Context(st.put_context_type(ContextType("pipeline")), "p")])
        st.put_artifacts([Artifact(st.put_artifact_type(ArtifactType("X")))])
        stale = cache.get(None)
        assert stale.stale and stale.result is first.result, "answered at once, from the old one"
        assert cache.get(None).stale and len(calls) == 2, "one refresh at a time"
        gate.set()
        cache.wait()
        fresh = cache.get(None)
        assert (
            not fresh.stale
            and fresh.result is not first.result
            and fresh.as_of_ms >= first.as_of_ms
        )
        assert cache.get("p").result.graphlets.height == 0 and calls[-1].pipeline == "p"
