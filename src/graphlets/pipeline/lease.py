"""One runner per pipeline: a lease row in ``graphlets_lease``, and recovery after a crash.

The lease is a row (pipeline name, owner, expiry) taken with compare-and-swap updates, so it works
the same on SQLite and PostgreSQL without table locks. A heartbeat thread extends it every third of
its time to live. A second runner gets a clear error while the lease is held; when the holder died
(kill -9, a lost machine) the lease expires after its TTL, or at once when the holder was a process
on this host that no longer exists.

Whoever takes the lease is the only runner of the pipeline, so any execution of the pipeline still
NEW or RUNNING at that moment belongs to a dead runner: :func:`fail_stale` records those FAILED
(with the reason), their PENDING outputs ABANDONED, and their runs FAILED.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    MetaData,
    String,
    Table,
    and_,
    delete,
    inspect,
    select,
    update,
)

from graphlets.errors import ConcurrencyError, SchemaVersionError
from graphlets.model import ArtifactState, EventType, Execution, ExecutionState
from graphlets.pipeline import record as rec
from graphlets.store import MetadataStore
from graphlets.store import schema as s
from graphlets.store.engine import WRITE_OPTION
from graphlets.store.sqlutil import insert_ignore

DEFAULT_TTL_S = float(os.environ.get("GRAPHLETS_LEASE_TTL", "30"))
STATE = "state"  # run context custom property: RUNNING, COMPLETE, FAILED

lease_table = Table(
    "graphlets_lease",
    MetaData(),
    Column("name", String(255), primary_key=True),
    Column("owner", String(255), nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
)


def new_owner() -> str:
    """``host:pid:token``: who holds a lease (the token tells two runners of one process apart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class Lease:
    """The lease on one pipeline name; use as a context manager."""

    def __init__(self, store: MetadataStore, name: str, ttl_s: float = DEFAULT_TTL_S) -> None:
        self.store = store
        self.name = name
        self.ttl_ms = int(ttl_s * 1000)
        self.owner = new_owner()
        self.previous_owner: str | None = None
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Lease:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.store.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
            with conn.begin():
                yield conn

    def _check_table(self) -> None:
        with self.store.engine.connect() as conn:
            if not inspect(conn).has_table(lease_table.name):
                raise SchemaVersionError(
                    f"{self.store.url.redacted()} has no graphlets_lease table (a store written "
                    "by another tool): run `graphlets store upgrade` on it first"
                )

    def acquire(self) -> None:
        """Take the lease or raise ConcurrencyError naming the holder."""
        self._check_table()
        t = lease_table
        with self._tx() as conn:
            now = _now_ms()
            insert_ignore(
                conn, t, [{"name": self.name, "owner": self.owner, "expires_ms": now + self.ttl_ms}]
            )
            row = conn.execute(select(t.c.owner, t.c.expires_ms).where(t.c.name == self.name)).one()
            if row.owner != self.owner:
                if row.expires_ms >= now and not owner_is_dead(row.owner):
                    until = datetime.fromtimestamp(row.expires_ms / 1000, timezone.utc)
                    raise ConcurrencyError(
                        f"pipeline {self.name!r} is being run by {row.owner} (lease until "
                        f"{until:%H:%M:%S} UTC): wait for that runner to finish or stop it; a "
                        "dead runner's lease expires on its own"
                    )
                swapped = conn.execute(
                    update(t)
                    .where(and_(t.c.name == self.name, t.c.owner == row.owner))
                    .values(owner=self.owner, expires_ms=now + self.ttl_ms)
                ).rowcount
                if swapped != 1:
                    raise ConcurrencyError(
                        f"pipeline {self.name!r}: another runner took the lease at the same "
                        "moment: try again"
                    )
                self.previous_owner = row.owner
        if not self.store.url.is_memory:  # a memory store has one connection: no second thread
            self._thread = threading.Thread(target=self._beat, name="graphlets-lease", daemon=True)
            self._thread.start()

    def renew(self) -> bool:
        """Extend the lease; False (and ``lost``) when another runner has taken it."""
        t = lease_table
        with self._tx() as conn:
            done = conn.execute(
                update(t)
                .where(and_(t.c.name == self.name, t.c.owner == self.owner))
                .values(expires_ms=_now_ms() + self.ttl_ms)
            ).rowcount
        if done != 1:
            self.lost = True
        return not self.lost

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl_ms / 3000):
            try:
                if not self.renew():
                    return
            except Exception:  # a transient database error: try again next beat
                continue

    def release(self) -> None:
        """Stop the heartbeat and delete the row (if still ours)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        t = lease_table
        with self._tx() as conn:
            conn.execute(delete(t).where(and_(t.c.name == self.name, t.c.owner == self.owner)))


def owner_is_dead(owner: str) -> bool:
    """True when ``owner`` was a process on this host that no longer runs (a lease of another
    host can only expire)."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def fail_stale(
    store: MetadataStore, pipeline_context_id: int, reason: str
) -> tuple[list[int], list[int]]:
    """Record every unfinished execution and run of the pipeline FAILED; returns (execution ids, run
    context ids). Call only while holding the pipeline's lease."""
    runs = _running_runs(store, pipeline_context_id)
    if not runs:
        return [], []
    execs = _unfinished_executions(store, runs)
    now = _now_ms()
    for ex in execs:
        pending = [
            e.artifact_id
            for e in store.get_events_by_execution_ids([int(ex.id or 0)])
            if e.type == EventType.PENDING_OUTPUT
        ]
        arts = [
            (rec.with_artifact_state(a, ArtifactState.ABANDONED), None)
            for a in store.get_artifacts_by_id([int(x or 0) for x in pending])
            if a.state == ArtifactState.PENDING
        ]
        failed = rec.with_state(ex, ExecutionState.FAILED, error=reason, end_time_ms=now)
        store.put_execution(failed, arts)
    for ctx in store.get_contexts_by_id(runs):
        rec.update_context(store, ctx, state="FAILED", error=reason, end_time_ms=now)
    return [int(e.id or 0) for e in execs], runs


def _running_runs(store: MetadataStore, pipeline_context_id: int) -> list[int]:
    cp, pc = s.context_property, s.parent_context
    stmt = (
        select(cp.c.context_id)
        .join(pc, pc.c.context_id == cp.c.context_id)
        .where(
            cp.c.name == STATE,
            cp.c.is_custom_property == True,  # noqa: E712
            cp.c.string_value == "RUNNING",
            pc.c.parent_context_id == pipeline_context_id,
        )
    )
    with store.engine.connect() as conn, conn.begin():
        return sorted(int(x) for x in conn.execute(stmt).scalars())


def _unfinished_executions(store: MetadataStore, runs: list[int]) -> list[Execution]:
    a, e = s.association, s.execution
    states = [int(ExecutionState.NEW), int(ExecutionState.RUNNING)]
    stmt = (
        select(e.c.id)
        .join(a, a.c.execution_id == e.c.id)
        .where(a.c.context_id.in_(runs), e.c.last_known_state.in_(states))
    )
    with store.engine.connect() as conn, conn.begin():
        ids = sorted({int(x) for x in conn.execute(stmt).scalars()})
    return store.get_executions_by_id(ids)
