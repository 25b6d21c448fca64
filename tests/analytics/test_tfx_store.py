"""The report on a store written by ml-metadata 1.17.1 the way TFX writes one (no sim_ anything)."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphlets.analytics import build_report
from graphlets.store import MetadataStore
from tests.mlmd_proc import in_child

pytestmark = pytest.mark.mlmd


def test_report_on_a_tfx_store(tmp_path: Path) -> None:
    pytest.importorskip("ml_metadata")
    from tests.lineage.tfx_mlmd import write_tfx_store_plain

    path = tmp_path / "tfx.sqlite"
    # run 1 pushed; run 2 warm started, unblessed; run 3 Trainer failed
    in_child(write_tfx_store_plain, path)
    with MetadataStore(f"sqlite:///{path}") as store:
        r = build_report(store, tmp_path / "out")
    d = r.data
    assert len(r.figures) >= 6 and r.html.exists()
    assert d["headline"]["pipelines"] == 1 and d["headline"]["models"] == 2
    assert d["headline"]["cost_source"] == ["wall_time:mlmd_times"]
    assert d["outcomes"]["by_outcome"] == {"pushed": 1, "unpushed": 1, "failed": 0, "pending": 0}
    assert d["outcomes"]["waste_by_cause"]["unblessed"]["graphlets"] == 1
    assert d["outcomes"]["waste_by_cause"]["blocked"]["graphlets"] == 0
    assert d["outcomes"]["failed_outside_graphlets"]["executions"] == 1
    # run 1 read span 1, run 2 spans 1-2: one pair of consecutive trainings of one Trainer node
    assert d["overlap"]["pairs"] == 1
    assert d["overlap"]["jaccard"]["median"] == pytest.approx(0.5)
    assert d["graphlets"]["share_warm_started"] == pytest.approx(0.5)
    assert d["graphlets"]["trainers_per_pipeline"]["pipelines_by_trainers"] == {"1": 1}
    trainer = d["components"]["by_type"]["Trainer"]
    assert trainer["executions"] == 3 and trainer["failure_rate"] == pytest.approx(1 / 3)
    assert d["components"]["by_type"]["SchemaGen"]["cache_hit_rate"] == pytest.approx(0.5)
    assert d["fleet"]["runs_per_pipeline"]["max"] == 3  # three CsvExampleGen runs
    assert d["pipelines"][0]["pipeline"] == "tfx_pipeline"
