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

Limits, each reported in the error when exceeded (they keep parsing, SQL compilation and the
database's own limits, e.g. SQLite's 64 joined tables and expression depth 1000, out of reach):
at most :data:`MAX_LENGTH` characters, :data:`MAX_DEPTH` levels of ``(`` / ``NOT``,
:data:`MAX_PREDICATES` predicates, :data:`MAX_VALUES` values in all ``IN`` lists, and
:data:`MAX_CONTEXT_JOINS` distinct ``contexts_ALIAS`` joins. Values must suit the field (a number
for ids and times, a string for names) and integers fit int64, so no backend sees a comparison it
rejects; text may not contain NUL or lone surrogates (PostgreSQL and the drivers refuse them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Select,
    Table,
    and_,
    exists,
    false,
    literal,
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
MAX_LENGTH = 10_000
MAX_DEPTH = 32
MAX_PREDICATES = 256
MAX_VALUES = 1_000
MAX_CONTEXT_JOINS = 16
_INT64 = 2**63
_INT_FIELDS = {"id", "type_id", "state", "last_known_state", "create_time_since_epoch"}
_INT_FIELDS |= {"last_update_time_since_epoch", "int_value"}
_KINDS = {"int_value": "int", "double_value": "float", "bool_value": "bool"}
_ENUMS = {**{e.name: int(e) for e in ArtifactState}, **{e.name: int(e) for e in ExecutionState}}


@dataclass
class _Ctx:
    kind: str
    table: Table
    joins: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # alias -> (context, link)


def compile_filter(kind: str, query: str) -> Select[Any]:
    """A ``SELECT id`` of the ``kind`` table restricted by ``query``."""
    ctx = _Ctx(kind, s.NODE_TABLES[kind])
    _check_text(query)
    tokens = _tokenize(query)
    parser = _Parser(tokens, ctx, query)
    cond = parser.expr()
    if parser.pos != len(tokens):
        raise FilterQueryError(
            f"filter_query {_shown(query)}: unexpected {tokens[parser.pos][1][:40]!r}"
        )
    from_ = ctx.table
    for (link, link_on), (joined, joined_on) in ctx.joins.values():
        from_ = from_.join(link, link_on).join(joined, joined_on)  # type: ignore[assignment]
    return select(ctx.table.c.id).select_from(from_).where(cond).distinct()


def _shown(query: str) -> str:
    return repr(query if len(query) <= 80 else query[:80] + "...")


def _check_text(query: str) -> None:
    if len(query) > MAX_LENGTH:
        raise FilterQueryError(
            f"filter_query of {len(query)} characters is longer than the limit of {MAX_LENGTH}: "
            "split it into several queries"
        )
    if "\x00" in query:
        raise FilterQueryError(f"filter_query {_shown(query)} contains a NUL byte: remove it")
    try:
        query.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise FilterQueryError(
            f"filter_query {_shown(query)} is not valid text ({exc.reason} at {exc.start}): "
            "remove the lone surrogate"
        ) from exc


def _tokenize(query: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    query = query.rstrip()
    while pos < len(query):
        m = _TOKEN.match(query, pos)
        if not m or m.end() == pos:
            raise FilterQueryError(
                f"filter_query {_shown(query)}: cannot read {query[pos : pos + 12]!r}; see the "
                "supported syntax in docs/reference/filter-query.md"
            )
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], ctx: _Ctx, query: str) -> None:
        self.t, self.pos, self.ctx, self.q = tokens, 0, ctx, _shown(query)
        self.depth = self.predicates = self.values = 0

    def _peek(self, upper: bool = True) -> str | None:
        if self.pos >= len(self.t):
            return None
        v = self.t[self.pos][1]
        return v.upper() if upper else v

    def _take(self) -> tuple[str, str]:
        if self.pos >= len(self.t):
            raise FilterQueryError(f"filter_query {self.q} ends too early")
        self.pos += 1
        return self.t[self.pos - 1]

    def _expect(self, value: str) -> None:
        got = self._take()[1]
        if got.upper() != value:
            raise FilterQueryError(f"filter_query {self.q}: expected {value!r}, got {got!r}")

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
        if self._peek() in ("NOT", "("):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise FilterQueryError(
                    f"filter_query {self.q} nests '(' and NOT more than {MAX_DEPTH} levels deep: "
                    "simplify it"
                )
            cond = self._nested()
            self.depth -= 1
            return cond
        self.predicates += 1
        if self.predicates > MAX_PREDICATES:
            raise FilterQueryError(
                f"filter_query {self.q} has more than {MAX_PREDICATES} predicates: use IN (...) "
                "or split it into several queries"
            )
        pred: ColumnElement[bool] = self.predicate()
        return pred

    def _nested(self) -> ColumnElement[bool]:
        if self._take()[1].upper() == "NOT":
            return not_(self.factor())
        inner = self.expr()
        self._expect(")")
        return inner

    def predicate(self) -> Any:
        kind, word = self._take()
        if kind != "word":
            raise FilterQueryError(f"filter_query {self.q}: expected a field, got {word!r}")
        column, wrap = _field(self.ctx, word, self.q)
        want = _value_kind(word)
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
            values = [self.value(word, want)]
            while self._peek() == ",":
                self.pos += 1
                values.append(self.value(word, want))
            self._expect(")")
            return wrap(column.in_(values))
        return wrap(self._compare(column, word, want))

    def _compare(self, column: Any, word: str, want: str) -> ColumnElement[bool]:
        op = self._take()[1].upper()
        if op in ("NOT", "LIKE") and want != "str":
            raise FilterQueryError(
                f"filter_query {self.q}: LIKE needs a text field, {word[:40]!r} is not one; "
                "use =, <, >, IN"
            )
        if op == "NOT":
            self._expect("LIKE")
            return not_(column.like(self.value(word, want)))  # type: ignore[no-any-return]
        value = self.value(word, want)
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
                f"filter_query {self.q}: unknown operator {op!r}; use =, !=, <, <=, >, >=, "
                "LIKE, IN, IS NULL"
            )
        return ops[op](value)  # type: ignore[no-any-return]

    def value(self, word: str, want: str) -> Any:
        """The next value token, checked against the kind of value ``word`` holds."""
        self.values += 1
        if self.values > MAX_VALUES:
            raise FilterQueryError(
                f"filter_query {self.q} has more than {MAX_VALUES} values: split it into "
                "several queries"
            )
        value = self._literal()
        return _fit(value, want, word, self.q)

    def _literal(self) -> Any:
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
        raise FilterQueryError(f"filter_query {self.q}: {v[:40]!r} is not a value; quote strings")


def _value_kind(word: str) -> str:
    """``int``, ``float``, ``bool`` or ``str``: what a field's column holds."""
    last = word.rsplit(".", 1)[-1].strip("`").lower()
    if "." not in word:
        return "int" if last in _INT_FIELDS else "str"
    if word.lower().startswith(("properties.", "custom_properties.")):
        return _KINDS.get(last, "str")
    return "int" if last == "id" else "str"


def _fit(value: Any, want: str, word: str, q: str) -> Any:
    """``value`` as the column's kind, or a FilterQueryError saying what to write."""
    if want == "str" and isinstance(value, str):
        return value
    if want == "bool" and (isinstance(value, bool) or value in (0, 1)):
        return literal(bool(value), Boolean())  # a bound value, so < and > compile too
    is_num = isinstance(value, int | float) and not isinstance(value, bool)
    if want == "float" and is_num:
        return float(value)
    if want == "int" and is_num and isinstance(value, int):
        if -_INT64 <= value < _INT64:  # bound as BIGINT: MLMD's PostgreSQL ids are int4 columns
            return literal(value, BigInteger())
        raise FilterQueryError(
            f"filter_query {q}: {str(value)[:30]} is outside the 64-bit integer range of "
            f"{word[:40]!r}"
        )
    names = {"str": "a quoted string", "int": "an integer", "float": "a number"}
    raise FilterQueryError(
        f"filter_query {q}: {word[:40]!r} compares with {names.get(want, 'TRUE or FALSE')}, "
        f"not {str(value)[:30]!r}"
    )


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
        f"filter_query {q}: unknown field {word[:40]!r} for {ctx.kind}s; see "
        "docs/reference/filter-query.md"
    )


def _property(ctx: _Ctx, custom: bool, name: str, col: str, q: str) -> tuple[Any, Any]:
    table, owner = s.PROPERTY_TABLES[ctx.kind]
    if col not in ("int_value", "double_value", "string_value", "bool_value"):
        raise FilterQueryError(
            f"filter_query {q}: {col!r} is not int_value, double_value, string_value or bool_value"
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
        raise FilterQueryError(f"filter_query {q}: context fields are id, name and type")
    key = f"{rel}_{alias}"
    if key not in ctx.joins and len(ctx.joins) >= MAX_CONTEXT_JOINS:
        raise FilterQueryError(
            f"filter_query {q} joins more than {MAX_CONTEXT_JOINS} contexts (contexts_ALIAS "
            "names): reuse an alias or split the query"
        )
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
            raise FilterQueryError(f"filter_query {q}: {rel} does not apply to {ctx.kind}s")
    c = ctx.joins[key][1][0]
    if col == "type":
        return select(s.type_table.c.name).where(s.type_table.c.id == c.c.type_id).scalar_subquery()
    return c.c[col]
