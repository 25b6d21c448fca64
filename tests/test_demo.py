"""The demo main job (90 spans, fewer rows): a real pipeline run whose report matches what the store
holds, and which reads like 90 days of operation although it runs in a minute or two."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graphlets.analytics import compute_report
from graphlets.cli.main import app
from graphlets.demo import MARKER, MODEL, prepare_folder, run_demo
from graphlets.errors import WouldOverwriteError
from graphlets.lineage import segment_store
from graphlets.pipeline import record as rec
from graphlets.pipeline.clock import DAY_MS
from graphlets.registry import ModelRegistry
from graphlets.store import MetadataStore

SPANS = 90
EPOCH = 1_767_225_600_000  # 2026-01-01: span d is recorded on 2026-01-01 + d days


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[type-arg]
    folder = tmp_path_factory.mktemp("demo")
    return run_demo(folder, spans=SPANS, rows=600, replay=False, epoch_ms=EPOCH)


def test_report_matches_the_store(report: dict) -> None:  # type: ignore[type-arg]
    with MetadataStore(str(report["store"])) as store:
        assert report["runs"] == len(store.get_contexts_by_type("pipeline_run")) == SPANS
        assert report["executions"] == store.count("execution")
        trainers = store.get_executions_by_type("Trainer")
        assert report["models_trained"] + report["trainings_skipped"] == len(trainers)
        pushed = [
            a
            for a in store.get_artifacts_by_type("PushedModel")
            if a.custom_properties.get("pushed") == 1
        ]
        assert report["pushed"] == len(pushed) == report["registry"]["versions"]
        assert len(ModelRegistry(store).versions(MODEL)) == report["pushed"]
        summary = segment_store(store).summary
    assert report["waste"]["waste_fraction"] == summary["waste_fraction"]
    assert report["waste"]["graphlets"] == report["models_trained"]


def test_incidents_are_caught_on_their_spans(report: dict) -> None:  # type: ignore[type-arg]
    rows = {r["incident"]: r for r in report["incidents"]}
    for name in ("schema break", "missing-value spike", "concept drift"):
        assert rows[name]["detected"] == rows[name]["injected"], rows[name]
    code = rows["code change"]
    assert code["detected"] is not None and code["detected"] >= code["injected"]
    assert report["blocked_spans"] == [
        rows["schema break"]["injected"],
        rows["missing-value spike"]["injected"],
    ]
    assert report["registry"]["production"] is not None


def test_the_store_reads_like_90_days_of_operation(report: dict) -> None:  # type: ignore[type-arg]
    with MetadataStore(str(report["store"])) as store:
        doc = compute_report(store)
        runs = store.get_contexts_by_type("pipeline_run")
        changes = ModelRegistry(store).history(MODEL)
        alerts = store.get_executions_by_type("Alert")
    assert doc["headline"]["days"] >= 85
    [pipe] = doc["pipelines"]
    assert pipe["frequency"] == "daily" and pipe["lifespan_days"] >= 85
    assert len(doc["outcomes"]["by_week"]) >= 12
    days = sorted(int(r.custom_properties[rec.START_TIME_MS]) // DAY_MS for r in runs)  # type: ignore[arg-type]
    assert days == [EPOCH // DAY_MS + span for span in range(1, SPANS + 1)]
    window = (EPOCH, EPOCH + (SPANS + 1) * DAY_MS)
    assert changes and all(window[0] <= c["time_ms"] < window[1] for c in changes)
    stamped = [a.custom_properties.get(rec.START_TIME_MS) for a in alerts]
    assert stamped and all(isinstance(t, int) and window[0] <= t < window[1] for t in stamped)


@pytest.mark.integration
def test_cli_json_is_one_document(tmp_path: Path) -> None:
    args = [
        "demo",
        "--dir",
        str(tmp_path / "d"),
        "--spans",
        "12",
        "--rows",
        "300",
        "--json",
        "--no-replay",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["runs"] == 12 and doc["store"].endswith("store.sqlite")


# --dir: never delete what the demo did not write ---------------------------------------------


def _user_files(folder: Path) -> dict[str, bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {"store.sqlite": b"my own store", "data/keep.csv": b"a,b\n1,2\n", "notes.txt": b"hi"}
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    return files


def test_demo_refuses_a_folder_without_its_marker(tmp_path: Path) -> None:
    folder = tmp_path / "home"
    files = _user_files(folder)
    res = CliRunner().invoke(app, ["demo", "--dir", str(folder), "--spans", "10", "--rows", "200"])
    assert res.exit_code == 1
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "--force" in lines[0] and MARKER in lines[0]
    assert {n: (folder / n).read_bytes() for n in files} == files  # nothing touched
    assert not (folder / MARKER).exists()


def test_prepare_folder_reuses_only_a_marked_or_empty_folder(tmp_path: Path) -> None:
    fresh = tmp_path / "new" / "demo"
    prepare_folder(fresh)  # a missing folder is created and marked
    assert (fresh / MARKER).is_file()
    (fresh / "store.sqlite").write_bytes(b"earlier demo")
    (fresh / "data").mkdir()
    (fresh / "data" / "span-1.csv").write_text("x")
    prepare_folder(fresh)  # an earlier demo is replaced
    assert sorted(p.name for p in fresh.iterdir()) == [MARKER]
    empty = tmp_path / "empty"
    empty.mkdir()
    prepare_folder(empty)
    assert (empty / MARKER).is_file()
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(WouldOverwriteError):
        prepare_folder(a_file)


def test_force_replaces_only_the_demo_files(tmp_path: Path) -> None:
    folder = tmp_path / "home"
    _user_files(folder)
    with pytest.raises(WouldOverwriteError) as err:
        prepare_folder(folder)
    assert str(folder) in str(err.value)
    prepare_folder(folder, force=True)
    assert sorted(p.name for p in folder.iterdir()) == [MARKER, "notes.txt"]


@pytest.mark.slow
def test_cli_demo_twice_in_a_row(tmp_path: Path) -> None:
    args = ["demo", "--dir", str(tmp_path / "d"), "--spans", "10", "--rows", "200", "--json"]
    for _ in range(2):  # `make demo` twice
        res = CliRunner().invoke(app, [*args, "--no-replay"])
        assert res.exit_code == 0, res.stderr
