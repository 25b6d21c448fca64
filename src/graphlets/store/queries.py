"""The read half of ``MetadataStore``: MLMD's ``get_*`` methods.

Kept apart from the write half so each module stays small; every method is one read transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, select

from graphlets.errors import InvalidArgumentError
from graphlets.model.entities import Artifact, Context, Event, Execution, LineageGraph
from graphlets.model.enums import TypeKind
from graphlets.model.types import ArtifactType, ContextType, ExecutionType
from graphlets.store import read_ops
from graphlets.store import schema as s
from graphlets.store.lineage_ops import Direction, subgraph
from graphlets.store.list_options import ListOptions, build_select, page_token
from graphlets.store.sqlutil import fetchall
from graphlets.store.types_ops import TypeCache

R = TypeVar("R")
_EVERYTHING = ListOptions()


class QueryMixin:
    """``get_*`` methods; needs ``_read`` and ``_types`` from the store."""

    _types: TypeCache

    def _read(self, fn: Callable[[Connection], R]) -> R:
        raise NotImplementedError

    # types --------------------------------------------------------------------------------
    def get_artifact_type(self, name: str) -> ArtifactType:
        """The artifact type called ``name`` (NotFoundError otherwise)."""
        return cast(
            ArtifactType, self._read(lambda c: self._types.get(c, TypeKind.ARTIFACT_TYPE, name))
        )

    def get_execution_type(self, name: str) -> ExecutionType:
        """The execution type called ``name``."""
        return cast(
            ExecutionType, self._read(lambda c: self._types.get(c, TypeKind.EXECUTION_TYPE, name))
        )

    def get_context_type(self, name: str) -> ContextType:
        """The context type called ``name``."""
        return cast(
            ContextType, self._read(lambda c: self._types.get(c, TypeKind.CONTEXT_TYPE, name))
        )

    def get_artifact_types(self) -> list[ArtifactType]:
        """All artifact types (MLMD's system ``mlmd.*`` types are hidden, as in ml-metadata)."""
        return cast(
            list[ArtifactType], self._read(lambda c: self._types.of_kind(c, TypeKind.ARTIFACT_TYPE))
        )

    def get_execution_types(self) -> list[ExecutionType]:
        """All execution types."""
        return cast(
            list[ExecutionType],
            self._read(lambda c: self._types.of_kind(c, TypeKind.EXECUTION_TYPE)),
        )

    def get_context_types(self) -> list[ContextType]:
        """All context types."""
        return cast(
            list[ContextType], self._read(lambda c: self._types.of_kind(c, TypeKind.CONTEXT_TYPE))
        )

    # by id --------------------------------------------------------------------------------
    def get_artifacts_by_id(self, ids: Sequence[int]) -> list[Artifact]:
        """Artifacts in the order of ``ids``; unknown ids are skipped."""
        return cast(
            list[Artifact],
            self._read(lambda c: read_ops.nodes_by_ids(c, self._types, "artifact", ids)),
        )

    def get_executions_by_id(self, ids: Sequence[int]) -> list[Execution]:
        """Executions in the order of ``ids``."""
        return cast(
            list[Execution],
            self._read(lambda c: read_ops.nodes_by_ids(c, self._types, "execution", ids)),
        )

    def get_contexts_by_id(self, ids: Sequence[int]) -> list[Context]:
        """Contexts in the order of ``ids``."""
        return cast(
            list[Context],
            self._read(lambda c: read_ops.nodes_by_ids(c, self._types, "context", ids)),
        )

    # by type / name / uri -----------------------------------------------------------------
    def _by_type(self, kind: str, tkind: TypeKind, type_name: str, name: str | None) -> list[Any]:
        def q(conn: Connection) -> list[Any]:
            t = self._types.get(conn, tkind, type_name)
            table = s.NODE_TABLES[kind]
            cond = table.c.type_id == t.id
            if name is not None:
                cond = cond & (table.c.name == name)
            return read_ops.nodes_where(conn, self._types, kind, cond)

        return self._read(q)

    def get_artifacts_by_type(self, type_name: str) -> list[Artifact]:
        """All artifacts of a type, in id order."""
        return self._by_type("artifact", TypeKind.ARTIFACT_TYPE, type_name, None)

    def get_executions_by_type(self, type_name: str) -> list[Execution]:
        """All executions of a type."""
        return self._by_type("execution", TypeKind.EXECUTION_TYPE, type_name, None)

    def get_contexts_by_type(self, type_name: str) -> list[Context]:
        """All contexts of a type."""
        return self._by_type("context", TypeKind.CONTEXT_TYPE, type_name, None)

    def get_artifact_by_type_and_name(self, type_name: str, name: str) -> Artifact | None:
        """The artifact with this type and name, or None."""
        found = self._by_type("artifact", TypeKind.ARTIFACT_TYPE, type_name, name)
        return found[0] if found else None

    def get_execution_by_type_and_name(self, type_name: str, name: str) -> Execution | None:
        """The execution with this type and name, or None."""
        found = self._by_type("execution", TypeKind.EXECUTION_TYPE, type_name, name)
        return found[0] if found else None

    def get_context_by_type_and_name(self, type_name: str, name: str) -> Context | None:
        """The context with this type and name, or None."""
        found = self._by_type("context", TypeKind.CONTEXT_TYPE, type_name, name)
        return found[0] if found else None

    def get_artifacts_by_uri(self, uri: str) -> list[Artifact]:
        """Artifacts whose uri is exactly ``uri`` (indexed)."""
        return cast(
            list[Artifact],
            self._read(
                lambda c: read_ops.nodes_where(c, self._types, "artifact", s.artifact.c.uri == uri)
            ),
        )

    # by context ---------------------------------------------------------------------------
    def get_artifacts_by_context(self, context_id: int) -> list[Artifact]:
        """Artifacts attributed to a context."""
        sub = select(s.attribution.c.artifact_id).where(s.attribution.c.context_id == context_id)
        return cast(
            list[Artifact],
            self._read(
                lambda c: read_ops.nodes_where(c, self._types, "artifact", s.artifact.c.id.in_(sub))
            ),
        )

    def get_executions_by_context(self, context_id: int) -> list[Execution]:
        """Executions associated with a context."""
        sub = select(s.association.c.execution_id).where(s.association.c.context_id == context_id)
        return cast(
            list[Execution],
            self._read(
                lambda c: read_ops.nodes_where(
                    c, self._types, "execution", s.execution.c.id.in_(sub)
                )
            ),
        )

    def get_contexts_by_artifact(self, artifact_id: int) -> list[Context]:
        """Contexts an artifact is attributed to."""
        sub = select(s.attribution.c.context_id).where(s.attribution.c.artifact_id == artifact_id)
        return cast(
            list[Context],
            self._read(
                lambda c: read_ops.nodes_where(c, self._types, "context", s.context.c.id.in_(sub))
            ),
        )

    def get_contexts_by_execution(self, execution_id: int) -> list[Context]:
        """Contexts an execution is associated with."""
        sub = select(s.association.c.context_id).where(s.association.c.execution_id == execution_id)
        return cast(
            list[Context],
            self._read(
                lambda c: read_ops.nodes_where(c, self._types, "context", s.context.c.id.in_(sub))
            ),
        )

    def get_parent_contexts_by_context(self, context_id: int) -> list[Context]:
        """Direct parents of a context."""
        pc = s.parent_context
        sub = select(pc.c.parent_context_id).where(pc.c.context_id == context_id)
        return cast(
            list[Context],
            self._read(
                lambda c: read_ops.nodes_where(c, self._types, "context", s.context.c.id.in_(sub))
            ),
        )

    def get_children_contexts_by_context(self, context_id: int) -> list[Context]:
        """Direct children of a context."""
        pc = s.parent_context
        sub = select(pc.c.context_id).where(pc.c.parent_context_id == context_id)
        return cast(
            list[Context],
            self._read(
                lambda c: read_ops.nodes_where(c, self._types, "context", s.context.c.id.in_(sub))
            ),
        )

    # events -------------------------------------------------------------------------------
    def get_events_by_artifact_ids(self, ids: Sequence[int]) -> list[Event]:
        """Events touching these artifacts."""
        return self._read(lambda c: read_ops.events_by(c, "artifact_id", ids))

    def get_events_by_execution_ids(self, ids: Sequence[int]) -> list[Event]:
        """Events touching these executions."""
        return self._read(lambda c: read_ops.events_by(c, "execution_id", ids))

    # listing ------------------------------------------------------------------------------
    def _list(self, kind: str, options: ListOptions | None) -> tuple[list[Any], str | None]:
        o = options or ListOptions()
        table = s.NODE_TABLES[kind]

        def q(conn: Connection) -> tuple[list[Any], str | None]:
            if o == _EVERYTHING:  # the whole table: no SQL compilation, plain driver rows
                everything = fetchall(conn, f"{read_ops.NODE_SQL[kind]} ORDER BY id")
                return read_ops.hydrate(conn, self._types, kind, everything), None
            result = conn.execute(build_select(kind, table, o))
            keys, rows = list(result.keys()), result.all()
            token = None
            if o.limit is not None and len(rows) > o.limit:
                rows = rows[: o.limit]
                token = page_token(kind, o, dict(zip(keys, rows[-1], strict=True)))
            ordered = read_ops.reorder(kind, keys, rows)
            return read_ops.hydrate(conn, self._types, kind, ordered), token

        return self._read(q)

    def get_artifacts(self, options: ListOptions | None = None) -> list[Artifact]:
        """Artifacts by ``ListOptions`` (use :meth:`list_artifacts` for the page token)."""
        return self._list("artifact", options)[0]

    def get_executions(self, options: ListOptions | None = None) -> list[Execution]:
        """Executions by ``ListOptions``."""
        return self._list("execution", options)[0]

    def get_contexts(self, options: ListOptions | None = None) -> list[Context]:
        """Contexts by ``ListOptions``."""
        return self._list("context", options)[0]

    def list_artifacts(self, options: ListOptions) -> tuple[list[Artifact], str | None]:
        """A page of artifacts and the token for the next page (None at the end)."""
        return self._list("artifact", options)

    def list_executions(self, options: ListOptions) -> tuple[list[Execution], str | None]:
        """A page of executions and the next token."""
        return self._list("execution", options)

    def list_contexts(self, options: ListOptions) -> tuple[list[Context], str | None]:
        """A page of contexts and the next token."""
        return self._list("context", options)

    # lineage ------------------------------------------------------------------------------
    def get_lineage_subgraph(
        self,
        artifact_ids: Sequence[int] = (),
        execution_ids: Sequence[int] = (),
        *,
        direction: Direction | str = Direction.BIDIRECTIONAL,
        max_hops: int = 2,
        include_contexts: bool = True,
    ) -> LineageGraph:
        """Nodes and events within ``max_hops`` event edges of the start nodes."""
        d = _direction(direction)
        if max_hops < 0:
            raise InvalidArgumentError(f"max_hops must be 0 or more, got {max_hops}")

        def q(conn: Connection) -> LineageGraph:
            start = (artifact_ids, execution_ids)
            return subgraph(conn, self._types, start, max_hops, d, include_contexts)

        return self._read(q)


def _direction(value: Direction | str) -> Direction:
    try:
        return Direction(value)
    except ValueError:
        choices = ", ".join(d.value for d in Direction)
        raise InvalidArgumentError(
            f"lineage direction {value!r} is not known: use one of {choices}"
        ) from None
