"""Structured queries: columns of several tables, no joins written; the joins come from the catalog.

    build_structured(query, catalog, options) -> SQL     in the analyst's dialect, logical names
    plan_structured(query, catalog, options) -> Plan     the same SQL through :func:`planner.plan`

Every item is parsed with sqlglot into an expression of the kind its place needs (a select item,
a condition, an ORDER BY term); no SQL is ever assembled from strings. The tables the items name
are connected over *accepted* joins only, passing only through auto-joined tables (those that
resolve to an ACTIVE or READ_ONLY version). When the tables cannot be connected the query is
refused naming the tables left apart; when two or more minimal paths exist it is refused with
every alternative spelled out — the planner never picks one silently. The resulting SQL then
goes through :func:`planner.plan` like any analyst's query, so every check, guardrail and the row
cap apply, and the joins show up matched to their accepted ids.

Errors (all :class:`planner.errors.PlannerError`):

    PlannerError
    ├── InvalidStructuredQuery   INVALID_INPUT  (an item of the wrong kind, an unqualified column…)
    ├── NoJoinPath               INVALID_INPUT  (extensions: tables, unconnected)
    └── AmbiguousJoinPath        INVALID_INPUT  (extensions: alternatives, alternativeJoins)

Malformed item text is ``InvalidSQL`` with the line and column inside that item and ``field``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError

from planner.catalog import ACTIVE, READ_ONLY, AcceptedJoin, Catalog
from planner.core import DEFAULT_OPTIONS, plan
from planner.errors import InvalidSQL, PlannerError
from planner.join_paths import JoinPath, find_join_paths
from planner.model import Plan, PlanOptions
from planner.resolve import resolve
from planner.sqlgen import query_sql

# The states a join path may pass through unasked: gateway.domain.STATE_PROPERTIES[...].auto_joined
# (a gateway test pins the two together; the planner may not import the gateway).
AUTO_JOINED_STATES = frozenset({ACTIVE, READ_ONLY})
MAX_ITEMS = 200  # per list: a structured query is something a person or a form writes
ARROW = " → "


class InvalidStructuredQuery(PlannerError):
    code = "INVALID_INPUT"


class NoJoinPath(PlannerError):
    code = "INVALID_INPUT"


class AmbiguousJoinPath(PlannerError):
    code = "INVALID_INPUT"


@dataclass(frozen=True, slots=True)
class StructuredQuery:
    """Items are SQL fragments in the analyst's dialect; columns are written ``table.column``."""

    select: tuple[str, ...]
    where: tuple[str, ...] = ()  # conditions, AND-ed
    group_by: tuple[str, ...] = ()
    order_by: tuple[str, ...] = ()  # each with an optional ASC / DESC
    limit: int | None = None
    via: tuple[str, ...] = ()  # tables the join path must pass through: how an ambiguity is settled


@dataclass(frozen=True, slots=True)
class _Step:
    join: AcceptedJoin
    present: str  # already in FROM
    added: str  # brought in by this JOIN


def plan_structured(query: StructuredQuery, catalog: Catalog, options: PlanOptions = DEFAULT_OPTIONS) -> Plan:
    """Build the SQL of ``query`` and plan it like any other query."""
    return plan(build_structured(query, catalog, options), catalog, options)


def build_structured(query: StructuredQuery, catalog: Catalog, options: PlanOptions = DEFAULT_OPTIONS) -> str:
    """The SELECT a structured query stands for, with explicit ``JOIN … ON`` from accepted joins."""
    dialect = options.read_dialect
    select = _items(query.select, "select", dialect, exp.Expr)
    if not select:
        raise InvalidStructuredQuery("Name at least one column or aggregate in `select`, e.g. \"orders.total\".")
    where = _items(query.where, "where", dialect, exp.Condition)
    group = _items(query.group_by, "groupBy", dialect, exp.Condition)
    order = _items(query.order_by, "orderBy", dialect, exp.Ordered)
    if query.limit is not None and query.limit < 0:
        raise InvalidStructuredQuery("`limit` cannot be negative.", field="limit")
    aliases = {item.alias.lower() for item in select if isinstance(item, exp.Alias)}
    tables: list[str] = []
    for field, items, may_use_alias in (("select", select, False), ("where", where, False),
                                        ("groupBy", group, True), ("orderBy", order, True)):
        for index, item in enumerate(items):
            tables.extend(_tables_of(item, f"{field}[{index}]", aliases if may_use_alias else set()))
    for index, name in enumerate(query.via):
        if not name.strip():
            raise InvalidStructuredQuery(f"via[{index}] is empty; name a table.", field=f"via[{index}]")
        tables.append(name.strip().lower())
    wanted = list(dict.fromkeys(tables))
    if not wanted:
        raise InvalidStructuredQuery("Name at least one column as `table.column` so the query has a table.")
    _check_reachable(wanted, catalog, options)
    steps = _join_steps(wanted, catalog, options)
    tree = exp.select(*select, dialect=dialect, copy=False).from_(_table(wanted[0]), copy=False)
    for step in steps:
        tree = tree.join(_table(step.added), on=_condition(step.join), join_type=_join_type(step), copy=False)
    if where:
        tree = tree.where(*where, copy=False)
    if group:
        tree = tree.group_by(*group, copy=False)
    if order:
        tree = tree.order_by(*order, copy=False)
    if query.limit is not None:
        tree = tree.limit(query.limit, copy=False)
    try:
        return query_sql(tree, dialect)
    except SqlglotError as e:
        raise InvalidSQL(f"This structured query cannot be written in {dialect}: {e}", line=1, column=1) from None


# --- items -----------------------------------------------------------------------------------


def _items(texts: Sequence[str], field: str, dialect: str, into: type[exp.Expr]) -> list[exp.Expr]:
    if len(texts) > MAX_ITEMS:
        raise InvalidStructuredQuery(f"`{field}` has {len(texts)} items; the limit is {MAX_ITEMS}.", field=field)
    parsed = []
    for index, text in enumerate(texts):
        where = f"{field}[{index}]"
        if not text or not text.strip():
            raise InvalidStructuredQuery(f"{where} is empty.", field=where)
        try:
            node = sqlglot.parse_one(text, read=dialect, into=into)
        except ParseError as e:
            detail = e.errors[0] if e.errors else {}
            raise _invalid_sql(f"{where} is not a valid {_KIND[field]}: {text!r}. {_HINT[field]}",
                               where, detail.get("line"), detail.get("col")) from None
        except SqlglotError:
            raise _invalid_sql(f"{where} is not a valid {_KIND[field]}: {text!r}. {_HINT[field]}",
                               where, 1, 1) from None
        if node.find(exp.Query) is not None:
            raise InvalidStructuredQuery(f"{where} contains a subquery; structured queries name columns only. "
                                         "Write SQL for anything more.", field=where)
        parsed.append(node)
    return parsed


_KIND = {"select": "column or aggregate", "where": "condition", "groupBy": "column or expression",
         "orderBy": "ORDER BY term"}
_HINT = {"select": "Write e.g. \"orders.total\" or \"SUM(orders.total) AS revenue\".",
         "where": "Write e.g. \"orders.total > 100\"; several conditions are AND-ed.",
         "groupBy": "Write e.g. \"customers.name\".",
         "orderBy": "Write e.g. \"revenue DESC\" or \"customers.name\"."}


def _invalid_sql(message: str, field: str, line: int | None, column: int | None) -> InvalidSQL:
    error = InvalidSQL(message, line=line, column=column)
    error.extensions["field"] = field
    return error


def _tables_of(item: exp.Expr, where: str, aliases: set[str]) -> list[str]:
    """The tables an item names, refusing what a structured query cannot place."""
    found: list[str] = []
    for star in item.find_all(exp.Star):
        if not isinstance(star.parent, exp.Column | exp.Count):
            raise InvalidStructuredQuery(f"{where}: a bare * names no table; write \"orders.*\" or "
                                         "list the columns.", field=where)
    for column in item.find_all(exp.Column):
        if column.args.get("db") or column.args.get("catalog"):
            raise InvalidStructuredQuery(f"{where}: write columns as table.column, without a schema.", field=where)
        table = column.table
        if not table:
            if column.name.lower() in aliases:
                continue
            raise InvalidStructuredQuery(
                f"{where}: the column {column.name!r} needs its table, as table.column (e.g. orders.total)"
                + (", or the alias of a select item" if where[0] in "go" else "") + ".", field=where)
        found.append(table.lower())
    return found


# --- tables and join paths -----------------------------------------------------------------


def _table(name: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name))


def _check_reachable(wanted: list[str], catalog: Catalog, options: PlanOptions) -> None:
    """TABLE_NOT_FOUND / TABLE_NOT_QUERYABLE exactly as planning the query would say them."""
    probe = exp.select(exp.Star()).from_(_table(wanted[0]), copy=False)
    for name in wanted[1:]:
        probe = probe.join(_table(name), join_type="cross", copy=False)
    resolve(probe, catalog, options)


def _auto_joined(name: str, catalog: Catalog, options: PlanOptions) -> bool:
    """Whether a path may pass through ``name``: the version it resolves to is ACTIVE or READ_ONLY."""
    table = catalog.table(name)
    if table is None:
        return False
    pinned = next((p.version for p in options.pins if p.table.lower() == name), None)
    if pinned is not None:
        version = table.version(pinned)
        return version is not None and version.state in AUTO_JOINED_STATES
    return any(v.state in AUTO_JOINED_STATES for v in table.versions)


def _join_steps(wanted: list[str], catalog: Catalog, options: PlanOptions) -> list[_Step]:
    joins = catalog.accepted_joins()
    names = {t.lower() for j in joins for t in (j.left_table, j.right_table)}
    through = {n for n in names if n in wanted or _auto_joined(n, catalog, options)}
    if len(wanted) < 2:
        return []
    usable = tuple(j for j in joins if j.left_table.lower() in through and j.right_table.lower() in through)
    paths = find_join_paths(wanted, usable, through=through)
    if not paths:
        raise _no_path(wanted, usable)
    ordered = [_order(path, wanted[0]) for path in paths]
    if len(ordered) > 1:
        # Listed in reading order, so the same catalog always gives the same message.
        ordered.sort(key=lambda steps: _describe(steps, wanted[0]))
        described = [_describe(steps, wanted[0]) for steps in ordered]
        raise AmbiguousJoinPath(
            f"{_names(wanted)} can be joined in {len(ordered)} ways over accepted joins: "
            f"{'; or '.join(described)}. Say which: name the table to go through in `via` "
            f"(e.g. via: [\"{_first_difference(ordered, wanted)}\"]), or write the joins in SQL.",
            alternatives=described,
            alternativeJoins=[[f"{s.join.id}@{s.join.version}" for s in steps] for steps in ordered])
    return ordered[0]


def _order(path: JoinPath, root: str) -> list[_Step]:
    """The steps of a join tree in an order where each JOIN adds one table to those present."""
    present = {root}
    pending = list(path.steps)
    ordered: list[_Step] = []
    while pending:
        for step in pending:
            a, b = step.join.left_table.lower(), step.join.right_table.lower()
            if (a in present) != (b in present):
                added = b if a in present else a
                ordered.append(_Step(step.join, a if added == b else b, added))
                present.add(added)
                pending.remove(step)
                break
        else:  # unreachable for a tree containing the root; kept so a bad input cannot loop
            raise NoJoinPath(f"The join path {path.describe()} does not reach {root}.")
    return ordered


def _describe(steps: list[_Step], root: str) -> str:
    """``orders → customers → regions``; a tree is spelled as its chains from the root."""
    children: dict[str, list[str]] = {}
    for step in steps:
        children.setdefault(step.present, []).append(step.added)
    chains: list[list[str]] = []

    def walk(node: str, chain: list[str]) -> None:
        kids = children.get(node, [])
        if not kids:
            chains.append(chain)
        for kid in kids:
            walk(kid, [*chain, kid])

    walk(root, [root])
    return ", ".join(ARROW.join(chain) for chain in chains)


def _first_difference(paths: list[list[_Step]], wanted: list[str]) -> str:
    """A table that only some of the alternatives pass through: naming it in `via` decides."""
    sets = [{s.added for s in steps} | {s.present for s in steps} for steps in paths]
    for table in (t for steps in paths for s in steps for t in (s.present, s.added)):
        if table not in wanted and not all(table in s for s in sets):
            return table
    return wanted[0]


def _no_path(wanted: list[str], joins: Iterable[AcceptedJoin]) -> NoJoinPath:
    graph: dict[str, set[str]] = {}
    for j in joins:
        a, b = j.left_table.lower(), j.right_table.lower()
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set()).add(a)
    seen = {wanted[0]}
    queue = deque([wanted[0]])
    while queue:
        for neighbour in graph.get(queue.popleft(), ()):
            if neighbour not in seen:
                seen.add(neighbour)
                queue.append(neighbour)
    joined = [t for t in wanted if t in seen]
    apart = [t for t in wanted if t not in seen]
    return NoJoinPath(
        f"No accepted join path connects {_names(joined)} with {_names(apart)} (paths may pass only through "
        f"ACTIVE or READ_ONLY tables). Ask an admin to accept a join (`joinCandidates` lists suggestions), "
        f"or write the join in SQL.", tables=wanted, unconnected=apart)


def _names(tables: Sequence[str]) -> str:
    if len(tables) <= 1:
        return "".join(tables)
    return f"{', '.join(tables[:-1])} and {tables[-1]}"


def _condition(join: AcceptedJoin) -> exp.Expr:
    pairs = [exp.EQ(this=exp.column(lc, table=join.left_table.lower()),
                    expression=exp.column(rc, table=join.right_table.lower()))
             for lc, rc in zip(join.left_columns, join.right_columns, strict=True)]
    return exp.and_(*pairs, copy=False) if len(pairs) > 1 else pairs[0]


_FLIPPED = {"LEFT": "RIGHT", "RIGHT": "LEFT"}


def _join_type(step: _Step) -> str:
    """The accepted join's type, seen from the table already present (LEFT turns RIGHT when reversed)."""
    kind = (step.join.join_type or "INNER").upper()
    if step.added == step.join.left_table.lower():
        kind = _FLIPPED.get(kind, kind)
    return kind.lower()
