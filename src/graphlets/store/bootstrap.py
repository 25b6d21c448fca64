"""Create, check and upgrade stores.

Only :func:`init_store` creates and only :func:`upgrade_store` migrates; :func:`check_store`
reads and never writes, so opening a store (even one written by ml-metadata or TFX) leaves it as
it was.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, inspect, select, text
from sqlalchemy.exc import OperationalError

from graphlets.errors import (
    NotAStoreError,
    SchemaVersionError,
    StoreConnectionError,
    StoreNotFoundError,
)
from graphlets.model.enums import SYSTEM_ARTIFACT_TYPES, SYSTEM_EXECUTION_TYPES, TypeKind
from graphlets.store import migrate
from graphlets.store.engine import WRITE_OPTION, make_engine
from graphlets.store.schema import MLMD_TABLES, SCHEMA_VERSION, mlmd_env, type_table
from graphlets.store.url import StoreURL

SQLITE_MAGIC = b"SQLite format 3\x00"


def _ddl(backend: str) -> list[str]:
    script = resources.files("graphlets.store.ddl").joinpath(f"{backend}.sql").read_text()
    body = "\n".join(line for line in script.splitlines() if not line.startswith("--"))
    return [stmt.strip() for stmt in body.split(";") if stmt.strip()]


def check_store(url: StoreURL, engine: Engine) -> None:
    """Raise a one-line error unless ``url`` is an MLMD v10 store we can read; writes nothing."""
    if url.path is not None:
        _check_sqlite_file(url.path, url)
    try:
        with engine.connect() as conn:
            tables = {t.lower() for t in inspect(conn).get_table_names()}
            if "mlmdenv" not in tables:
                raise NotAStoreError(
                    f"{url.redacted()} has no MLMD tables: create a store there with "
                    f"`graphlets store init --store {url.redacted()}`"
                )
            versions = list(conn.execute(select(mlmd_env.c.schema_version)).scalars())
            migrate.check_revision(conn, url.redacted())
    except OperationalError as exc:
        raise _connection_error(url, exc) from exc
    if versions != [SCHEMA_VERSION]:
        raise SchemaVersionError(
            f"{url.redacted()} has MLMD schema version {versions or 'none'}, graphlets reads "
            f"version {SCHEMA_VERSION}: migrate it with ml-metadata 1.17.1 "
            "(MetadataStore(..., enable_upgrade_migration=True)) first"
        )


def _check_sqlite_file(path: Path, url: StoreURL) -> None:
    if not path.exists():
        raise StoreNotFoundError(
            f"no store at {path}: create one with `graphlets store init --store {url.text}`"
        )
    if not path.is_file():
        raise NotAStoreError(f"{path} is a directory, not a SQLite file: point --store at a file")
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise NotAStoreError(
            f"{path} cannot be read ({exc.strerror}): check its permissions"
        ) from exc
    if head != SQLITE_MAGIC:
        raise NotAStoreError(
            f"{path} is not a SQLite database (empty or another format): point --store at an "
            "MLMD store, or move the file away and run `graphlets store init`"
        )


def _connection_error(url: StoreURL, exc: OperationalError) -> Exception:
    msg = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    if url.backend == "postgresql" and re.search(r'database ".*" does not exist', msg):
        return StoreNotFoundError(
            f"no store at {url.redacted()} ({msg}): create it with "
            f"`graphlets store init --store {url.redacted()}`"
        )
    if url.backend == "postgresql":
        return StoreConnectionError(
            f"cannot reach {url.redacted()}: {msg}; check that the server runs and the URL is right"
        )
    return NotAStoreError(f"{url.redacted()} cannot be read as a store: {msg}")


def init_store(url: StoreURL, engine: Engine | None = None) -> bool:
    """Create an MLMD v10 store (and the database/file) at ``url``; True if it was new.

    An existing MLMD store is left as it is apart from graphlets' own migrations. ``engine`` is
    passed for in-memory stores, which live only inside their engine.
    """
    if url.backend == "postgresql":
        _create_pg_database(url)
    elif url.path is not None:
        url.path.parent.mkdir(parents=True, exist_ok=True)
        if url.path.exists() and url.path.stat().st_size > 0:
            _check_sqlite_file(url.path, url)
    own = engine is None
    engine = engine or make_engine(url)
    try:
        with engine.connect() as conn:
            tables = {t.lower() for t in inspect(conn).get_table_names()}
        _refuse_foreign_tables(url, tables)
        exists = "mlmdenv" in tables
        if url.path is not None and not exists:
            _set_wal(engine)
        if not exists:
            with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
                with conn.begin():
                    _create_schema(conn, url.backend)
        else:
            check_store(url, engine)
        upgrade_store(url, engine)
        return not exists
    finally:
        if own:
            engine.dispose()


def _refuse_foreign_tables(url: StoreURL, tables: set[str]) -> None:
    """Refuse a database holding tables that are neither MLMD's nor graphlets' own: ``store init``
    would add a store beside someone else's data (and switch a SQLite file to WAL)."""
    ours = {t.name.lower() for t in MLMD_TABLES} | {"mlmdenv"}
    foreign = sorted(
        t for t in tables if t not in ours and not t.startswith(("graphlets_", "sqlite_"))
    )
    if foreign:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        raise NotAStoreError(
            f"{url.path or url.redacted()} already holds {len(foreign)} table(s) that are not "
            f"MLMD's ({shown}): store init leaves other data alone; point --store at a new file "
            "or an empty database"
        )


def _set_wal(engine: Engine) -> None:
    """Switch a new SQLite file to WAL; on the raw (autocommit) connection, because SQLite refuses
    to change the journal mode inside the transaction SQLAlchemy would open."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA journal_mode = WAL")
        cur.close()
    finally:
        raw.close()


def _create_schema(conn: Connection, backend: str) -> None:
    for stmt in _ddl(backend):
        conn.exec_driver_sql(stmt)
    conn.execute(mlmd_env.insert().values(schema_version=SCHEMA_VERSION))
    seeds = [(n, TypeKind.ARTIFACT_TYPE) for n in SYSTEM_ARTIFACT_TYPES.values()]
    seeds += [(n, TypeKind.EXECUTION_TYPE) for n in SYSTEM_EXECUTION_TYPES.values()]
    for name, kind in seeds:
        conn.execute(type_table.insert().values(name=name, type_kind=int(kind)))


def upgrade_store(url: StoreURL, engine: Engine | None = None) -> list[str]:
    """Apply graphlets' own migrations (indexes, tables MLMD ignores); returns those applied."""
    own = engine is None
    eng = engine or make_engine(url)
    try:
        check_store(url, eng)
        with eng.connect().execution_options(**{WRITE_OPTION: True}) as conn:
            return migrate.upgrade(conn)
    finally:
        if own and not url.is_memory:
            eng.dispose()


def _create_pg_database(url: StoreURL) -> None:
    dbname = url.sqlalchemy_url.database or "postgres"
    admin = create_engine(url.sqlalchemy_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": dbname}
            ).first()
            if not found:
                quoted = conn.dialect.identifier_preparer.quote(dbname)
                conn.exec_driver_sql(f"CREATE DATABASE {quoted}")
    except OperationalError as exc:
        raise _connection_error(url, exc) from exc
    finally:
        admin.dispose()
