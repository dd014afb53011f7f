"""complete(sql, line, column, catalog, options): what fits at the cursor, for an editor.

The text around a cursor rarely parses, so this works on tokens: the word being typed (the
prefix, replaced by the chosen item), what comes right before it (``alias.``, ``FROM``, ``ON``,
a comma), and the clause it is in. Tables in scope are read from the FROM and JOIN items of the
whole text. Only what the caller may see is offered: tables and columns come from
:func:`planner.catalog.visible_tables` and pins, exactly as a preview resolves them.

    SELECT o.| FROM orders o            columns of orders, with their types
    SELECT * FROM ord|                  tables the caller may see, with their state
    … JOIN customers c ON |             the accepted join's condition, then columns
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlglot.tokens import Token, TokenType

from planner.capabilities import functions_for
from planner.catalog import Catalog, LogicalTable, TableVersion, resolved, visible_tables, visible_versions
from planner.errors import PlannerError
from planner.model import PlanOptions
from planner.positions import Range, offset_of, to_range, tokens

TABLE, COLUMN, FUNCTION, JOIN, KEYWORD = "TABLE", "COLUMN", "FUNCTION", "JOIN", "KEYWORD"
MAX_ITEMS = 200

_JOIN_WORDS = {TokenType.JOIN, TokenType.LEFT, TokenType.RIGHT, TokenType.INNER, TokenType.OUTER,
               TokenType.FULL, TokenType.CROSS, TokenType.NATURAL}
_CLAUSES = {TokenType.SELECT: "select", TokenType.FROM: "from", TokenType.JOIN: "from", TokenType.ON: "on",
            TokenType.WHERE: "where", TokenType.GROUP_BY: "group", TokenType.ORDER_BY: "order",
            TokenType.HAVING: "having", TokenType.LIMIT: "limit", TokenType.USING: "on",
            TokenType.QUALIFY: "where", TokenType.WITH: "with"}
_KEYWORDS = {
    "start": ("SELECT", "WITH"),
    "select": ("DISTINCT", "CASE", "WHEN", "THEN", "ELSE", "END", "AS", "FROM", "OVER", "PARTITION BY",
               "FILTER"),
    "from": ("AS", "JOIN", "LEFT JOIN", "INNER JOIN", "FULL JOIN", "CROSS JOIN", "ON", "USING", "WHERE",
             "GROUP BY", "ORDER BY", "LIMIT", "UNION", "UNION ALL", "INTERSECT", "EXCEPT"),
    "on": ("AND", "OR", "NOT", "IS NULL", "IS NOT NULL", "WHERE", "JOIN", "LEFT JOIN", "GROUP BY", "ORDER BY"),
    "where": ("AND", "OR", "NOT", "IN", "EXISTS", "BETWEEN", "LIKE", "IS NULL", "IS NOT NULL", "CASE",
              "GROUP BY", "ORDER BY", "HAVING", "LIMIT"),
    "group": ("HAVING", "ORDER BY", "LIMIT", "ROLLUP", "CUBE", "GROUPING SETS"),
    "having": ("AND", "OR", "NOT", "ORDER BY", "LIMIT"),
    "order": ("ASC", "DESC", "NULLS FIRST", "NULLS LAST", "LIMIT", "OFFSET"),
    "limit": ("OFFSET",),
    "with": ("AS", "SELECT", "RECURSIVE"),
}


@dataclass(frozen=True, slots=True)
class CompletionItem:
    label: str
    kind: str  # TABLE | COLUMN | FUNCTION | JOIN | KEYWORD
    insert_text: str
    detail: str | None = None  # a column's type and table, a table's state, a join's id
    state: str | None = None  # tables: the state of the version a query reaches
    type: str | None = None  # columns: the type of the version a query reaches
    table: str | None = None  # columns: the logical table


@dataclass(frozen=True, slots=True)
class Completion:
    range: Range  # what the chosen item replaces: the word being typed
    items: tuple[CompletionItem, ...]


@dataclass(frozen=True, slots=True)
class _InScope:
    alias: str  # lower case, as columns qualify it
    name: str  # the logical table or the CTE
    columns: tuple[tuple[str, str | None], ...]  # name, type
    where: str  # "orders v2", or "CTE recent"
    table: LogicalTable | None = None  # None for a CTE


def complete(sql: str, line: int, column: int, catalog: Catalog, options: PlanOptions) -> Completion:
    cursor = offset_of(sql, line, column)
    start = cursor
    while start > 0 and (sql[start - 1].isalnum() or sql[start - 1] in "_$"):
        start -= 1
    prefix = sql[start:cursor].lower()
    before = tokens(sql[:start], options.read_dialect)
    everything = tokens(sql, options.read_dialect)
    scope = _tables_in_scope(everything, catalog, options, sql)
    items: list[CompletionItem] = []
    if before and before[-1].token_type is TokenType.DOT:
        qualifier = before[-2].text.lower() if len(before) > 1 else ""
        items = [c for s in scope if s.alias == qualifier for c in _columns(s, qualified=False)]
    else:
        clause = _clause(before)
        last = before[-1].token_type if before else None
        if last in _JOIN_WORDS or (clause == "from" and last in (TokenType.FROM, TokenType.COMMA)):
            ctes = [CompletionItem(n, TABLE, n, detail="CTE") for n in _ctes(everything, sql)]
            return _result(sql, start, cursor, prefix, [*ctes, *_tables(catalog, options)])
        if clause == "start":
            pass
        elif clause in ("on", "where", "select", "group", "order", "having"):
            if clause == "on" and last is TokenType.ON:
                items.extend(_join_conditions(before, scope, catalog))
            items.extend(c for s in scope for c in _columns(s, qualified=len(scope) > 1))
            if clause != "order" or last is not TokenType.ORDER_BY:
                items.extend(_functions(options.warehouse_dialect))
        items.extend(CompletionItem(k, KEYWORD, k) for k in _KEYWORDS.get(clause, ()))
    return _result(sql, start, cursor, prefix, items)


def _result(sql: str, start: int, cursor: int, prefix: str, items: list[CompletionItem]) -> Completion:
    chosen = [i for i in items if _matches(i, prefix)][:MAX_ITEMS]
    return Completion(range=to_range(sql, (start, cursor)), items=tuple(chosen))


def _matches(item: CompletionItem, prefix: str) -> bool:
    if not prefix:
        return True
    label = item.label.lower()
    return label.startswith(prefix) or (item.kind == COLUMN and label.partition(".")[2].startswith(prefix))


def _clause(before: list[Token]) -> str:
    """The clause the cursor is in: the last clause keyword at the cursor's parenthesis depth."""
    depth = 0
    for token in reversed(before):
        kind = token.token_type
        if kind is TokenType.R_PAREN:
            depth += 1
        elif kind is TokenType.L_PAREN:
            if depth == 0:
                continue  # the cursor is inside these parentheses: keep looking outward
            depth -= 1
        elif depth == 0 and kind in _CLAUSES:
            return _CLAUSES[kind]
        elif depth == 0 and kind in _JOIN_WORDS:
            return "from"
    return "start"


@cache
def _functions(warehouse: str) -> tuple[CompletionItem, ...]:
    """What the warehouse runs (natively or through an exact rewrite), from its capability table."""
    seen: dict[str, CompletionItem] = {}
    for spec in functions_for(warehouse):
        seen.setdefault(spec.name, CompletionItem(spec.name, FUNCTION, f"{spec.name}(",
                                                  detail=f"{spec.kind} · {spec.example}"))
    return tuple(sorted(seen.values(), key=lambda i: i.label))


def _tables(catalog: Catalog, options: PlanOptions) -> list[CompletionItem]:
    memo = getattr(catalog, "_memo", None)
    key = ("completion tables", options.may_view_shadow)
    if memo is not None and key in memo:
        return memo[key]  # type: ignore[no-any-return]
    items = [CompletionItem(table.name, TABLE, table.name, detail=f"{shown.state} v{shown.version}",
                            state=shown.state)
             for table, shown in visible_tables(catalog, options.may_view_shadow)]
    if memo is not None:
        memo[key] = items
    return items


def _columns(source: _InScope, qualified: bool) -> list[CompletionItem]:
    return [CompletionItem(f"{source.alias}.{name}" if qualified else name, COLUMN,
                           f"{source.alias}.{name}" if qualified else name,
                           detail=f"{type_ or '?'} · {source.where}", type=type_, table=source.name)
            for name, type_ in source.columns]


def _tables_in_scope(found: list[Token], catalog: Catalog, options: PlanOptions, sql: str) -> list[_InScope]:
    """Tables named right after FROM, JOIN or a comma in a FROM clause, with their aliases: catalog
    tables the caller may see, and CTEs (their columns are those of their query, planned)."""
    pins = {p.table.lower(): p.version for p in options.pins}
    ctes = _ctes(found, sql)
    scope: list[_InScope] = []
    in_from = False
    for i, token in enumerate(found):
        kind = token.token_type
        if kind is TokenType.FROM or kind is TokenType.JOIN:
            in_from = True
        elif kind in _CLAUSES and kind not in (TokenType.FROM, TokenType.JOIN):
            in_from = False
            continue
        elif not (in_from and kind is TokenType.COMMA):
            continue
        if i + 1 >= len(found) or found[i + 1].token_type not in (TokenType.VAR, TokenType.IDENTIFIER):
            continue
        if i + 2 < len(found) and found[i + 2].token_type is TokenType.DOT:
            continue  # schema-qualified: never a logical table
        name = found[i + 1].text.lower()
        alias = name
        j = i + 2
        if j < len(found) and found[j].token_type is TokenType.ALIAS:
            j += 1
        if j < len(found) and found[j].token_type in (TokenType.VAR, TokenType.IDENTIFIER):
            alias = found[j].text.lower()
        if name in ctes:
            columns = _cte_columns(ctes[name], catalog, options)
            scope.append(_InScope(alias, name, columns, f"CTE {name}"))
            continue
        table = catalog.table(name)
        versions = visible_versions(table, options.may_view_shadow) if table is not None else ()
        version = _version(versions, pins.get(name)) if table is not None and versions else None
        if table is None or version is None:
            continue
        scope.append(_InScope(alias, table.name, tuple((c.name, c.type) for c in version.columns),
                              f"{table.name} v{version.version}", table))
    return scope


def _ctes(found: list[Token], sql: str) -> dict[str, str]:
    """``name AS (query)`` of every WITH clause: each CTE's name and the text of its query."""
    ctes: dict[str, str] = {}
    in_with = False
    for i, token in enumerate(found):
        if token.token_type is TokenType.WITH:
            in_with = True
        if not in_with or token.token_type is not TokenType.ALIAS or i == 0 or i + 1 >= len(found):
            continue
        if found[i + 1].token_type is not TokenType.L_PAREN:
            continue
        depth, end = 0, None
        for k in range(i + 1, len(found)):
            depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(found[k].token_type, 0)
            if depth == 0:
                end = k
                break
        if end is not None:
            ctes[found[i - 1].text.lower()] = sql[found[i + 1].end + 1:found[end].start]
    return ctes


def _cte_columns(query: str, catalog: Catalog, options: PlanOptions) -> tuple[tuple[str, str | None], ...]:
    from planner.core import plan  # the CTE is planned like any query: with the same visibility

    try:
        return tuple((c.name, c.type) for c in plan(query, catalog, options).columns)
    except PlannerError:
        return ()


def _version(versions: tuple[TableVersion, ...], pinned: int | None) -> TableVersion | None:
    """The version a preview would read: the pinned one, else the resolved one, else the newest."""
    if pinned is not None:
        return next((v for v in versions if v.version == pinned), None)
    return resolved(versions) or max(versions, key=lambda v: v.version)


def _join_conditions(before: list[Token], scope: list[_InScope], catalog: Catalog) -> list[CompletionItem]:
    """After ``JOIN t [alias] ON``: each accepted join between t and a table before it."""
    tables = [s for s in scope if s.table is not None]
    if len(tables) < 2 or tables[-1] is not scope[-1]:
        return []
    right = scope[-1]
    items: list[CompletionItem] = []
    for join in catalog.accepted_joins():
        for left in tables[:-1]:
            if {join.left_table, join.right_table} != {left.name, right.name}:
                continue
            if join.left_table == left.name:
                pairs = zip(join.left_columns, join.right_columns, strict=False)
                text = " AND ".join(f"{left.alias}.{a} = {right.alias}.{b}" for a, b in pairs)
            else:
                pairs = zip(join.right_columns, join.left_columns, strict=False)
                text = " AND ".join(f"{left.alias}.{a} = {right.alias}.{b}" for a, b in pairs)
            items.append(CompletionItem(text, JOIN, text, detail=f"accepted join {join.id} v{join.version}"))
    return items
