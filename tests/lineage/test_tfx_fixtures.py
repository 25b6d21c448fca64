"""Graphlets of stores written by real TFX 1.16 pipelines, against counts checked by hand.

The fixtures in ``tests/fixtures/tfx`` are MLMD SQLite files that TFX's LocalDagRunner wrote
(``scripts/tfx_fixtures``: resolvers, warm start, a blessing that fails, a rolling window of
spans). Each ``<name>.json`` holds facts read from the file with the ``sqlite3`` shell
(``scripts/tfx_fixtures/facts.sql``), never with graphlets: the trainings (Trainer executions that
created a new ``Model``), the pushes (``PushedModel`` with ``pushed`` = 1), each training's input
spans and outcome. Every test runs on a temporary copy, so a store that graphlets wrote to would
show up as a changed hash, not as a changed fixture.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import run

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tfx"
NAMES = ("churn", "spans")

pytestmark = pytest.mark.unit


def run_json(*args: str) -> Any:
    res = run(*args, "--json")
    assert res.exit_code == 0, res.stderr or res.stdout
    return json.loads(res.stdout)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(params=NAMES)
def tfx_store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A temporary copy of one fixture store and its hand-checked facts."""
    name = request.param
    facts = json.loads((FIXTURES / f"{name}.json").read_text())
    path = tmp_path / f"{name}.sqlite"
    shutil.copyfile(FIXTURES / f"{name}.sqlite", path)
    return path, facts


def url(path: Path) -> str:
    return f"sqlite:///{path}"


def test_summary_counts_match_the_hand_counts(tfx_store: tuple[Path, dict[str, Any]]) -> None:
    path, facts = tfx_store
    s = run_json("graphlets", "summary", "--store", url(path))
    got = {k: s[k] for k in ("graphlets", "pushed", "unpushed", "failed", "pending")}
    assert got == {"graphlets": facts["trainings"], **facts["outcomes"]}
    assert facts["outcomes"]["pushed"] == len(
        {t["model_artifact"] for t in facts["trainings_detail"] if t["pushed"]}
    )


def test_each_graphlet_is_one_training_with_its_spans_and_outcome(
    tfx_store: tuple[Path, dict[str, Any]],
) -> None:
    path, facts = tfx_store
    doc = run_json("graphlets", "ls", "--limit", "0", "--store", url(path))
    got = {
        g["graphlet_id"]: (g["model_artifact_id"], g["input_spans"], g["outcome"])
        for g in doc["graphlets"]
    }
    want = {
        t["trainer_execution"]: (t["model_artifact"], t["input_spans"], t["outcome"])
        for t in facts["trainings_detail"]
    }
    assert got == want


def test_cached_and_resolver_steps_are_not_trainings(
    tfx_store: tuple[Path, dict[str, Any]],
) -> None:
    path, facts = tfx_store
    doc = run_json("graphlets", "ls", "--limit", "0", "--store", url(path))
    anchors = {g["graphlet_id"] for g in doc["graphlets"]}
    assert not anchors & set(facts["not_trainings"])
    assert doc["count"] == facts["trainings"]


def test_store_reads_see_what_tfx_wrote(tfx_store: tuple[Path, dict[str, Any]]) -> None:
    path, facts = tfx_store
    stats = run_json("store", "stats", "--store", url(path))
    assert {k: stats[k] for k in ("artifacts", "executions", "events", "contexts")} == facts["rows"]
    first = facts["trainings_detail"][0]
    model = f"artifact:{first['model_artifact']}"
    graph = run_json("store", "lineage", model, "--hops", "1", "--store", url(path))
    ids = {n["id"] for n in graph["nodes"]}
    assert f"execution:{first['trainer_execution']}" in ids


def test_reading_a_tfx_store_does_not_modify_it(tfx_store: tuple[Path, dict[str, Any]]) -> None:
    path, facts = tfx_store
    before = sha256(path)
    model = f"artifact:{facts['trainings_detail'][0]['model_artifact']}"
    for args in (
        ("graphlets", "summary"),
        ("graphlets", "ls"),
        ("store", "stats"),
        ("store", "lineage", model),
    ):
        res = run(*args, "--store", url(path))
        assert res.exit_code == 0, (args, res.stderr)
    assert sha256(path) == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
