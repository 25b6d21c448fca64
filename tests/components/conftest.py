"""A small continuous-training run shared by the component tests (module-scoped: it runs once)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from graphlets.components import continuous_training, registry_hook
from graphlets.demo.data import Incidents, write_spans
from graphlets.pipeline import Runner, RunResult
from graphlets.pipeline.session import plain_hooks
from graphlets.registry import ModelRegistry
from graphlets.store import MetadataStore

INCIDENTS = Incidents(schema_break=4, missing_spike=6, concept_drift=9, code_change=99, code_fix=99)
SPANS = 10


@dataclass
class SmallRun:
    store: MetadataStore
    data: Path
    results: dict[int, RunResult]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmallRun]:
    root = tmp_path_factory.mktemp("ct")
    write_spans(root / "data", SPANS, rows=600, incidents=INCIDENTS)
    pipeline = continuous_training(
        "ct",
        str(root / "data" / "span-{span}.csv"),
        model_name="churn",
        window=3,
        params={"evaluator.slice_by": ["region"], "evaluator.min_slice_size": 20},
    )
    hooks = plain_hooks()
    hooks.register(registry_hook)
    store = MetadataStore(f"sqlite:///{root / 'store.sqlite'}", create=True)
    registry = ModelRegistry(store)
    results = {}
    with Runner(store, pipeline, hooks=hooks) as runner:
        for span in range(1, SPANS + 1):
            results[span] = runner.run(span)
            for v in registry.in_stage("churn", "staging"):
                registry.promote("churn", v.version, why="test: promote every push")
    yield SmallRun(store, root / "data", results)
    store.close()
