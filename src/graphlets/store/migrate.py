"""graphlets' own schema additions, managed by Alembic.

MLMD's tables are never altered: migrations only add indexes and tables that ml-metadata ignores.
The revision lives in ``graphlets_alembic_version`` so it cannot clash with a user's own Alembic.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from graphlets.errors import SchemaVersionError

VERSION_TABLE = "graphlets_alembic_version"


def _config(conn: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "graphlets.store:migrations")
    cfg.attributes["connection"] = conn
    return cfg


def head_revision() -> str:
    """The newest revision this graphlets knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection) -> str | None:
    """The revision recorded in the store, or None (never migrated, e.g. written by MLMD)."""
    if VERSION_TABLE not in inspect(conn).get_table_names():
        return None
    ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return ctx.get_current_revision()


def check_revision(conn: Connection, where: str) -> None:
    """Refuse stores migrated by a newer graphlets, whose extra tables we would not understand."""
    rev = current_revision(conn)
    if rev is None:
        return
    known = {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}
    if rev not in known:
        raise SchemaVersionError(
            f"{where} was migrated by a newer graphlets (revision {rev}): upgrade graphlets"
        )


def upgrade(conn: Connection) -> list[str]:
    """Migrate to head inside ``conn``; returns the revisions applied (empty when up to date)."""
    script = ScriptDirectory.from_config(_config())
    with conn.begin():
        before = current_revision(conn)
        if before == script.get_current_head():
            return []
        command.upgrade(_config(conn), "head")
    applied = [s.revision for s in script.walk_revisions(base="base", head="heads")]
    if before is not None:
        done = {s.revision for s in script.walk_revisions(base="base", head=before)}
        applied = [r for r in applied if r not in done]
    return list(reversed(applied))


def pending(conn: Connection) -> bool:
    """True when ``store upgrade`` has work to do."""
    return current_revision(conn) != head_revision()
