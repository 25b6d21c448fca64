"""Reading runs back: find, list, show, diff."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from graphlets.errors import NotFoundError
from graphlets.pipeline import Runner
from graphlets.pipeline.environment import diff_environments
from graphlets.pipeline.runs import diff_runs, find_run, list_runs, show_run
from graphlets.store import MetadataStore
from tests.pipeline.helpers import CHAIN, chain, load_source


@pytest.fixture
def sqlite_store(tmp_path: Path) -> MetadataStore:
    return MetadataStore(f"sqlite:///{tmp_path / 's.sqlite'}", create=True)


def test_find_list_and_show(lite_store: MetadataStore, tmp_path: Path) -> None:
    store = lite_store
    with Runner(store, chain(tmp_path, FAIL_ON=2), blobs=str(tmp_path / "b")) as runner:
        ok, bad = runner.run(1), runner.run(2)
    assert find_run(store, f"run:{ok.run_id}").id == ok.run_id
    assert find_run(store, f"context:{ok.run_id}").id == ok.run_id
    assert find_run(store, ok.run_name).id == ok.run_id
    with pytest.raises(NotFoundError, match="graphlets runs ls"):
        find_run(store, "no-such-run")
    pipeline_ctx = store.get_context_by_type_and_name("pipeline", "chain")
    with pytest.raises(NotFoundError, match="not a pipeline run"):
        find_run(store, f"context:{pipeline_ctx.id}")  # type: ignore[union-attr]
    rows = list_runs(store)
    assert [r["run"] for r in rows] == [f"run:{bad.run_id}", f"run:{ok.run_id}"]
    assert rows[0]["state"] == "FAILED" and "train failed" in rows[0]["error"]
    assert rows[1]["counts"] == {"COMPLETE": 4, "CANCELED": 1} and rows[1]["span"] == "1"
    assert list_runs(store, "other") == [] and len(list_runs(store, "chain", limit=1)) == 1
    doc = show_run(store, f"run:{bad.run_id}")
    by_node = {e["node"]: e for e in doc["executions"]}
    assert by_node["train"]["state"] == "FAILED"
    assert by_node["train"]["error"] == "ValueError: bad span 2"
    assert by_node["ingest"]["outputs"] == [
        f"examples=artifact:{bad.outcomes['ingest'].outputs['examples'][0].id}"
    ]
    assert doc["pipeline_file"].endswith("pipe.py")
    json.dumps(doc)  # JSON-able as it is


def test_running_run_without_a_lease_shows_stale(
    sqlite_store: MetadataStore, tmp_path: Path
) -> None:
    res = Runner(sqlite_store, chain(tmp_path), blobs=str(tmp_path / "b")).run(1)
    run = sqlite_store.get_contexts_by_id([res.run_id])[0]
    props = {**run.custom_properties, "state": "RUNNING"}
    sqlite_store.put_contexts([dataclasses.replace(run, custom_properties=props)])
    assert list_runs(sqlite_store)[0]["state"] == "STALE"


def test_diff_names_code_params_and_inputs(sqlite_store: MetadataStore, tmp_path: Path) -> None:
    blobs = str(tmp_path / "b")
    a = Runner(sqlite_store, chain(tmp_path), blobs=blobs).run(2)
    same = Runner(sqlite_store, chain(tmp_path), blobs=blobs).run(2)
    assert diff_runs(sqlite_store, f"run:{a.run_id}", f"run:{same.run_id}")["nodes"] == {
        n: {"state": ["COMPLETE", "CACHED"]}
        for n in ("ingest", "stats", "train", "evaluate", "push")
    }
    edited = load_source(tmp_path, CHAIN.replace("    return x * SCALE\n", "    return x + 1\n"))
    b = Runner(sqlite_store, edited, blobs=blobs, param_overrides={"train.epochs": 9}).run(2)
    doc = diff_runs(sqlite_store, f"run:{a.run_id}", f"run:{b.run_id}")
    assert set(doc["nodes"]["ingest"]) == {"code", "state"} or "code" in doc["nodes"]["ingest"]
    assert doc["nodes"]["train"]["params"] == {"epochs": [3, 9]}
    assert "examples" in doc["nodes"]["stats"]["inputs"]  # ingest wrote other data
    assert "code" not in doc["nodes"]["stats"]
    assert doc["run"]["param_overrides"] == [{}, {"train.epochs": 9}]
    assert doc["environment"] == {} and not doc["identical"]


def test_diff_environments() -> None:
    a = {"python": "3.11.7", "host": "a", "packages": {"numpy": "1.0", "old": "1"}}
    b = {"python": "3.11.8", "host": "a", "packages": {"numpy": "2.0", "new": "3"}}
    assert diff_environments(a, b) == {
        "python": ["3.11.7", "3.11.8"],
        "packages": {"new": [None, "3"], "numpy": ["1.0", "2.0"], "old": ["1", None]},
    }
    assert diff_environments(a, a) == {}


def test_diff_reads_recorded_environments(sqlite_store: MetadataStore, tmp_path: Path) -> None:
    blobs = str(tmp_path / "b")
    a = Runner(sqlite_store, chain(tmp_path), blobs=blobs).run(1)
    b = Runner(sqlite_store, chain(tmp_path), blobs=blobs).run(1)
    # b ran elsewhere: point its run at another recorded environment
    other = Path(blobs) / "env.json"
    other.write_text(json.dumps({"python": "3.12.0", "packages": {"graphlets": "9"}}))
    run = sqlite_store.get_contexts_by_id([b.run_id])[0]
    props = {**run.custom_properties, "environment_uri": str(other), "environment_sha256": "0" * 64}
    sqlite_store.put_contexts([dataclasses.replace(run, custom_properties=props)])
    doc = diff_runs(sqlite_store, f"run:{a.run_id}", f"run:{b.run_id}")
    assert doc["environment"]["python"][1] == "3.12.0"
    assert doc["environment"]["packages"]["graphlets"][1] == "9"
