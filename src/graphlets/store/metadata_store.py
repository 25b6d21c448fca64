"""``MetadataStore``: MLMD's API over SQLAlchemy, opened from a URL.

Every public method is one transaction. Writes retry on lock contention (SQLite) and serialization
failures (PostgreSQL) with backoff, so concurrent writers see waits, never "database is locked".
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import DBAPIError, OperationalError

from graphlets.errors import AlreadyExistsError, ConcurrencyError, InvalidArgumentError
from graphlets.model.entities import (
    Artifact,
    Association,
    Attribution,
    Context,
    Event,
    Execution,
    ParentContext,
)
from graphlets.model.types import ArtifactType, ContextType, ExecutionType
from graphlets.store import bootstrap, migrate, read_ops, write_ops
from graphlets.store import schema as s
from graphlets.store.engine import WRITE_OPTION, make_engine
from graphlets.store.locks import acquire as acquire_lock
from graphlets.store.locks import binding, bound_connection
from graphlets.store.queries import QueryMixin
from graphlets.store.types_ops import TypeCache, put_type
from graphlets.store.url import StoreURL, parse_store_url

R = TypeVar("R")
MAX_ATTEMPTS = 12


class MetadataStore(QueryMixin):
    """An MLMD store at a URL (``sqlite:///path``, ``sqlite://``, ``postgresql://...``).

    Opening checks the schema and never writes; pass ``create=True`` (what ``store init`` does) to
    create a missing store.
    """

    def __init__(self, url: str | None = None, *, create: bool = False) -> None:
        self.url: StoreURL = parse_store_url(url)
        if create and not self.url.is_memory:
            bootstrap.init_store(self.url)
        self.engine: Engine = make_engine(self.url)
        if self.url.is_memory:
            bootstrap.init_store(self.url, self.engine)
        bootstrap.check_store(self.url, self.engine)
        self._types = TypeCache()

    def close(self) -> None:
        """Release connections."""
        self.engine.dispose()

    def __enter__(self) -> MetadataStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # transactions -------------------------------------------------------------------------
    def _bound(self) -> Connection | None:
        return bound_connection(self)  # inside atomic() or locks.run_locked()

    def _read(self, fn: Callable[[Connection], R]) -> R:
        conn = self._bound()
        if conn is not None:
            return fn(conn)
        with read_ops.gc_paused(), self.engine.connect() as conn, conn.begin():
            return fn(conn)

    def atomic(self, fn: Callable[[MetadataStore], R], *, locks: Sequence[str] = ()) -> R:
        """Run ``fn(self)`` as one write transaction: every store call it makes joins it, so a
        failure anywhere leaves nothing behind (new types included).

        ``locks`` name resources (an OpenLineage run, a dataset): concurrent ``atomic`` calls that
        share a name run one after the other (PostgreSQL: transaction-scoped advisory locks, taken
        in the order given, so callers pass them in one global order; SQLite's write transactions
        are exclusive already). The whole of ``fn`` is retried on lock contention and
        serialization failures, so it must write only through the store.
        """
        names, attempts = locks, [0]

        def tx(conn: Connection) -> R:
            if attempts[0]:
                self._types.invalidate()  # a rolled-back attempt may have cached its new types
            attempts[0] += 1
            for key in names:  # a no-op on SQLite, whose write transaction is exclusive
                acquire_lock(conn, key)
            with binding(self, conn):
                return fn(self)

        try:
            return self._write(tx)
        except BaseException:
            self._types.invalidate()  # it may hold types whose insert was rolled back
            raise

    def _write(self, fn: Callable[[Connection], R]) -> R:
        conn = self._bound()
        if conn is not None:
            return fn(conn)  # inside atomic(): its transaction, its retries
        for attempt in range(MAX_ATTEMPTS):
            try:
                with self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
                    with conn.begin():
                        return fn(conn)
            except (OperationalError, DBAPIError) as exc:
                if not _retryable(exc) or attempt == MAX_ATTEMPTS - 1:
                    if _retryable(exc):
                        raise ConcurrencyError(
                            f"write to {self.url.redacted()} lost {MAX_ATTEMPTS} times to other "
                            "writers: retry later or use PostgreSQL for many writers"
                        ) from exc
                    raise
                time.sleep(min(2.0, 0.01 * 2**attempt) * (0.5 + random.random()))
        raise AssertionError("unreachable")

    @property
    def migrations_pending(self) -> bool:
        """True when ``graphlets store upgrade`` would add graphlets' indexes and tables."""
        return self._read(migrate.pending)

    # types --------------------------------------------------------------------------------
    def put_artifact_type(
        self, t: ArtifactType, *, can_add_fields: bool = False, can_omit_fields: bool = False
    ) -> int:
        """Create or check an artifact type; returns its id (MLMD's rules for evolution)."""
        return self._write(lambda c: put_type(c, self._types, t, can_add_fields, can_omit_fields))

    def put_execution_type(
        self, t: ExecutionType, *, can_add_fields: bool = False, can_omit_fields: bool = False
    ) -> int:
        """Create or check an execution type; returns its id."""
        return self._write(lambda c: put_type(c, self._types, t, can_add_fields, can_omit_fields))

    def put_context_type(
        self, t: ContextType, *, can_add_fields: bool = False, can_omit_fields: bool = False
    ) -> int:
        """Create or check a context type; returns its id."""
        return self._write(lambda c: put_type(c, self._types, t, can_add_fields, can_omit_fields))

    # node writes --------------------------------------------------------------------------
    def put_artifacts(self, artifacts: Sequence[Artifact]) -> list[int]:
        """Insert or update artifacts; ids are index-aligned with the input."""
        return self._write(lambda c: write_ops.put_nodes(c, self._types, artifacts))

    def put_executions(self, executions: Sequence[Execution]) -> list[int]:
        """Insert or update executions; ids are index-aligned with the input."""
        return self._write(lambda c: write_ops.put_nodes(c, self._types, executions))

    def put_contexts(self, contexts: Sequence[Context]) -> list[int]:
        """Insert or update contexts; ids are index-aligned with the input."""
        return self._write(lambda c: write_ops.put_nodes(c, self._types, contexts))

    def put_events(self, events: Sequence[Event]) -> None:
        """Insert events (with their paths)."""
        self._write(lambda c: write_ops.put_events(c, events))

    def put_attributions_and_associations(
        self, attributions: Sequence[Attribution], associations: Sequence[Association]
    ) -> None:
        """Link artifacts and executions to contexts; existing links are kept."""
        self._write(lambda c: write_ops.put_links(c, attributions, associations))

    def put_parent_contexts(self, links: Sequence[ParentContext]) -> None:
        """Nest contexts."""
        self._write(lambda c: write_ops.put_parent_contexts(c, links))

    def put_execution(
        self,
        execution: Execution,
        artifact_and_events: Sequence[tuple[Artifact, Event | None]],
        contexts: Sequence[Context] = (),
        *,
        reuse_context_if_already_exist: bool = False,
    ) -> tuple[int, list[int], list[int]]:
        """Atomically write an execution, its artifacts and events, and its contexts.

        Returns ``(execution_id, artifact_ids, context_ids)``. Readers see all of it or none of it.
        With ``reuse_context_if_already_exist`` a new context whose (type, name) exists is linked,
        not duplicated, even when several processes race to create it.
        """

        def tx(conn: Connection) -> tuple[int, list[int], list[int]]:
            return self._put_execution(
                conn, execution, artifact_and_events, contexts, reuse_context_if_already_exist
            )

        try:
            return self._write(tx)
        except AlreadyExistsError:
            if not reuse_context_if_already_exist or self._bound() is not None:
                raise  # inside atomic() the transaction is spoiled: its caller retries it whole
            return self._write(tx)  # another writer created the context between our read and insert

    def _put_execution(
        self,
        conn: Connection,
        execution: Execution,
        artifact_and_events: Sequence[tuple[Artifact, Event | None]],
        contexts: Sequence[Context],
        reuse: bool,
    ) -> tuple[int, list[int], list[int]]:
        [exec_id] = write_ops.put_nodes(conn, self._types, [execution])
        artifacts = [a for a, _ in artifact_and_events]
        art_ids = write_ops.put_nodes(conn, self._types, artifacts) if artifacts else []
        events = [
            replace(e, artifact_id=aid, execution_id=exec_id)
            for (_, e), aid in zip(artifact_and_events, art_ids, strict=True)
            if e is not None
        ]
        write_ops.put_events(conn, events, verify=False)  # every id was written just above
        ctx_list = write_ops.reuse_contexts(conn, contexts) if reuse else list(contexts)
        to_write = [
            c
            for c, orig in zip(ctx_list, contexts, strict=True)
            if not (reuse and orig.id is None and c.id is not None)
        ]
        written = iter(write_ops.put_nodes(conn, self._types, to_write) if to_write else [])
        ctx_ids = [
            int(c.id) if (reuse and orig.id is None and c.id is not None) else next(written)
            for c, orig in zip(ctx_list, contexts, strict=True)
        ]
        write_ops.put_links(
            conn,
            [Attribution(cid, aid) for cid in ctx_ids for aid in art_ids],
            [Association(cid, exec_id) for cid in ctx_ids],
            verify=False,
        )
        return exec_id, art_ids, ctx_ids

    # counts -------------------------------------------------------------------------------
    def count(self, table: str) -> int:
        """Raw row count of one MLMD table (``artifact``, ``execution``, ``event``, ...)."""
        tables = {x.name: x for x in s.MLMD_TABLES}
        if table not in tables:
            raise InvalidArgumentError(
                f"{table!r} is not an MLMD table: use one of {', '.join(sorted(tables))}"
            )
        t = tables[table]
        return self._read(
            lambda c: int(c.execute(select(func.count()).select_from(t)).scalar_one())
        )

    def _hydrate(self, conn: Connection, kind: str, stmt: Any) -> list[Any]:
        return read_ops.select_nodes(conn, self._types, kind, stmt)


def _retryable(exc: DBAPIError) -> bool:
    msg = str(exc.orig or exc).lower()
    return any(
        k in msg
        for k in ("database is locked", "database is busy", "could not serialize", "deadlock")
    )
