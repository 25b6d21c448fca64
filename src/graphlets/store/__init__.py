"""Persistence: MLMD's schema and API on SQLite and PostgreSQL."""

from graphlets.store.lineage_ops import Direction
from graphlets.store.list_options import ListOptions, OrderBy
from graphlets.store.metadata_store import MetadataStore
from graphlets.store.url import StoreURL, default_store_url, parse_store_url

__all__ = [
    "Direction",
    "ListOptions",
    "MetadataStore",
    "OrderBy",
    "StoreURL",
    "default_store_url",
    "parse_store_url",
]
