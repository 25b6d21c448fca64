"""The environment fingerprint recorded with every run and execution.

It covers what changes results without changing code: installed package versions, the Python version
and implementation, the platform and the host. The git commit of the pipeline file's repository is
recorded beside it (on the run), not inside it, so a commit that only touches other files does not
look like an environment change in ``graphlets runs diff``.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import platform
import socket
import sys
from pathlib import Path
from typing import Any


@functools.lru_cache(maxsize=1)
def environment() -> dict[str, Any]:
    """This process's environment (computed once per process)."""
    packages: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            packages[str(name).lower()] = str(dist.version)
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "executable": sys.executable,
        "packages": dict(sorted(packages.items())),
    }


@functools.lru_cache(maxsize=1)
def environment_sha256() -> str:
    """sha256 of :func:`environment_json` (the value stored on every execution)."""
    return hashlib.sha256(environment_json()).hexdigest()


def environment_json(env: dict[str, Any] | None = None) -> bytes:
    """Canonical JSON of an environment (this process's by default): what the blob store keeps,
    so the blob's digest is the environment fingerprint."""
    return json.dumps(env if env is not None else environment(), sort_keys=True).encode()


def git_commit(path: Path | None) -> str | None:
    """HEAD of the git repository holding ``path``, or None (no repository, or no commit yet).

    Read from ``.git`` directly (HEAD, the branch's ref file or ``packed-refs``): a run must not pay
    for starting a ``git`` process.
    """
    if path is None:
        return None
    folder = path.resolve().parent if path.is_file() else path.resolve()
    git = next((p / ".git" for p in (folder, *folder.parents) if (p / ".git").exists()), None)
    if git is None:
        return None
    if git.is_file():  # a worktree or submodule: .git points elsewhere
        text = git.read_text().strip()
        if not text.startswith("gitdir:"):
            return None
        git = (git.parent / text.split(":", 1)[1].strip()).resolve()
    return _resolve_head(git)


def _resolve_head(git: Path) -> str | None:
    try:
        head = (git / "HEAD").read_text().strip()
    except OSError:
        return None
    if not head.startswith("ref:"):
        return head or None
    ref = head.split(":", 1)[1].strip()
    for base in (git, _common_dir(git)):
        loose = base / ref
        if loose.is_file():
            return loose.read_text().strip() or None
        packed = base / "packed-refs"
        if packed.is_file():
            for line in packed.read_text().splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[1] == ref:
                    return parts[0]
    return None  # a branch without commits yet


def _common_dir(git: Path) -> Path:
    common = git / "commondir"
    if common.is_file():
        return (git / common.read_text().strip()).resolve()
    return git


def diff_environments(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """What differs between two environments: changed top-level fields, and packages added, removed
    or changed (name -> [version in a, version in b])."""
    out: dict[str, Any] = {}
    for key in sorted(set(a) | set(b)):
        if key == "packages":
            continue
        if a.get(key) != b.get(key):
            out[key] = [a.get(key), b.get(key)]
    pa, pb = a.get("packages") or {}, b.get("packages") or {}
    changed = {
        name: [pa.get(name), pb.get(name)]
        for name in sorted(set(pa) | set(pb))
        if pa.get(name) != pb.get(name)
    }
    if changed:
        out["packages"] = changed
    return out
