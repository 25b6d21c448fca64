"""graphlets vs ml-metadata 1.17.1 on SQLite, same machine, same process.

    .venv/bin/python bench/store_ingest.py            # full run; rewrites bench/README.md results
    .venv/bin/python bench/store_ingest.py --quick    # seconds; prints only

(a) ingest 10,000 artifacts, 10,000 executions and 20,000 events in batches of 1,000 through the
normal API of each library, and through graphlets' bulk writer (one writer per batch);
(b) read a whole 50-pipeline TFX-shaped store (all artifacts, executions and events);
(c) 2-hop lineage (both directions, from one artifact) p50/p95 on a store with 1M events: graphlets
on SQLite and PostgreSQL, ml-metadata on the same SQLite file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from _util import (
    build_tfx_store,
    machine,
    markdown_table,
    percentile,
    rewrite_section,
    timer,
)
from graphlets.model import (
    Artifact,
    ArtifactState,
    ArtifactType,
    Event,
    EventStep,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    PropertyType,
)
from graphlets.store import MetadataStore
from graphlets.store.bulk import BulkWriter
from graphlets.store.transfer import copy_store

try:
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2 as pb
except ImportError:  # Python >= 3.12: graphlets numbers only
    metadata_store = pb = None

README = Path(__file__).with_name("README.md")
START, END = "<!-- results:start -->", "<!-- results:end -->"
PG_ADMIN = os.environ.get("GRAPHLETS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@dataclass(frozen=True)
class Sizes:
    """How big each part is."""

    artifacts: int = 10_000
    executions: int = 10_000
    events: int = 20_000
    batch: int = 1_000
    load_runs: int = 20  # per pipeline, 50 pipelines
    nhop_runs: int = 1_250  # per pipeline: 50 x 1,250 runs x 16 events = 1M events
    queries: int = 200
    repeats: int = 3


QUICK = Sizes(1_000, 1_000, 2_000, 500, 2, 20, 30, 1)
PIPELINES = 50
Row = list[str]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# (a) ingest -------------------------------------------------------------------------------------
def _g_records(sz: Sizes, at: int, et: int) -> tuple[list[Artifact], list[Execution]]:
    arts = [
        Artifact(at, uri=f"/data/examples/{i}", state=ArtifactState.LIVE,
                 properties={"span": i}, custom_properties={"split": "train"})
        for i in range(sz.artifacts)
    ]  # fmt: skip
    execs = [
        Execution(et, last_known_state=ExecutionState.COMPLETE, properties={"steps": i},
                  custom_properties={"cpu_seconds": 1.5})
        for i in range(sz.executions)
    ]  # fmt: skip
    return arts, execs


def _g_events(sz: Sizes, a_ids: list[int], e_ids: list[int]) -> list[Event]:
    out = []
    for j in range(sz.events):
        e, kind = e_ids[(j // 2) % len(e_ids)], EventType.INPUT if j % 2 == 0 else EventType.OUTPUT
        a = a_ids[(j // 2 + j % 2) % len(a_ids)]
        out.append(Event(a, e, kind, (EventStep(key="examples"),)))
    return out


def ingest_graphlets(sz: Sizes, url: str, bulk: bool) -> float:
    """Seconds to write the (a) workload through the normal API or the bulk writer."""
    with MetadataStore(url, create=True) as st:
        at = st.put_artifact_type(ArtifactType("Examples", {"span": PropertyType.INT}))
        et = st.put_execution_type(ExecutionType("Trainer", {"steps": PropertyType.INT}))
        arts, execs = _g_records(sz, at, et)

        def put(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
            out: list[Any] = []
            for i in range(0, len(items), sz.batch):
                if bulk:
                    with BulkWriter(st) as w:
                        out += getattr(w, fn.__name__)(items[i : i + sz.batch]) or []
                else:
                    out += fn(items[i : i + sz.batch]) or []
            return out

        with timer() as t1:
            a_ids = put(st.put_artifacts, arts)
            e_ids = put(st.put_executions, execs)
        events = _g_events(sz, a_ids, e_ids)  # built outside the clock, as for ml-metadata
        with timer() as t2:
            put(st.put_events, events)
        assert st.count("event") == sz.events
    return t1[0] + t2[0]


def _mlmd(path: Path) -> Any:
    cfg = pb.ConnectionConfig()
    cfg.sqlite.filename_uri = str(path)
    cfg.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    return metadata_store.MetadataStore(cfg)


def ingest_mlmd(sz: Sizes, path: Path) -> float:
    """Seconds for ml-metadata to write the same workload."""
    st = _mlmd(path)
    at_def = pb.ArtifactType(name="Examples")
    at_def.properties["span"] = pb.INT
    et_def = pb.ExecutionType(name="Trainer")
    et_def.properties["steps"] = pb.INT
    at, et = st.put_artifact_type(at_def), st.put_execution_type(et_def)
    arts, execs = [], []
    for i in range(sz.artifacts):
        a = pb.Artifact(type_id=at, uri=f"/data/examples/{i}", state=pb.Artifact.LIVE)
        a.properties["span"].int_value = i
        a.custom_properties["split"].string_value = "train"
        arts.append(a)
    for i in range(sz.executions):
        e = pb.Execution(type_id=et, last_known_state=pb.Execution.COMPLETE)
        e.properties["steps"].int_value = i
        e.custom_properties["cpu_seconds"].double_value = 1.5
        execs.append(e)
    b = sz.batch
    with timer() as t1:
        a_ids = [x for i in range(0, len(arts), b) for x in st.put_artifacts(arts[i : i + b])]
        e_ids = [x for i in range(0, len(execs), b) for x in st.put_executions(execs[i : i + b])]
    events = []
    for g in _g_events(sz, a_ids, e_ids):
        ev = pb.Event(artifact_id=g.artifact_id, execution_id=g.execution_id, type=int(g.type))
        ev.path.steps.add().key = "examples"
        events.append(ev)
    with timer() as t2:
        for i in range(0, len(events), b):
            st.put_events(events[i : i + b])
    return t1[0] + t2[0]


def bench_ingest(sz: Sizes, work: Path) -> list[Row]:
    """Best of ``repeats`` for each, every try on a new file (the machine is shared)."""
    rows_total = sz.artifacts + sz.executions + sz.events
    log("(a) ingest ...")
    normal, bulk, ref = [], [], []
    for r in range(sz.repeats):
        normal.append(ingest_graphlets(sz, f"sqlite:///{work / f'ingest_g{r}.sqlite'}", False))
        bulk.append(ingest_graphlets(sz, f"sqlite:///{work / f'ingest_b{r}.sqlite'}", True))
        if pb:
            ref.append(ingest_mlmd(sz, work / f"ingest_m{r}.sqlite"))
    return _ingest_rows(sz, rows_total, min(normal), min(bulk), min(ref) if ref else None)


def _ingest_rows(
    sz: Sizes, rows_total: int, normal: float, bulk: float, ref: float | None
) -> list[Row]:
    label = f"ingest {sz.artifacts:,} art + {sz.executions:,} exec + {sz.events:,} events"
    return [
        _row(f"{label}, normal API", normal, ref, f"{rows_total / normal:,.0f} objects/s", 2.0),
        _row(f"{label}, bulk writer", bulk, ref, f"{rows_total / bulk:,.0f} objects/s", 2.0),
    ]


# (b) load a whole store -------------------------------------------------------------------------
def bench_load(sz: Sizes, work: Path) -> list[Row]:
    path = work / "load.sqlite"
    log(f"(b) building {PIPELINES} pipelines x {sz.load_runs} runs ...")
    built = build_tfx_store(f"sqlite:///{path}", PIPELINES, sz.load_runs)

    def g_load() -> int:
        with MetadataStore(f"sqlite:///{path}") as st:
            arts, execs = st.get_artifacts(), st.get_executions()
            events = st.get_events_by_execution_ids([e.id for e in execs if e.id is not None])
        return len(arts) + len(execs) + len(events)

    def m_load() -> int:
        st = _mlmd(path)
        arts, execs = st.get_artifacts(), st.get_executions()
        events = st.get_events_by_execution_ids([e.id for e in execs])
        return len(arts) + len(execs) + len(events)

    g_n, g_t = _best(g_load, sz.repeats)
    ref = None
    if pb:
        m_n, ref = _best(m_load, sz.repeats)
        assert m_n == g_n, f"ml-metadata read {m_n} objects, graphlets {g_n}"
    label = f"load {PIPELINES}-pipeline store ({built.runs:,} runs, {g_n:,} objects)"
    return [_row(label, g_t, ref, f"{g_n / g_t:,.0f} objects/s", None)]


def _best(fn: Callable[[], int], repeats: int) -> tuple[int, float]:
    times, n = [], 0
    for _ in range(repeats):
        with timer() as t:
            n = fn()
        times.append(t[0])
    return n, min(times)


# (c) N-hop lineage ------------------------------------------------------------------------------
def bench_nhop(sz: Sizes, work: Path) -> tuple[list[Row], list[str]]:
    path = work / "nhop.sqlite"
    url = f"sqlite:///{path}"
    log(f"(c) building {PIPELINES} pipelines x {sz.nhop_runs} runs with the bulk writer ...")
    with timer() as t_build:
        built = build_tfx_store(url, PIPELINES, sz.nhop_runs)
    notes = [f"built {built.events:,}-event store with the bulk writer in {t_build[0]:.1f} s"]
    starts = random.Random(7).sample(built.artifact_ids, sz.queries)
    rows: list[Row] = []
    label = f"2-hop lineage, {built.events / 1e6:.2f}M events"
    with MetadataStore(url) as st:
        g_sqlite = _latencies(lambda a: _g_size(st, a), starts)
    m_sqlite = None
    if pb:
        mst = _mlmd(path)
        m_sqlite = _latencies(lambda a: _m_size(mst, a), starts)
        with MetadataStore(url) as st:
            diff = [a for a in starts[:20] if _g_size(st, a) != _m_size(mst, a)]
        if diff:
            notes.append(f"result sizes differ from ml-metadata for artifacts {diff[:5]}")
    rows.append(_lat_row(f"{label}, SQLite", g_sqlite, m_sqlite))
    pg = _pg_database()
    if pg is None:
        notes.append(f"PostgreSQL at {PG_ADMIN} unreachable: no PostgreSQL numbers")
        return rows, notes
    try:
        with timer() as t_copy:
            counts = copy_store(url, pg)
        total = sum(counts.values())
        notes.append(
            f"copy_store SQLite -> PostgreSQL: {total:,} rows in {t_copy[0]:.1f} s "
            f"({total / t_copy[0]:,.0f} rows/s)"
        )
        with MetadataStore(pg) as st:
            g_pg = _latencies(lambda a: _g_size(st, a), starts)
        rows.append(_lat_row(f"{label}, PostgreSQL", g_pg, None))
        notes.append(f"PostgreSQL {_pg_version(pg)}; ml-metadata was run on SQLite only")
    finally:
        _drop_database(pg)
    return rows, notes


def _g_size(st: MetadataStore, artifact_id: int) -> tuple[int, int, int]:
    g = st.get_lineage_subgraph([artifact_id], max_hops=2, direction="both")
    return len(g.artifacts), len(g.executions), len(g.events)


def _m_size(st: Any, artifact_id: int) -> tuple[int, int, int]:
    opts = pb.LineageSubgraphQueryOptions(max_num_hops=2)
    opts.starting_artifacts.filter_query = f"id = {artifact_id}"
    opts.direction = pb.LineageSubgraphQueryOptions.BIDIRECTIONAL
    g = st.get_lineage_subgraph(opts, ["artifacts", "executions", "contexts", "events"])
    return len(g.artifacts), len(g.executions), len(g.events)


def _latencies(query: Callable[[int], Any], starts: list[int]) -> list[float]:
    for a in starts[:10]:  # warm caches and connections
        query(a)
    out = []
    for a in starts:
        with timer() as t:
            query(a)
        out.append(t[0] * 1000)
    return out


def _pg_database() -> str | None:
    name = f"graphlets_bench_{uuid.uuid4().hex[:10]}"
    try:
        eng = create_engine(_sa(PG_ADMIN), connect_args={"connect_timeout": 3})
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
        eng.dispose()
    except Exception:
        return None
    return make_url(PG_ADMIN).set(database=name).render_as_string(False)


def _drop_database(url: str) -> None:
    name = make_url(url).database
    eng = create_engine(_sa(PG_ADMIN), isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    eng.dispose()


def _pg_version(url: str) -> str:
    eng = create_engine(_sa(url))
    with eng.connect() as conn:
        version = str(conn.execute(text("SHOW server_version")).scalar_one())
    eng.dispose()
    return version.split()[0]


def _sa(url: str) -> str:
    return make_url(url).set(drivername="postgresql+psycopg").render_as_string(False)


# report -----------------------------------------------------------------------------------------
HEADER = ["workload", "graphlets", "ml-metadata 1.17.1", "speedup", "target", "notes"]
LINEAGE_TARGET_MS = 100.0


def _row(label: str, g: float, m: float | None, extra: str, target: float | None) -> Row:
    speed = f"{m / g:.2f}x" if m else "n/a"
    met = "n/a" if target is None or not m else ("met" if m / g >= target else "missed")
    goal = f">= {target:.0f}x: {met}" if target else "none"
    return [label, f"{g:.3f} s", f"{m:.3f} s" if m else "n/a", speed, goal, extra]


def _lat_row(label: str, g: list[float], m: list[float] | None) -> Row:
    g50, g95 = percentile(g, 50), percentile(g, 95)
    m_txt, speed = "n/a", "n/a"
    if m:
        m50, m95 = percentile(m, 50), percentile(m, 95)
        m_txt, speed = f"p50 {m50:.1f} ms, p95 {m95:.1f} ms", f"{m95 / g95:.2f}x (p95)"
    met = "met" if g95 <= LINEAGE_TARGET_MS else "missed"
    goal = f"p95 <= {LINEAGE_TARGET_MS:.0f} ms: {met}"
    return [label, f"p50 {g50:.1f} ms, p95 {g95:.1f} ms", m_txt, speed, goal, f"{len(g)} queries"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, seconds; prints only")
    ap.add_argument("--workdir", type=Path, help="keep the store files here (default: a temp dir)")
    args = ap.parse_args()
    sz = QUICK if args.quick else Sizes()
    with tempfile.TemporaryDirectory(prefix="graphlets-bench-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for old in work.glob("*.sqlite*"):
            old.unlink()
        rows = bench_ingest(sz, work) + bench_load(sz, work)
        nhop_rows, notes = bench_nhop(sz, work)
    rows += nhop_rows
    table = markdown_table(HEADER, rows)
    print(table)
    for n in notes:
        print(f"- {n}")
    if not args.quick:
        cmd = ".venv/bin/python bench/store_ingest.py"
        when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        body = f"Run {when} on {machine()}.\n\nCommand: `{cmd}`\n\n{table}\n\n"
        body += "\n".join(f"- {n}" for n in notes)
        rewrite_section(README, START, END, body)
        log(f"results written to {README}")


if __name__ == "__main__":
    main()
