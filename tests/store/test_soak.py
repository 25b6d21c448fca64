"""Soak: ``graphlets ui`` serving while CLI writers promote and alias, web writers do the same with
the token, a runner records pipeline runs and readers segment the whole store in bulk, all on one
SQLite file, then on PostgreSQL. Afterwards the store passes its integrity check and every write
that reported success is visible from a fresh process.

Two libraries of SQLite in one process (a bulk reader with its own SQLite next to the stdlib's)
corrupted a store this way in minutes ("database disk image is malformed"); the bounded run (about
30 s of load per backend, ``GRAPHLETS_SOAK_SECONDS``) runs by default, the full one is ``slow``. The
registry's "one production version" invariant is not checked here (that is the registry's
concurrency test): this test is about the store's integrity and durability.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.store.soak import MODEL, Soak, soak_store

BOUNDED_SECONDS = float(os.environ.get("GRAPHLETS_SOAK_SECONDS", "30"))
FULL_SECONDS = 240.0

INTEGRITY = (
    "import sqlite3, sys; con = sqlite3.connect(sys.argv[1]); "
    "print('\\n'.join(r[0] for r in con.execute('PRAGMA integrity_check')))"
)
LOOK = r"""
import json, sys
from graphlets.registry import ModelRegistry
from graphlets.store import MetadataStore
url, model = sys.argv[1], sys.argv[2]
run_ids = json.loads(sys.stdin.read())
with MetadataStore(url) as st:
    out = {"whys": [r.get("why") for r in ModelRegistry(st).history(model)]}
    out["runs"] = {
        rid: {e.id: e.last_known_state.name for e in st.get_executions_by_context(rid)}
        for rid in run_ids
    }
print(json.dumps(out))
"""


def _sqlite_integrity(soak: Soak) -> list[str]:
    """``PRAGMA integrity_check`` from a fresh process: ``["ok"]`` or SQLite's complaints."""
    path = soak.url[len("sqlite:///") :]
    out = subprocess.run(
        [sys.executable, "-c", INTEGRITY, path], capture_output=True, text=True, timeout=600
    )
    return (out.stdout.strip() or out.stderr.strip()).splitlines()


def _fresh_look(soak: Soak) -> dict[str, object]:
    """What a process that took no part in the soak reads back: audit trail and runs."""
    out = subprocess.run(
        [sys.executable, "-c", LOOK, soak.url, MODEL],
        input=json.dumps(sorted(soak.tally.runs)),
        capture_output=True,
        text=True,
        env=soak.env(),
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout))


def _pg_indexes_check(url: str) -> int:
    """amcheck on every B-tree index of the store, heap included; the number checked."""
    eng = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    with eng.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS amcheck"))
        n = conn.execute(
            text(
                "SELECT count(bt_index_check(c.oid, true)) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam "
                "WHERE am.amname = 'btree' AND c.relnamespace = 'public'::regnamespace"
            )
        ).scalar_one()
    eng.dispose()
    return int(n)


def _run(url: str, folder: Path, seconds: float) -> None:
    soak = soak_store(url, folder, seconds)
    t = soak.tally
    print(f"\nsoak {url.split(':')[0]} {seconds:.0f} s: {dict(sorted(t.counts.items()))}")
    if url.startswith("postgresql"):
        assert _pg_indexes_check(url) > 10
    else:
        assert _sqlite_integrity(soak) == ["ok"]
    assert t.failures == [], "\n".join(t.failures[:3] + t.failures[-3:])
    seen = _fresh_look(soak)
    missing = t.whys - set(seen["whys"])  # type: ignore[arg-type]
    assert not missing, f"{len(missing)} acknowledged registry writes are not visible: {missing}"
    assert seen["runs"] == {str(k): {str(e): s for e, s in v.items()} for k, v in t.runs.items()}
    for kind in ("cli-registry", "web-registry", "runner", "cli-reader", "web-reader"):
        assert t.counts[f"{kind}:ok"] > 0, f"no {kind} operation succeeded: {t.counts}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def soak_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return str(request.getfixturevalue("pg_url"))


def test_soak_bounded(soak_url: str, tmp_path: Path) -> None:
    _run(soak_url, tmp_path, BOUNDED_SECONDS)


@pytest.mark.slow
def test_soak_full(soak_url: str, tmp_path: Path) -> None:
    _run(soak_url, tmp_path, FULL_SECONDS)
