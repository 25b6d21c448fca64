"""Soak harness: ``graphlets ui`` serving, CLI and web writers, a runner and bulk readers, all on
one store at once, each in its own process; then integrity and visibility from a fresh process.

Threads of the test process only start subprocesses and send HTTP requests, so every store access
happens in a process of its own, the way a user runs the tools side by side. Every operation is
classified: ``ok`` (reported success), ``refused`` (an expected one-line error, exit 1, or a 4xx) or
``failure`` (a traceback, another exit code, a 5xx, a reader that fails, or SQLite's "malformed").
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

import graphlets
from graphlets.demo import record_history
from graphlets.model import ArtifactState
from graphlets.registry import ModelRegistry
from graphlets.store import MetadataStore
from tests.pipeline.helpers import CHAIN

MODEL, TOKEN, VERSIONS = "churn", "soak-secret-token", 6
BAD_WORDS = ("Traceback", "malformed", "not a database", "disk I/O error")
GRAPHLETS = [sys.executable, "-m", "graphlets"]


@dataclass
class Tally:
    """What every worker did; ``whys`` and ``runs`` are the writes that reported success."""

    counts: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    whys: set[str] = field(default_factory=set)
    runs: dict[int, dict[int, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, outcome: str, detail: str = "") -> None:
        with self.lock:
            self.counts[f"{kind}:{outcome}"] += 1
            if outcome == "failure":
                self.failures.append(f"{kind}: {detail[-600:]}")

    def total(self, outcome: str) -> int:
        return sum(n for k, n in self.counts.items() if k.endswith(f":{outcome}"))


@dataclass
class Soak:
    """One store under load: its URL, a folder for files, the live server's base URL."""

    url: str
    folder: Path
    deadline: float = 0.0
    base: str = ""
    tally: Tally = field(default_factory=Tally)

    @property
    def blobs(self) -> Path:
        return self.folder / "blobs"

    def env(self) -> dict[str, str]:
        """The environment of every child: this process's code (the checkout under test)."""
        src = str(Path(graphlets.__file__).parents[1])
        root = str(Path(__file__).parents[2])
        path = os.pathsep.join([src, root, os.environ.get("PYTHONPATH", "")])
        home = self.folder / "home"
        home.mkdir(exist_ok=True)
        return {**os.environ, "PYTHONPATH": path, "GRAPHLETS_HOME": str(home),
                "GRAPHLETS_TOKEN": TOKEN}  # fmt: skip

    def cli(self, kind: str, *args: str, reader: bool = False) -> Any | None:
        """Run ``graphlets ARGS --store URL --json``; its JSON document on success, else None."""
        cmd = [*GRAPHLETS, *args, "--store", self.url, "--json"]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, env=self.env(), timeout=300)
        except subprocess.TimeoutExpired:
            self.tally.add(kind, "failure", f"timed out: {cmd}")
            return None
        bad = any(w in out.stderr for w in BAD_WORDS)
        if out.returncode == 0 and not bad:
            return self._ok(kind, out.stdout)
        if out.returncode == 1 and not bad and not reader:
            self.tally.add(kind, "refused")
            return None
        self.tally.add(kind, "failure", f"exit {out.returncode}: {out.stderr}")
        return None

    def http(self, kind: str, method: str, path: str, body: Any = None) -> Any | None:
        """One request to the server; its JSON on 200, else None (4xx refused, 5xx failure)."""
        headers = {"Authorization": f"Bearer {TOKEN}"}
        try:
            r = httpx.request(method, self.base + path, json=body, headers=headers, timeout=300)
        except httpx.HTTPError as exc:
            self.tally.add(kind, "failure", f"{method} {path}: {exc!r}")
            return None
        if r.status_code == 200:
            return self._ok(kind, r.text)
        outcome = "refused" if r.status_code < 500 and method == "POST" else "failure"
        self.tally.add(kind, outcome, f"{method} {path} -> {r.status_code}: {r.text}")
        return None

    def _ok(self, kind: str, doc: str) -> Any | None:
        try:
            parsed = json.loads(doc)
        except ValueError:
            self.tally.add(kind, "failure", f"success without one JSON document: {doc!r}")
            return None
        self.tally.add(kind, "ok")
        return parsed

    def running(self) -> bool:
        return time.monotonic() < self.deadline


# setup and the server ----------------------------------------------------------------------------
def prepare(url: str) -> None:
    """A store with a short history and ``VERSIONS`` registered versions, v1 in production."""
    with MetadataStore(url, create=True) as store:
        record_history(store, days=VERSIONS + 2, pipelines=1)
        models = [a for a in store.get_artifacts_by_type("Model") if a.state == ArtifactState.LIVE]
        reg = ModelRegistry(store, who="soak")
        for m in models[:VERSIONS]:
            reg.register(MODEL, m, why="soak setup")
        reg.promote(MODEL, 1, why="soak setup")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(soak: Soak) -> subprocess.Popen[bytes]:
    """``graphlets ui`` on a free localhost port, with the token; waits until it answers."""
    port = free_port()
    cmd = [*GRAPHLETS, "ui", "--store", soak.url, "--port", str(port), "--blobs", str(soak.blobs)]
    log = (soak.folder / "server.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=soak.env())
    soak.base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(soak.base + "/api/registry", timeout=5).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    stop_server(proc)
    raise RuntimeError(f"graphlets ui did not start: {(soak.folder / 'server.log').read_text()}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# workers -----------------------------------------------------------------------------------------
def cli_registry(soak: Soak, w: int) -> None:
    """CLI writer: promote to production or staging, or set an alias, each with a unique why."""
    i = 0
    while soak.running():
        i += 1
        why, v = f"soak cli{w}-{i}", 1 + (w + i) % VERSIONS
        if i % 3 == 0:
            args = ["registry", "alias", MODEL, f"a{w}", str(v)]
        else:
            args = ["registry", "promote", MODEL, str(v), "--to", ("production", "staging")[i % 2]]
        if soak.cli("cli-registry", *args, "--why", why) is not None:
            with soak.tally.lock:
                soak.tally.whys.add(why)


def web_registry(soak: Soak, w: int) -> None:
    """Web writer: promote and alias through the API, with the token."""
    i = 0
    while soak.running():
        i += 1
        why, v = f"soak web{w}-{i}", 1 + (w + 2 * i) % VERSIONS
        if i % 2:
            path, body = "promote", {"version": v, "reason": why}
        else:
            path, body = "alias", {"alias": f"w{w}", "version": v, "reason": why}
        if soak.http("web-registry", "POST", f"/api/registry/{MODEL}/{path}", body) is not None:
            with soak.tally.lock:
                soak.tally.whys.add(why)
        time.sleep(0.05)


def runner(soak: Soak, w: int) -> None:
    """A small pipeline run, one span per run, recorded by ``graphlets run``."""
    folder = soak.folder / f"runner{w}"
    folder.mkdir(exist_ok=True)
    pipe = folder / "pipe.py"
    pipe.write_text(CHAIN.replace('Pipeline("chain"', f'Pipeline("soak{w}"'))
    span = 0
    while soak.running():
        span += 1
        doc = soak.cli("runner", "run", str(pipe), "--spans", str(span), "--blobs", str(soak.blobs))
        for run in (doc or {}).get("runs", []):
            nodes = {_num(n["execution"]): n["state"] for n in run["nodes"].values()}
            with soak.tally.lock:
                soak.tally.runs[_num(run["run"])] = nodes


def cli_reader(soak: Soak, _: int) -> None:
    """Bulk lineage reader: every graphlet of the store, segmented in a fresh process."""
    while soak.running():
        doc = soak.cli("cli-reader", "graphlets", "summary", reader=True)
        if doc is not None and "graphlets" not in doc:
            soak.tally.add("cli-reader", "failure", f"no graphlets in {doc}")


def web_reader(soak: Soak, _: int) -> None:
    """The server's own reads: pages that segment the whole store in the server's process."""
    paths = ("/api/pipelines", "/api/waste", f"/api/registry/{MODEL}")
    i = 0
    while soak.running():
        soak.http("web-reader", "GET", paths[i % len(paths)])
        i += 1
        time.sleep(0.1)


def _num(typed_id: str) -> int:
    return int(typed_id.split(":", 1)[1])


Worker = Callable[[Soak, int], None]
WORKERS: list[tuple[Worker, int]] = [
    (cli_registry, 0), (cli_registry, 1), (web_registry, 0), (runner, 0), (cli_reader, 0),
    (web_reader, 0),
]  # fmt: skip


def _guarded(worker: Worker, soak: Soak, w: int) -> None:
    """Run ``worker``; an exception in the harness itself is a failure, not a silent stop."""
    try:
        worker(soak, w)
    except Exception as exc:  # recorded, and asserted on by the test
        soak.tally.add(worker.__name__, "failure", repr(exc))


def soak_store(url: str, folder: Path, seconds: float) -> Soak:
    """Prepare, serve, run every worker for ``seconds``, stop; the tally of what happened."""
    prepare(url)
    soak = Soak(url, folder)
    server = start_server(soak)
    try:
        soak.deadline = time.monotonic() + seconds
        threads = [
            threading.Thread(target=_guarded, args=(f, soak, w), daemon=True) for f, w in WORKERS
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        died = server.poll()
        stop_server(server)
    log = (folder / "server.log").read_text(errors="replace")
    if died is not None or any(w in log for w in BAD_WORDS):
        soak.tally.add("server", "failure", f"exit code {died}, log: {log}")
    return soak
