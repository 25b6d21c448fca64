"""``graphlets registry ...`` and ``graphlets gc`` on a small registry."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from graphlets.cli import gc_cmd, registry_cmd
from graphlets.model import Artifact, ArtifactState, ArtifactType, PropertyType
from graphlets.registry import ModelRegistry
from graphlets.store import MetadataStore
from graphlets.store.blobs import BlobStore

pytestmark = pytest.mark.unit

app = typer.Typer()
app.add_typer(registry_cmd.app, name="registry")
app.registered_commands.extend(gc_cmd.app.registered_commands)


@pytest.fixture(params=["sqlite-file", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A store with three staged versions of ``churn``, on SQLite and PostgreSQL (each command
    opens the store anew, so an in-memory store cannot be shared); payloads in ``GRAPHLETS_BLOBS``
    so that gc finds them whatever the backend."""
    if request.param == "postgresql":
        request.applymarker(pytest.mark.postgres)
        url = str(request.getfixturevalue("pg_store_url"))
    else:
        url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    monkeypatch.setenv("GRAPHLETS_BLOBS", str(tmp_path / "blobs"))
    blobs = BlobStore(str(tmp_path / "blobs"))
    with MetadataStore(url, create=True) as store:
        type_id = store.put_artifact_type(ArtifactType("Model", {"span": PropertyType.INT}))
        reg = ModelRegistry(store)
        for span in (1, 2, 3):
            ref = blobs.put_bytes(pickle.dumps(f"m{span}"))
            art = Artifact(
                type_id,
                uri=ref.uri,
                state=ArtifactState.LIVE,
                properties={"span": span},
                custom_properties={"content_sha256": ref.sha256},
            )
            [aid] = store.put_artifacts([art])
            reg.register("churn", store.get_artifacts_by_id([aid])[0], description=f"span {span}")
    return url


def run(*args: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_promote_alias_show_rollback_ls(url: str) -> None:
    assert run("registry", "promote", "churn", "1", "--store", url)["stage"] == "production"
    assert (
        run("registry", "promote", "churn", "2", "--why", "better", "--store", url)["version"] == 2
    )
    assert run("registry", "alias", "churn", "champion", "3", "--store", url)["aliases"] == [
        "champion"
    ]
    assert run("registry", "show", "churn@fallback", "--store", url)["version"] == 1
    back = run("registry", "rollback", "churn", "--why", "regression", "--store", url)
    assert back["version"] == 1 and back["stage"] == "production"
    history = run("registry", "show", "churn", "--store", url)["history"]
    assert [h["action"] for h in history][-1] == "rollback" and history[-1]["why"] == "regression"
    [model] = run("registry", "ls", "--store", url)["models"]
    assert model["versions"] == 3 and {v["version"] for v in model["live"]} == {1, 3}


def test_errors_are_one_line(url: str) -> None:
    result = CliRunner().invoke(app, ["registry", "rollback", "churn", "--store", url])
    assert result.exit_code == 1 and "cannot roll back" in result.output
    result = CliRunner().invoke(app, ["registry", "show", "churn@nope", "--store", url])
    assert result.exit_code == 1 and "matches no version" in result.output


def test_gc_dry_run_then_real(url: str) -> None:
    for version in ("1", "2", "3"):  # v3 in production, v2 its fallback, v1 unprotected
        run("registry", "promote", "churn", version, "--store", url)
    dry = run("gc", "--keep-spans", "0", "--keep-last-production", "1", "--dry-run", "--store", url)
    assert dry["artifacts_deleted"] == 1 and dry["dry_run"]
    done = run("gc", "--keep-spans", "0", "--keep-last-production", "1", "--store", url)
    assert done["blobs_deleted"] == 1
    again = run("gc", "--keep-spans", "0", "--keep-last-production", "1", "--store", url)
    assert again["artifacts_deleted"] == 0


def test_rollback_from_a_version_no_longer_in_production_is_a_one_line_conflict(url: str) -> None:
    for version in ("1", "2", "3"):
        run("registry", "promote", "churn", version, "--store", url)
    stale = ["registry", "rollback", "churn", "--from", "2", "--store", url]
    result = CliRunner().invoke(app, stale)
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert "version 2 is no longer in production (production is 3" in result.output
    assert run("registry", "rollback", "churn", "--from", "3", "--store", url)["version"] == 2


@pytest.mark.slow
def test_eight_cli_processes_rolling_back_one_version_roll_back_once(url: str) -> None:
    """Eight shells run `graphlets registry rollback churn --from 3` at the same moment: one
    rolls back, seven exit 1 with a one-line conflict, and the trail has one rollback. Slow
    (eight CLI start-ups); the default run races eight spawned processes through the API
    (tests/registry/test_concurrency.py) and checks the CLI's conflict line in process."""
    for version in ("1", "2", "3"):
        run("registry", "promote", "churn", version, "--store", url)
    argv = [sys.executable, "-m", "graphlets", "registry", "rollback", "churn"]
    procs = [
        subprocess.Popen(
            [*argv, "--from", "3", "--why", f"shell {k}", "--store", url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(8)
    ]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    assert sorted(code for code, _, _ in results) == [0] + [1] * 7, results
    for code, _, err in results:
        if code == 1:
            assert len(err.strip().splitlines()) == 1 and "was not rolled back" in err
    history = run("registry", "show", "churn", "--store", url)["history"]
    assert [h["action"] for h in history].count("rollback") == 1
    assert run("registry", "show", "churn@production", "--store", url)["version"] == 2
