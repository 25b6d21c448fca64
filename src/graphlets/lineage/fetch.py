"""Kept for imports written before the reader moved: see :mod:`graphlets.store.columnar`."""

from graphlets.store.columnar import read_snapshot
from graphlets.store.columnar import read_table as fetch_table

__all__ = ["fetch_table", "read_snapshot"]
