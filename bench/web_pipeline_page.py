"""Server time of the web UI's pipeline page on a pipeline with 10,000 executions.

    .venv/bin/python bench/web_pipeline_page.py                 # SQLite; prints a Markdown table
    .venv/bin/python bench/web_pipeline_page.py --postgres postgresql://postgres@127.0.0.1/postgres
    .venv/bin/python bench/web_pipeline_page.py --runs 3334     # 20,000 executions

The store is one TFX-shaped pipeline (bench/_util.py: ExampleGen -> StatisticsGen -> SchemaGen ->
Trainer -> Evaluator -> Pusher per run, 6 executions a run; 1,667 runs = 10,002 executions), built
with the bulk writer. Requests go through the ASGI app in-process (Starlette's TestClient), so the
time is the server's: routing, SQL, the graphlet segmentation when not cached, JSON or HTML
rendering; no network. "cold" is a view with no cached segmentation (the first view of a
pipeline: it segments the pipeline's graphlets; one-time imports and template compilation are
done before, by a priming request); "warm" views reuse that segmentation (after a store change
they show it at once and refresh it in the background). A PostgreSQL copy is ANALYZEd first, as
autovacuum would.
The target (issue 9) is < 500 ms for the pipeline page.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import build_tfx_store, machine
from graphlets.store import MetadataStore
from graphlets.store.transfer import copy_store
from graphlets.web import create_app

PIPELINE = "pipeline-0000"
TARGET_MS = 500.0


def timed(client: TestClient, url: str) -> float:
    """Milliseconds for one GET (which must answer 200)."""
    t0 = time.perf_counter()
    r = client.get(url)
    ms = (time.perf_counter() - t0) * 1000
    if r.status_code != 200:
        raise SystemExit(f"{url} answered {r.status_code}: {r.text[:300]}")
    return ms


def measure(url: str, repeats: int) -> list[list[str]]:
    """One row per page: cold ms, warm median and p95 ms."""
    app = create_app(url)
    rows = []
    with TestClient(app) as client:
        model = client.get("/api/artifacts?type=Model&limit=1").json()["items"][0]["id"]
        timed(client, "/registry")  # compile the base templates once, outside the measurements
        pages = [
            ("pipeline page (HTML)", f"/pipelines/{PIPELINE}"),
            ("pipeline page (JSON)", f"/api/pipelines/{PIPELINE}"),
            ("pipeline page, 500 runs a page", f"/api/pipelines/{PIPELINE}?limit=500"),
            ("overview (JSON)", "/api/pipelines"),
            ("lineage, 2 hops from a model", f"/api/lineage?start={model}"),
        ]
        for label, path in pages:
            timed(client, path)  # first use: imports, template compilation (once per process)
            app.state.ctx.graphlets.clear()  # cold: no cached segmentation
            cold = timed(client, path)
            warm = sorted(timed(client, path) for _ in range(repeats))
            p95 = warm[min(len(warm) - 1, round(0.95 * (len(warm) - 1)))]
            rows.append([label, f"{cold:.0f}", f"{statistics.median(warm):.0f}", f"{p95:.0f}"])
    return rows


def postgres_copy(sqlite_url: str, admin_url: str) -> tuple[str, str]:
    """Copy the store into a new PostgreSQL database; returns (its URL, the database name)."""
    name = f"graphlets_bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://"),
                           isolation_level="AUTOCOMMIT")  # fmt: skip
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    copy_store(sqlite_url, url)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"),
                           isolation_level="AUTOCOMMIT")  # fmt: skip
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))  # fresh tables have no statistics; autovacuum adds them
    engine.dispose()
    return url, name


def drop_database(admin_url: str, name: str) -> None:
    engine = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://"),
                           isolation_level="AUTOCOMMIT")  # fmt: skip
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1667, help="runs of the pipeline (6 executions)")
    ap.add_argument("--repeats", type=int, default=20, help="warm requests per page")
    ap.add_argument("--postgres", help="also measure on a copy in PostgreSQL (admin URL)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'web.sqlite'}"
        t0 = time.perf_counter()
        build_tfx_store(url, pipelines=1, runs_per_pipeline=args.runs)
        with MetadataStore(url) as st:
            n_exec, n_events = st.count("execution"), st.count("event")
        print(f"built {n_exec:,} executions, {n_events:,} events in "
              f"{time.perf_counter() - t0:.1f}s", file=sys.stderr)  # fmt: skip
        backends = [("SQLite", url)]
        pg = None
        if args.postgres:
            pg = postgres_copy(url, args.postgres)
            backends.append(("PostgreSQL", pg[0]))
        try:
            print(
                f"\n{machine()}; pipeline of {n_exec:,} executions ({args.runs:,} runs), "
                f"{args.repeats} warm requests per page; target < {TARGET_MS:.0f} ms\n"
            )
            print("| backend | page | cold ms | warm median ms | warm p95 ms |")
            print("|---|---|---:|---:|---:|")
            for backend, burl in backends:
                for row in measure(burl, args.repeats):
                    print(f"| {backend} | " + " | ".join(row) + " |")
        finally:
            if pg is not None and args.postgres:
                drop_database(args.postgres, pg[1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
