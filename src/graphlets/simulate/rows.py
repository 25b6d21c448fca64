"""Columnar MLMD rows with local ids, renumbered when pipelines are gathered into a chunk.

Rows are made far from the database (possibly in another process), before ids exist: every id
column holds a local id, 0-based per table within its pipeline. :meth:`Rows.extend` renumbers
pipelines one after another (chunk-local ids), and the writer adds the first id that
``BulkWriter.reserve`` returned for each table (:func:`shifted`). Which table an id column
refers to is fixed by its name (:data:`REFERS_TO`), so renumbering is one addition per column.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

# Id tables the simulator fills (their ``id`` column is a local id too).
ID_TABLES = ("context", "execution", "artifact", "event", "association", "attribution")
REFERS_TO = {
    "execution_id": "execution",
    "artifact_id": "artifact",
    "event_id": "event",
    "context_id": "context",
    "parent_context_id": "context",
}
Key = tuple[str, tuple[str, ...]]  # (table, columns)


@dataclass
class Rows:
    """Rows of many tables: ``batches[(table, columns)]`` is a list of column-array tuples."""

    batches: dict[Key, list[tuple[np.ndarray, ...]]] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ID_TABLES, 0))

    def add(self, table: str, columns: tuple[str, ...], *values: np.ndarray) -> None:
        """Append rows given as one array per column (all the same length)."""
        if len(values[0]):
            self.batches.setdefault((table, columns), []).append(values)

    def take(self, table: str, n: int) -> np.ndarray:
        """``n`` new local ids of ``table``."""
        first = self.ids[table]
        self.ids[table] = first + n
        return np.arange(first, first + n, dtype=np.int64)

    def extend(self, other: Rows) -> None:
        """Append ``other``'s rows, renumbering its local ids after the ones held here."""
        for (table, cols), parts in other.batches.items():
            shift = [self._offset(table, c) for c in cols]
            mine = self.batches.setdefault((table, cols), [])
            for values in parts:
                mine.append(tuple(v + s if s else v for v, s in zip(values, shift, strict=True)))
        for t in ID_TABLES:
            self.ids[t] += other.ids[t]

    def _offset(self, table: str, column: str) -> int:
        if column == "id":
            return self.ids[table]
        target = REFERS_TO.get(column)
        return self.ids[target] if target else 0

    def concatenated(self) -> Iterator[tuple[str, tuple[str, ...], tuple[np.ndarray, ...]]]:
        """Each ``(table, columns)`` group as one array per column."""
        for (table, cols), parts in self.batches.items():
            yield (
                table,
                cols,
                tuple(np.concatenate([p[i] for p in parts]) for i in range(len(cols))),
            )

    @property
    def row_count(self) -> int:
        """Total rows held."""
        return sum(len(p[0]) for parts in self.batches.values() for p in parts)


def shifted(
    table: str, columns: tuple[str, ...], values: tuple[np.ndarray, ...], first: dict[str, int]
) -> list[list[object]]:
    """Columns as Python lists with local ids turned into store ids (``first[table]`` + local)."""
    out: list[list[object]] = []
    for c, v in zip(columns, values, strict=True):
        target = table if c == "id" else REFERS_TO.get(c)
        out.append((v + first[target]).tolist() if target else v.tolist())
    return out
