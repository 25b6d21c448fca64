"""Store URLs: ``sqlite:///path``, ``sqlite://`` (memory), ``postgresql://...``.

``sqlite:///`` with no path is an error, not a second spelling of memory: a typo must not
silently give an empty store that vanishes on exit. ``sqlite://`` (or ``sqlite:///:memory:``) is
the explicit in-memory store.

Resolution order for the default: ``--store`` > ``GRAPHLETS_STORE`` > ``sqlite:///`` +
``$GRAPHLETS_HOME/store.sqlite`` (``~/.graphlets`` when unset).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from graphlets.errors import InvalidArgumentError

Backend = Literal["sqlite", "postgresql"]


def graphlets_home() -> Path:
    """The folder for graphlets' own files (default store, blobs)."""
    return Path(os.environ.get("GRAPHLETS_HOME") or Path.home() / ".graphlets").expanduser()


def default_store_url() -> str:
    """``GRAPHLETS_STORE`` or the SQLite file in :func:`graphlets_home`."""
    env = os.environ.get("GRAPHLETS_STORE")
    if env:
        return env
    return f"sqlite:///{graphlets_home() / 'store.sqlite'}"


@dataclass(frozen=True)
class StoreURL:
    """A parsed store URL: what the user wrote and what SQLAlchemy needs."""

    text: str
    backend: Backend
    sqlalchemy_url: URL
    path: Path | None  # SQLite file; None for memory and PostgreSQL

    @property
    def is_memory(self) -> bool:
        """True for ``sqlite://``, which lives as long as the process."""
        return self.backend == "sqlite" and self.path is None

    def redacted(self) -> str:
        """The URL with any password hidden, for messages."""
        return self.sqlalchemy_url.render_as_string(hide_password=True).replace(
            "postgresql+psycopg", "postgresql"
        )


def parse_store_url(text: str | None) -> StoreURL:
    """Parse a store URL; unknown schemes raise an error that lists the supported ones."""
    raw = text or default_store_url()
    if "\x00" in raw or len(raw) > 4096:
        raise InvalidArgumentError(_bad(raw[:80].replace("\x00", "\\0")))
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError) as exc:
        raise InvalidArgumentError(_bad(raw)) from exc
    name = url.get_backend_name()
    if name == "sqlite":
        db = url.database
        if db == "":
            raise InvalidArgumentError(
                f"store URL {raw!r} has no file path: write sqlite:///PATH (e.g. "
                "sqlite:///store.sqlite), or sqlite:// for a store in memory"
            )
        path = Path(db).expanduser() if db and db != ":memory:" else None
        if path is not None:
            url = url.set(database=str(path))
        return StoreURL(raw, "sqlite", url, path)
    if name in ("postgresql", "postgres"):
        if url.port is not None and not 0 < url.port < 65536:
            raise InvalidArgumentError(f"store URL {raw!r}: port {url.port} is not 1-65535")
        url = url.set(drivername="postgresql+psycopg")
        return StoreURL(raw, "postgresql", url, None)
    raise InvalidArgumentError(_bad(raw))


def _bad(raw: str) -> str:
    return (
        f"store URL {raw!r} is not supported: use sqlite:///PATH, sqlite:// (memory) "
        "or postgresql://USER@HOST:PORT/DB"
    )
