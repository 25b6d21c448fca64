"""Graphlets of a store written by ml-metadata 1.17.1 in TFX's shape, read with no conversion."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphlets.lineage import segment_store
from graphlets.store import MetadataStore
from tests.lineage.test_scenarios import table
from tests.mlmd_proc import in_child

pytestmark = pytest.mark.mlmd


def test_tfx_store_written_by_ml_metadata(tmp_path: Path) -> None:
    pytest.importorskip("ml_metadata")
    from tests.lineage.tfx_mlmd import write_tfx_store_plain

    path = tmp_path / "tfx.sqlite"
    tfx = in_child(write_tfx_store_plain, path)
    ids = tfx.ids
    runs = {
        r: {ids[f"{c}@{r}"] for c in ("Transform", "Trainer", "Evaluator", "Pusher")}
        for r in (1, 2)
    }
    with MetadataStore(f"sqlite:///{path}") as store:
        res = segment_store(store)
    t = table(res)
    assert set(t) == {ids["Trainer@1"], ids["Trainer@2"]}
    g1, g2 = t[ids["Trainer@1"]], t[ids["Trainer@2"]]
    ingest1 = {ids["CsvExampleGen@1"], ids["StatisticsGen@1"], ids["SchemaGen@1"]}
    assert g1["execs"] == ingest1 | runs[1]
    # window of spans 1-2; the schema of run 1 through run 2's cache hit; not run 1's model work
    assert g2["execs"] == ingest1 | runs[2] | {ids["CsvExampleGen@2"], ids["SchemaGen@2"]}
    assert (g1["outcome"], g2["outcome"]) == ("pushed", "unpushed")
    assert g2["input_spans"] == [1, 2] and g1["pipeline"] == "tfx_pipeline"
    assert ids["model@1"] in g2["arts"]  # the warm-start model is an input
    s = res.summary
    assert (s["graphlets"], s["pushed"], s["unpushed"], s["failed"], s["pending"]) == (
        2,
        1,
        1,
        0,
        0,
    )
    assert s["failed_outside_graphlets"]["executions"] == 1 and s["abandoned_models"] == 1
    # No cost property in a TFX store: cost is MLMD's update - create time, in seconds.
    assert s["cost_source"] == {"wall_time:mlmd_times": len(tfx.executions)}
    wall = {eid: (updated - created) / 1000 for eid, created, updated in tfx.executions}
    shared = ingest1
    expect = sum(wall[e] * (0.5 if e in shared else 1.0) for e in g2["execs"])
    assert g2["cost"] == pytest.approx(expect) and g2["cost"] > 0
    assert g2["waste"] == g2["cost"] and g1["waste"] == 0.0
    assert s["waste_fraction"] == pytest.approx(g2["cost"] / sum(wall.values()))
