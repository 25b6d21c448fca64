"""The same trivial 10-step chain in other pipeline tools, for ``runner_overhead.py``.

Each function returns per-run wall times in seconds, or raises ``PeerUnavailable`` with the reason
(the tool is not installed, or it failed), so the benchmark reports the peer as skipped instead of
failing. Kedro, Hamilton and Metaflow are installed into the venv only for the benchmark; they are
not graphlets dependencies.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

STEPS = 10


class PeerUnavailable(Exception):
    """The peer cannot be measured here; the message says why."""


def version(dist: str) -> str:
    """The installed version of a distribution, or raise PeerUnavailable."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError as exc:
        raise PeerUnavailable(f"{dist} is not installed (pip install {dist})") from exc


def _inc(x: int) -> int:
    return x + 1


def kedro_chain(runs: int) -> list[float]:
    """Kedro's SequentialRunner over 10 nodes with in-memory datasets (it records nothing)."""
    version("kedro")
    logging.disable(logging.WARNING)
    try:
        from kedro.io import DataCatalog, MemoryDataset
        from kedro.pipeline import node, pipeline
        from kedro.runner import SequentialRunner
    except ImportError as exc:
        raise PeerUnavailable(f"kedro does not import: {exc}") from exc
    nodes = [node(_inc, f"d{i}", f"d{i + 1}", name=f"n{i}") for i in range(STEPS)]
    pipe = pipeline(nodes)
    out = []
    for _ in range(runs + 3):
        catalog = DataCatalog({"d0": MemoryDataset(1)})
        t0 = time.perf_counter()
        SequentialRunner().run(pipe, catalog)
        out.append(time.perf_counter() - t0)
    logging.disable(logging.NOTSET)
    return out[3:]


def hamilton_chain(runs: int) -> list[float]:
    """Hamilton's driver over 10 chained functions (it records nothing)."""
    version("sf-hamilton")
    try:
        from hamilton import driver
    except ImportError as exc:
        raise PeerUnavailable(f"hamilton does not import: {exc}") from exc
    mod = types.ModuleType("bench_hamilton_chain")
    sys.modules[mod.__name__] = mod
    src = "def step_1(x: int) -> int:\n    return x + 1\n"
    src += "".join(
        f"def step_{i}(step_{i - 1}: int) -> int:\n    return step_{i - 1} + 1\n"
        for i in range(2, STEPS + 1)
    )
    exec(src, mod.__dict__)
    dr = driver.Builder().with_modules(mod).build()
    out = []
    for _ in range(runs + 3):
        t0 = time.perf_counter()
        dr.execute([f"step_{STEPS}"], inputs={"x": 1})
        out.append(time.perf_counter() - t0)
    return out[3:]


METAFLOW_FLOW = """
from metaflow import FlowSpec, step


class ChainFlow(FlowSpec):
    @step
    def start(self):
        self.x = 0
        self.next(self.s1)
{middle}
    @step
    def end(self):
        self.x += 1


if __name__ == "__main__":
    ChainFlow()
"""


def metaflow_chain(runs: int) -> tuple[list[float], float]:
    """Metaflow's local runtime over 10 steps (it records metadata and artifacts locally).

    Returns the run times and the time of a bare ``python -c "import metaflow"`` (one process
    start that every ``python flow.py run`` pays once).
    """
    version("metaflow")
    middle = ""
    for i in range(1, STEPS - 1):
        nxt = f"s{i + 1}" if i < STEPS - 2 else "end"
        middle += (
            f"    @step\n    def s{i}(self):\n        self.x += 1\n"
            f"        self.next(self.{nxt})\n\n"
        )
    folder = Path(tempfile.mkdtemp(prefix="graphlets-bench-metaflow-"))
    flow = folder / "chain_flow.py"
    flow.write_text(METAFLOW_FLOW.format(middle=middle))
    env = {
        **os.environ,
        "USERNAME": "bench",
        "METAFLOW_DEFAULT_DATASTORE": "local",
        "METAFLOW_DEFAULT_METADATA": "local",
        "METAFLOW_DATASTORE_SYSROOT_LOCAL": str(folder),
    }
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import metaflow"], env=env, check=True)
    start = time.perf_counter() - t0
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(flow), "--quiet", "--no-pylint", "run"],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise PeerUnavailable(f"metaflow run failed: {done.stderr.strip()[-200:]}")
        out.append(time.perf_counter() - t0)
    return out, start
