"""Run ml-metadata in a child process: no test opens one SQLite file through two SQLite libraries.

ml-metadata links its own SQLite. In a process that also reaches the file through Python's
``sqlite3`` (every graphlets store does), closing either library's handle releases the POSIX locks
the other holds, and can checkpoint and delete the other's ``-wal`` (SQLite's "How To Corrupt",
section 2.2). So the ml-metadata side of a test runs here: a module-level function, called in a
fresh interpreter with pickled arguments, returning a pickled result (protobuf messages pickle).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import graphlets

R = TypeVar("R")
CHILD = (
    "import importlib, pickle, sys; m, f = sys.argv[1], sys.argv[2]; "
    "fn = getattr(importlib.import_module(m), f); a, k = pickle.load(sys.stdin.buffer); "
    "sys.stdout.buffer.write(pickle.dumps(fn(*a, **k)))"
)


def in_child(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """``fn(*args, **kwargs)`` in a fresh Python process; its result, or its traceback raised."""
    src = str(Path(graphlets.__file__).parents[1])
    root = str(Path(__file__).parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([src, root, os.environ.get("PYTHONPATH", "")]),
    }
    out = subprocess.run(
        [sys.executable, "-c", CHILD, fn.__module__, fn.__qualname__],
        input=pickle.dumps((args, kwargs)),
        capture_output=True,
        env=env,
        timeout=600,
    )
    if out.returncode != 0:
        raise AssertionError(f"{fn.__qualname__} failed in the child:\n{out.stderr.decode()}")
    result: R = pickle.loads(out.stdout)
    return result
