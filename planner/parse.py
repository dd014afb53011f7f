"""parse(sql, dialect) -> AST: exactly one read-only query, checked against the allow-list.

Refusals, in the order they are checked:

- text over ``max_sql_bytes``, a tokenizer or parser error, a recursion overflow -> InvalidSQL
  with the line and column where it happened;
- anything but exactly one SELECT / WITH … SELECT / set operation, or any statement node
  (DML, DDL, INTO, locking clause, PRAGMA, SET, COPY, opaque commands) anywhere -> NotAQuery;
- a function not on the allow-list -> ForbiddenFunction;
- given the warehouse: a function it lacks (and no rule rewrites), an analytic construct it does
  not run -> WarehouseUnsupported; a name longer than it accepts -> WarehouseLimit
  (:mod:`planner.capabilities` holds what each warehouse runs).
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, TokenError

from planner.allowlist import (
    ALLOWED_ANONYMOUS,
    ALLOWED_FUNCTIONS,
    ALLOWED_NODES,
    FORBIDDEN_FUNCTIONS,
    STATEMENT_NODES,
)
from planner.capabilities import WarehouseProfile, constructs_of, function_key, profile
from planner.errors import ForbiddenFunction, InvalidSQL, NotAQuery, WarehouseLimit, WarehouseUnsupported
from planner.positions import Extent, Span, node_span, tree_span, unterminated_span
from planner.rules.portable_functions import rewritable, unsupported_function

_QUERY_ROOTS = (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery)
_PLAIN_IDENTIFIER = re.compile(r"^[\w$]+$")
_TOKEN_CONTEXT = re.compile(r"Error tokenizing '(.*)'", re.S)


def position(sql: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    offset = max(0, min(offset, len(sql)))
    line = sql.count("\n", 0, offset) + 1
    return line, offset - (sql.rfind("\n", 0, offset) + 1) + 1


def parse(sql: str, dialect: str, max_bytes: int = 65_536, warehouse: str | None = None) -> exp.Query:
    size = len(sql.encode("utf-8"))
    if size > max_bytes:
        line, column = position(sql, len(sql.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")))
        raise InvalidSQL(f"The query is {size} bytes; the limit is {max_bytes}. Shorten it or split it.",
                         line=line, column=column)
    statements = _parse_statements(sql, dialect)
    if not statements:
        raise InvalidSQL("The query is empty; write one SELECT statement.", line=1, column=1)
    if len(statements) > 1:
        raise NotAQuery("Only one statement is allowed; remove everything after the first ';'.")
    tree = statements[0]
    if not isinstance(tree, _QUERY_ROOTS):
        raise NotAQuery(f"Only read-only queries (SELECT, WITH … SELECT, UNION …) are allowed, "
                        f"not {_describe(tree)}.")
    check(tree, profile(warehouse) if warehouse is not None else None)
    return tree


def _parse_statements(sql: str, dialect: str) -> list[exp.Expr]:
    try:
        parsed = sqlglot.parse(sql, read=dialect, error_level=ErrorLevel.RAISE)
    except ParseError as e:
        first = e.errors[0] if e.errors else {}
        description = first.get("description") or "could not parse the query"
        raise InvalidSQL(f"Syntax error: {description}.", line=first.get("line") or 1,
                         column=first.get("col") or 1) from None
    except TokenError as e:
        line, column = _token_error_position(sql, str(e))
        raise InvalidSQL("Syntax error: an unterminated string, identifier or comment.",
                         line=line, column=column, span=unterminated_span(sql, dialect)) from None
    except RecursionError:
        raise InvalidSQL("The query is nested too deeply to check; simplify it.", line=1, column=1) from None
    except (SqlglotError, ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
        # The parser can fail in odd ways on hostile input; that is still bad SQL, not a crash.
        raise InvalidSQL(f"Syntax error: {type(e).__name__}.", line=1, column=1) from None
    return [s for s in parsed if s is not None]


def _token_error_position(sql: str, message: str) -> tuple[int, int]:
    match = _TOKEN_CONTEXT.search(message)
    if match:
        found = sql.find(match.group(1))
        if found >= 0:
            return position(sql, found + len(match.group(1)))
    return 1, 1


def check(tree: exp.Expr, warehouse: WarehouseProfile | None = None) -> None:
    """Refuse any node or function not on the allow-list (the whole tree, CTEs included), and,
    given the warehouse's profile, whatever that warehouse cannot run."""
    name_limit = warehouse.max_identifier_bytes if warehouse is not None else None
    for node in tree.walk():
        kind = type(node)
        if isinstance(node, exp.Identifier):
            if not node.quoted and not _PLAIN_IDENTIFIER.match(node.this):
                # e.g. postgres reads SELECT`x as a column named "`x"; other dialects read a quote.
                raise InvalidSQL(f"The name {node.this!r} needs double quotes.", line=node.meta.get("line") or 1,
                                 column=node.meta.get("col") or 1, span=node_span(node))
            if name_limit is not None and len(node.this) * 4 > name_limit:
                _check_name_length(node, name_limit, warehouse)  # type: ignore[arg-type]
            continue
        if warehouse is not None:
            construct = constructs_of(node)
            if construct is not None and not warehouse.runs(construct):
                span, extent = _construct_text(node)
                raise WarehouseUnsupported(
                    f"{construct} does not run on {warehouse.name}, the warehouse of this gateway; "
                    f"{_CONSTRUCT_ADVICE.get(construct, 'rewrite the query without it')}.",
                    warehouse=warehouse.dialect, feature=construct, span=span, extent=extent)
        if isinstance(node, exp.Select):
            _check_select(node)
        if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
            # pg_catalog.pg_read_file(…): a function reached through a schema is still a function.
            raise ForbiddenFunction("Functions called through a schema (schema.function()) are not allowed; "
                                    "call an allowed function by its plain name.")
        if isinstance(node, exp.Func):
            _check_function(node)
            if warehouse is not None and warehouse.lacks:
                key = function_key(node)
                if key in warehouse.lacks and key not in rewritable(warehouse.dialect):
                    raise unsupported_function(node, key, warehouse.dialect)
        elif warehouse is not None and kind.__name__ in warehouse.lacks:
            raise unsupported_function(node, kind.__name__, warehouse.dialect)  # an operator, e.g. ^ on SQLite
        elif kind not in ALLOWED_NODES:
            if kind in STATEMENT_NODES or isinstance(node, exp.DDL | exp.DML):
                raise NotAQuery(f"Only read-only queries are allowed; {_describe(node)} is refused.")
            raise NotAQuery(f"{_describe(node)} is not allowed in a query here.")


_CONSTRUCT_ADVICE = {
    "ROLLUP": "UNION ALL one GROUP BY per level of the rollup",
    "CUBE": "UNION ALL one GROUP BY per combination of columns",
    "GROUPING SETS": "UNION ALL one GROUP BY per grouping set",
    "GROUPING()": "UNION ALL the groupings, each with a constant marking its level",
    "FILTER (WHERE …)": "write SUM(CASE WHEN … THEN x END) instead",
    "LATERAL": "join a grouped subquery instead, or use a window function",
    "WITHIN GROUP": "use a window function such as ROW_NUMBER() over the ordered values",
    "window frame (GROUPS)": "use ROWS or RANGE frames",
}


# Where a construct's text is, from the node the tree gives: the part with positions, and the
# keyword the construct begins with (the tree keeps no position for keywords).
_CONSTRUCT_TEXT: dict[type[exp.Expr], tuple[str, str | None]] = {
    exp.Rollup: ("node", "ROLLUP"), exp.Cube: ("node", "CUBE"), exp.GroupingSets: ("node", "GROUPING"),
    exp.Grouping: ("node", None), exp.Filter: ("expression", "FILTER"), exp.Qualify: ("this", "QUALIFY"),
    exp.Lateral: ("node", "LATERAL"), exp.WithinGroup: ("expression", "WITHIN"),
}


def _construct_text(node: exp.Expr) -> tuple[Span | None, Extent]:
    if isinstance(node, exp.WindowSpec):  # a frame: ROWS/RANGE/GROUPS after the window's ORDER BY
        parts = list(node.parent.iter_expressions()) if node.parent is not None else []
        known = [s for part in parts if part is not node and (s := tree_span(part)) is not None]
        span = (min(s[0] for s in known), max(s[1] for s in known)) if known else None
        return span, Extent(keyword=str(node.args.get("kind") or "ROWS"), after=True)
    part, keyword = _CONSTRUCT_TEXT.get(type(node), ("node", None))
    target = node if part == "node" else node.args.get(part)
    return (tree_span(target) if isinstance(target, exp.Expr) else None), Extent(keyword=keyword)


def _check_name_length(node: exp.Identifier, limit: int, warehouse: WarehouseProfile) -> None:
    size = len(node.this.encode("utf-8"))
    if size > limit:
        raise WarehouseLimit(f"The name {node.this[:40]!r}… is {size} bytes long; {warehouse.name} accepts at "
                             f"most {limit} (it would cut it silently). Use a shorter alias.",
                             warehouse=warehouse.dialect, limit="identifier length", span=node_span(node))


def _check_select(node: exp.Select) -> None:
    # The parser accepts these fragments; the generated SQL would not parse again.
    if not node.expressions:
        raise InvalidSQL("SELECT needs at least one column or expression.", line=1, column=1)
    if node.args.get("joins") and not node.args.get("from_"):
        raise InvalidSQL("A JOIN needs a FROM clause before it.", line=1, column=1)


def _check_function(node: exp.Func) -> None:
    name = node.name if isinstance(node, exp.Anonymous) else type(node).__name__
    allowed = (name.lower() in ALLOWED_ANONYMOUS if isinstance(node, exp.Anonymous)
               else name in ALLOWED_FUNCTIONS)
    if allowed:
        return
    shown = name.upper() if isinstance(node, exp.Anonymous) else node.sql_name()
    if name.lower() in FORBIDDEN_FUNCTIONS:
        raise ForbiddenFunction(f"{shown}() reads files or reaches other systems and is not allowed.",
                                span=node_span(node))
    raise ForbiddenFunction(f"{shown}() is not on the list of allowed functions.", span=node_span(node))


def _describe(node: exp.Expr) -> str:
    key = node.key.upper() if node.key else type(node).__name__.upper()
    return {"COMMAND": f"the command {str(node.this).upper()!r}", "INTO": "SELECT … INTO",
            "LOCK": "a locking clause (FOR UPDATE/SHARE)"}.get(key, key)
