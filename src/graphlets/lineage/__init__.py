"""Lineage at scale: bulk loading into columnar tables, vectorised traversal, model graphlets.

Read only: it loads a store with a few large queries and never writes. The graphlet definition is
DESIGN.md's ("Model graphlet (our definition)"); every choice in it is a field of
:class:`GraphletConfig`. See ``docs/concepts/graphlets.md``.
"""

from graphlets.lineage.api import segment_store, segment_tables
from graphlets.lineage.categories import categorize
from graphlets.lineage.config import CATEGORIES, CATEGORY_LABELS, GraphletConfig
from graphlets.lineage.graph import Direction, LineageIndex
from graphlets.lineage.load import LineageTables, LoadFilter, load_tables
from graphlets.lineage.outcome import OUTCOMES
from graphlets.lineage.result import GraphletResult

__all__ = [
    "CATEGORIES",
    "CATEGORY_LABELS",
    "OUTCOMES",
    "Direction",
    "GraphletConfig",
    "GraphletResult",
    "LineageIndex",
    "LineageTables",
    "LoadFilter",
    "categorize",
    "load_tables",
    "segment_store",
    "segment_tables",
]
