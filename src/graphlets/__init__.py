"""graphlets: MLMD-compatible provenance, continuous training, and model-graphlet waste analysis.

The public entry point for provenance is :class:`graphlets.store.MetadataStore`; it is re-exported
here lazily (as is :func:`graphlets.registry.load_model`) so that ``import graphlets`` stays cheap
for the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from graphlets.registry import load_model
    from graphlets.store import MetadataStore

__all__ = ["MetadataStore", "__version__", "load_model"]


def __getattr__(name: str) -> Any:
    if name == "MetadataStore":
        from graphlets.store import MetadataStore

        return MetadataStore
    if name == "load_model":
        from graphlets.registry import load_model

        return load_model
    raise AttributeError(name)
