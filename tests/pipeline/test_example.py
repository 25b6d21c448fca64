"""The example pipeline users are pointed at keeps working: make data, run spans, see pushes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from graphlets.pipeline import Runner, load_pipeline
from graphlets.store import MetadataStore
from tests.pipeline.helpers import check_no_half_written, states

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "churn_pipeline.py"


def test_churn_example_runs_over_spans(tmp_path: Path) -> None:
    data = tmp_path / "data"
    subprocess.run(
        [sys.executable, str(EXAMPLE), "make-data", str(data), "--days", "5", "--rows", "60"],
        check=True,
        capture_output=True,
    )
    assert sorted(p.name for p in data.iterdir())[:2] == ["day-1.csv", "day-2.csv"]
    pipeline = load_pipeline(EXAMPLE)
    assert pipeline.spans is not None
    pipeline.spans = pipeline.spans.in_folder(data)
    store = MetadataStore(f"sqlite:///{tmp_path / 's.sqlite'}", create=True)
    with Runner(
        store, pipeline.with_params({"train.epochs": 3}), blobs=str(tmp_path / "blobs")
    ) as runner:
        results = [runner.run(span) for span in range(1, 6)]
    assert all(r.ok for r in results), [r.error for r in results]
    pushes = [states(store, r.run_id)["push"] for r in results]
    assert set(pushes) <= {"COMPLETE", "CANCELED"} and "COMPLETE" in pushes
    trains = store.get_executions_by_type("Train")
    assert all("metric.train_loss" in e.custom_properties for e in trains)
    check_no_half_written(store)
