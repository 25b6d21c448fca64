"""A documented subset of MLMD's ``filter_query`` syntax, compiled to SQL (always parameterised).

Grammar (case-insensitive keywords)::

    expr      := term (OR term)*
    term      := factor (AND factor)*
    factor    := NOT factor | '(' expr ')' | predicate
    predicate := field op value | field IN '(' value, ... ')' | field IS [NOT] NULL
    op        := = | != | < | <= | > | >= | LIKE | NOT LIKE
    field     := id | type | type_id | name | uri | state | last_known_state | external_id
               | create_time_since_epoch | last_update_time_since_epoch
               | (properties|custom_properties).NAME.VALUE_COLUMN
                 (VALUE_COLUMN: int_value, double_value, string_value or bool_value)
               | contexts_ALIAS.(id|name|type)          (artifacts and executions)
               | parent_contexts_ALIAS.(id|name|type) | child_contexts_ALIAS.(...)   (contexts)
    value     := 'text' | "text" | number | TRUE | FALSE | ENUM_NAME (LIVE, COMPLETE, ...)

``NAME`` may be back-quoted (`` properties.`my key`.int_value ``). Each ``contexts_ALIAS`` is one
joined context, as in MLMD: ``contexts_a.type = 'pipeline' AND contexts_a.name = 'p'`` means one
context with both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    exists,
    false,
    not_,
    or_,
    select,
    true,
)

from graphlets.errors import FilterQueryError
from graphlets.model.enums import ArtifactState, ExecutionState
from graphlets.store import schema as s

_TOKEN = re.compile(
    r"""\s*(?:(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(?P<num>-?\d+(?:\.\d+)?)|"""
    r"""(?P<op><=|>=|!=|=|<|>|\(|\)|,)|(?P<word>(?:`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)"""
    r"""(?:\.(?:`[^`]+`|[A-Za-z_][A-Za-z0-9_]*))*))"""
)
_PLAIN = {
    "id",
    "type_id",
    "name",
    "uri",
    "state",
    "last_known_state",
    "external_id",
    "create_time_since_epoch",
    "last_update_time_since_epoch",
}
_ENUMS = {**{e.name: int(e) for e in ArtifactState}, **{e.name: int(e) for e in ExecutionState}}


@dataclass
class _Ctx:
    kind: str
    table: Table
    joins: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # alias -> (context, link)


def compile_filter(kind: str, query: str) -> Select[Any]:
    """A ``SELECT id`` of the ``kind`` table restricted by ``query``."""
    ctx = _Ctx(kind, s.NODE_TABLES[kind])
    tokens = _tokenize(query)
    parser = _Parser(tokens, ctx, query)
    cond = parser.expr()
    if parser.pos != len(tokens):
        raise FilterQueryError(f"filter_query {query!r}: unexpected {tokens[parser.pos][1]!r}")
    from_ = ctx.table
    for (link, link_on), (joined, joined_on) in ctx.joins.values():
        from_ = from_.join(link, link_on).join(joined, joined_on)  # type: ignore[assignment]
    return select(ctx.table.c.id).select_from(from_).where(cond).distinct()


def _tokenize(query: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    query = query.rstrip()
    while pos < len(query):
        m = _TOKEN.match(query, pos)
        if not m or m.end() == pos:
            raise FilterQueryError(
                f"filter_query {query!r}: cannot read {query[pos : pos + 12]!r}; see the "
                "supported syntax in docs/reference/filter-query.md"
            )
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], ctx: _Ctx, query: str) -> None:
        self.t, self.pos, self.ctx, self.q = tokens, 0, ctx, query

    def _peek(self, upper: bool = True) -> str | None:
        if self.pos >= len(self.t):
            return None
        v = self.t[self.pos][1]
        return v.upper() if upper else v

    def _take(self) -> tuple[str, str]:
        if self.pos >= len(self.t):
            raise FilterQueryError(f"filter_query {self.q!r} ends too early")
        self.pos += 1
        return self.t[self.pos - 1]

    def _expect(self, value: str) -> None:
        got = self._take()[1]
        if got.upper() != value:
            raise FilterQueryError(f"filter_query {self.q!r}: expected {value!r}, got {got!r}")

    def expr(self) -> ColumnElement[bool]:
        parts = [self.term()]
        while self._peek() == "OR":
            self.pos += 1
            parts.append(self.term())
        return or_(*parts) if len(parts) > 1 else parts[0]

    def term(self) -> ColumnElement[bool]:
        parts = [self.factor()]
        while self._peek() == "AND":
            self.pos += 1
            parts.append(self.factor())
        return and_(*parts) if len(parts) > 1 else parts[0]

    def factor(self) -> ColumnElement[bool]:
        if self._peek() == "NOT":
            self.pos += 1
            return not_(self.factor())
        if self._peek() == "(":
            self.pos += 1
            inner = self.expr()
            self._expect(")")
            return inner
        cond: ColumnElement[bool] = self.predicate()
        return cond

    def predicate(self) -> Any:
        kind, word = self._take()
        if kind != "word":
            raise FilterQueryError(f"filter_query {self.q!r}: expected a field, got {word!r}")
        column, wrap = _field(self.ctx, word, self.q)
        op = (self._peek() or "").upper()
        if op == "IS":
            self.pos += 1
            negate = self._peek() == "NOT"
            self.pos += negate
            self._expect("NULL")
            return wrap(column.is_not(None) if negate else column.is_(None))
        if op == "IN":
            self.pos += 1
            self._expect("(")
            values = [self.value()]
            while self._peek() == ",":
                self.pos += 1
                values.append(self.value())
            self._expect(")")
            return wrap(column.in_(values))
        return wrap(self._compare(column))

    def _compare(self, column: Any) -> ColumnElement[bool]:
        op = self._take()[1].upper()
        if op == "NOT":
            self._expect("LIKE")
            return not_(column.like(self.value()))  # type: ignore[no-any-return]
        value = self.value()
        ops = {
            "=": column.__eq__,
            "!=": column.__ne__,
            "<": column.__lt__,
            "<=": column.__le__,
            ">": column.__gt__,
            ">=": column.__ge__,
            "LIKE": column.like,
        }
        if op not in ops:
            raise FilterQueryError(
                f"filter_query {self.q!r}: unknown operator {op!r}; use =, !=, <, <=, >, >=, "
                "LIKE, IN, IS NULL"
            )
        return ops[op](value)  # type: ignore[no-any-return]

    def value(self) -> Any:
        kind, v = self._take()
        if kind == "str":
            return re.sub(r"\\(.)", r"\1", v[1:-1])
        if kind == "num":
            return float(v) if "." in v else int(v)
        upper = v.upper()
        if upper in ("TRUE", "FALSE"):
            return upper == "TRUE"
        if upper in _ENUMS:
            return _ENUMS[upper]
        raise FilterQueryError(f"filter_query {self.q!r}: {v!r} is not a value; quote strings")


def _identity(cond: ColumnElement[bool]) -> ColumnElement[bool]:
    return cond


def _field(ctx: _Ctx, word: str, q: str) -> tuple[Any, Any]:
    parts = [p.strip("`") for p in re.findall(r"`[^`]+`|[^.]+", word)]
    head = parts[0].lower()
    t = ctx.table
    if len(parts) == 1 and head in _PLAIN and head in t.c:
        return t.c[head], _identity
    if len(parts) == 1 and head == "type":
        return s.type_table.c.name, lambda c: exists().where(
            and_(s.type_table.c.id == t.c.type_id, c)
        )
    if len(parts) == 3 and head in ("properties", "custom_properties"):
        return _property(ctx, head == "custom_properties", parts[1], parts[2].lower(), q)
    m = re.fullmatch(r"(contexts|parent_contexts|child_contexts)_(\w+)", parts[0])
    if m and len(parts) == 2:
        return _context_field(ctx, m.group(1), m.group(2), parts[1].lower(), q), _identity
    raise FilterQueryError(
        f"filter_query {q!r}: unknown field {word!r} for {ctx.kind}s; see "
        "docs/reference/filter-query.md"
    )


def _property(ctx: _Ctx, custom: bool, name: str, col: str, q: str) -> tuple[Any, Any]:
    table, owner = s.PROPERTY_TABLES[ctx.kind]
    if col not in ("int_value", "double_value", "string_value", "bool_value"):
        raise FilterQueryError(
            f"filter_query {q!r}: {col!r} is not int_value, double_value, "
            "string_value or bool_value"
        )
    prop = table.alias()
    base = and_(
        prop.c[owner] == ctx.table.c.id,
        prop.c.name == name,
        prop.c.is_custom_property == (true() if custom else false()),
    )
    return prop.c[col], lambda c: exists().where(and_(base, c))


def _context_field(ctx: _Ctx, rel: str, alias: str, col: str, q: str) -> Any:
    if col not in ("id", "name", "type"):
        raise FilterQueryError(f"filter_query {q!r}: context fields are id, name and type")
    key = f"{rel}_{alias}"
    if key not in ctx.joins:
        c = s.context.alias(f"ctx_{alias}")
        t = ctx.table
        if rel == "contexts" and ctx.kind == "artifact":
            link = s.attribution.alias(f"lnk_{alias}")
            ctx.joins[key] = (
                (link, link.c.artifact_id == t.c.id),
                (c, c.c.id == link.c.context_id),
            )
        elif rel == "contexts" and ctx.kind == "execution":
            link = s.association.alias(f"lnk_{alias}")
            ctx.joins[key] = (
                (link, link.c.execution_id == t.c.id),
                (c, c.c.id == link.c.context_id),
            )
        elif rel != "contexts" and ctx.kind == "context":
            link = s.parent_context.alias(f"lnk_{alias}")
            mine, other = ("context_id", "parent_context_id")
            if rel == "child_contexts":
                mine, other = other, mine
            ctx.joins[key] = ((link, link.c[mine] == t.c.id), (c, c.c.id == link.c[other]))
        else:
            raise FilterQueryError(f"filter_query {q!r}: {rel} does not apply to {ctx.kind}s")
    c = ctx.joins[key][1][0]
    if col == "type":
        return select(s.type_table.c.name).where(s.type_table.c.id == c.c.type_id).scalar_subquery()
    return c.c[col]
