"""``ListOptions``: MLMD's paging and ordering for ``get_artifacts``/``get_executions``/
``get_contexts``, with keyset (not offset) pagination so page N costs the same as page 1."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import Select, Table, and_, or_, select

from graphlets.errors import InvalidArgumentError
from graphlets.store.filter_query import compile_filter


class OrderBy(str, Enum):
    """MLMD's ``OrderByField.Field``."""

    CREATE_TIME = "create_time_since_epoch"
    LAST_UPDATE_TIME = "last_update_time_since_epoch"
    ID = "id"


@dataclass(frozen=True)
class ListOptions:
    """Paging, ordering and filtering of a list call.

    Attributes:
        limit: page size (MLMD's ``max_result_size``); None = everything.
        order_by: the ordering field; ties are broken by id, so pages never overlap.
        is_asc: ascending order (MLMD's default is descending create time; ours is ascending id,
            the order users reading a history expect).
        filter_query: see :mod:`graphlets.store.filter_query`.
        next_page_token: the token returned with the previous page.
    """

    limit: int | None = None
    order_by: OrderBy = OrderBy.ID
    is_asc: bool = True
    filter_query: str | None = None
    next_page_token: str | None = None


def _fingerprint(kind: str, o: ListOptions) -> str:
    raw = json.dumps([kind, o.order_by.value, o.is_asc, o.filter_query or ""])
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def build_select(kind: str, table: Table, o: ListOptions) -> Select[Any]:
    """The page's SELECT (one row more than ``limit``, to know whether another page exists)."""
    if o.limit is not None and not 0 < o.limit < 2**63 - 1:
        raise InvalidArgumentError(
            f"ListOptions.limit must be between 1 and {2**63 - 2}, got {o.limit}"
        )
    col = table.c[o.order_by.value]
    stmt = select(table)
    if o.filter_query:
        stmt = stmt.where(table.c.id.in_(compile_filter(kind, o.filter_query)))
    if o.next_page_token:
        value, last_id = _decode(o.next_page_token, _fingerprint(kind, o))
        if o.is_asc:
            stmt = stmt.where(or_(col > value, and_(col == value, table.c.id > last_id)))
        else:
            stmt = stmt.where(or_(col < value, and_(col == value, table.c.id < last_id)))
    order = (col.asc(), table.c.id.asc()) if o.is_asc else (col.desc(), table.c.id.desc())
    stmt = stmt.order_by(*order)
    if o.limit is not None:
        stmt = stmt.limit(o.limit + 1)
    return stmt


def page_token(kind: str, o: ListOptions, last: dict[str, Any]) -> str:
    """The token that continues after ``last`` (a row mapping)."""
    body = {"v": last[o.order_by.value], "id": last["id"], "f": _fingerprint(kind, o)}
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode()


def _int64(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


def _decode(token: str, expected: str) -> tuple[Any, int]:
    try:
        body = json.loads(base64.urlsafe_b64decode(token.encode()))
        value, last_id, fp = body["v"], int(body["id"]), body["f"]
        if not (_int64(last_id) and _int64(value)):
            raise ValueError("not a 64-bit integer")
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidArgumentError(
            "next_page_token is not a token this store issued: pass the token from the last page"
        ) from exc
    if fp != expected:
        raise InvalidArgumentError(
            "next_page_token belongs to another query: keep order_by, is_asc and filter_query "
            "the same across pages"
        )
    return value, last_id
