"""Component categories by rules over execution type names.

The study of Xin et al. reports compute by component category (ingest, data analysis and validation,
transform, training, model analysis and validation, deployment); MLMD only records type names. Rules
are regular expressions searched in the type name, first match wins, so TFX's fully qualified names
(``tfx.components.trainer.component.Trainer``), their short forms and graphlets' own component names
all land in the same category without a table per framework. Change them with
``GraphletConfig(category_rules=...)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from graphlets.lineage.config import CATEGORIES, GraphletConfig

OTHER = CATEGORIES.index("other")


def categorize(type_name: str, config: GraphletConfig | None = None) -> str:
    """The category id of one execution type name (``other`` when no rule matches)."""
    cfg = config or GraphletConfig()
    for category, pattern in cfg.category_rules:
        if re.search(pattern, type_name, flags=re.IGNORECASE):
            return category
    return "other"


def category_codes(type_names: Iterable[str], config: GraphletConfig | None = None) -> np.ndarray:
    """Index into ``CATEGORIES`` for each name (one regex pass per distinct name)."""
    names = list(type_names)
    memo = {n: CATEGORIES.index(categorize(n, config)) for n in set(names)}
    return np.array([memo[n] for n in names], dtype=np.int8)
