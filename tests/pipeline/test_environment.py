"""The environment fingerprint and the git commit a run records."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from graphlets.pipeline.environment import (
    environment,
    environment_json,
    environment_sha256,
    git_commit,
)

pytestmark = pytest.mark.unit


def test_fingerprint_is_the_digest_of_the_recorded_json() -> None:
    env = environment()
    assert {"python", "implementation", "platform", "host", "packages"} <= set(env)
    assert "sqlalchemy" in env["packages"]
    assert environment_sha256() == hashlib.sha256(environment_json()).hexdigest()
    assert json.loads(environment_json()) == env


def _git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(folder), "-c", "user.email=t@t", "-c", "user.name=t", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def test_git_commit_from_loose_and_packed_refs(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    _git(repo, "init", "-q")
    pipeline = repo / "sub" / "pipe.py"
    pipeline.write_text("x = 1\n")
    assert git_commit(pipeline) is None  # no commit yet
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "first")
    head = _git(repo, "rev-parse", "HEAD")
    assert git_commit(pipeline) == head
    _git(repo, "pack-refs", "--all")
    assert git_commit(pipeline) == head
    _git(repo, "checkout", "-q", "--detach")
    assert git_commit(pipeline) == head
    assert git_commit(tmp_path / "elsewhere.py") is None
